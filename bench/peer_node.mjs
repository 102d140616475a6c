#!/usr/bin/env node
// peer_node — fetchbench's experiment as a plain Node.js program.
//
//     node bench/peer_node.mjs --url URL [--tasks N] [--mode lock|nolock]
//                              [--client fetch|http]
//
// The Node twin of bench/peer_asyncio.py, line for line: N async tasks are
// started at once and awaited with Promise.all; each looks the URL up in a
// shared Map cache and fetches it on a miss.  In lock mode one FIFO mutex
// guards check-cache/fetch/store, so one task fetches and the rest hit the
// cache; in nolock mode every task that misses fetches (a stampede).
// Nothing is recorded per task: this is a baseline, like the asyncio peer.
//
// --client fetch   the built-in fetch (undici, Node >= 18), whole body read
//                  with arrayBuffer(); it goes through undici's global pool,
//                  since Node exposes no per-call dispatcher without the
//                  undici package.
// --client http    http.get / https.get with a new Agent per fetch,
//                  destroyed after the body is read (asyncio's peer opens a
//                  new ClientSession per fetch: one connection each).
//
// Prints one JSON object on stdout with the fields peer_asyncio.py prints
// (bench/run.py reads either): wall_us (from just before the tasks are
// created to the end of Promise.all), upstream_requests, cache_hits, errors
// by kind, and this process's peak RSS.  Exit status 0 when every task
// succeeded, 1 otherwise, 2 on bad usage.

import http from "node:http";
import https from "node:https";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const USAGE = "usage: peer_node.mjs --url URL [--tasks N] [--mode lock|nolock] " +
    "[--client fetch|http]";

// A FIFO mutex with asyncio.Lock's semantics: acquire is immediate when the
// lock is free and nobody waits; release hands the lock straight to the
// first waiter (it stays locked), so no later arrival can overtake.  The
// waiters are a head-indexed array, not Array.shift: shift on a million
// entries copies the array each time (V8 cannot trim large arrays in place).
export class Mutex {
    constructor() {
        this.locked = false;
        this.waiters = [];
        this.head = 0;
    }

    acquire() {
        if (!this.locked) {
            this.locked = true;
            return Promise.resolve();
        }
        return new Promise((resolve) => this.waiters.push(resolve));
    }

    release() {
        if (this.head < this.waiters.length) {
            const next = this.waiters[this.head];
            this.waiters[this.head++] = undefined;
            if (this.head === this.waiters.length) {
                this.waiters = [];
                this.head = 0;
            }
            next();
            return;
        }
        this.locked = false;
    }
}

class HttpStatusError extends Error {
    constructor(status) {
        super(`HTTP ${status}`);
        this.name = "HttpStatusError";
    }
}

// The body of one GET as a Buffer, with http.get on a fresh Agent.
function getHttp(url) {
    const mod = url.startsWith("https:") ? https : http;
    const agent = new mod.Agent({ keepAlive: false });
    return new Promise((resolve, reject) => {
        const req = mod.get(url, { agent }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                agent.destroy();
                if (res.statusCode >= 400)
                    reject(new HttpStatusError(res.statusCode));
                else
                    resolve(Buffer.concat(chunks));
            });
        });
        req.on("error", (e) => {
            agent.destroy();
            reject(e);
        });
    });
}

async function getFetch(url) {
    const resp = await fetch(url);
    const body = await resp.arrayBuffer(); // read even on an error status: frees the socket
    if (resp.status >= 400)
        throw new HttpStatusError(resp.status);
    return body;
}

// A failure's name: fetch wraps the socket's error in a TypeError ("fetch
// failed") whose cause has the code; a bare Error (fetch's "bad port") says
// what it is only in its message.
function errorKind(e) {
    const inner = e && e.cause ? e.cause : e;
    if (!inner)
        return "Error";
    if (inner.code)
        return inner.code;
    return inner.name && inner.name !== "Error" ? inner.name : `Error: ${inner.message}`;
}

// The state every task shares: the cache, the lock and the counters.
class Run {
    constructor(url, mode, client) {
        this.url = url;
        this.mode = mode;
        this.get = client === "http" ? getHttp : getFetch;
        this.cache = new Map();
        this.lock = new Mutex();
        this.upstream = 0;
        this.hits = 0;
        this.errors = {};
    }

    async fetch() {
        this.upstream += 1;
        return this.get(this.url);
    }

    async checkFetchStore() {
        const body = this.cache.get(this.url);
        if (body !== undefined) {
            this.hits += 1;
            return;
        }
        this.cache.set(this.url, await this.fetch());
    }

    async task() {
        try {
            if (this.mode === "lock") {
                await this.lock.acquire();
                try {
                    await this.checkFetchStore();
                } finally {
                    this.lock.release();
                }
            } else {
                await this.checkFetchStore();
            }
            return true;
        } catch (e) { // counted by kind: a failure must not hide
            const kind = errorKind(e);
            this.errors[kind] = (this.errors[kind] || 0) + 1;
            return false;
        }
    }
}

async function experiment(args) {
    const run = new Run(args.url, args.mode, args.client);
    const t0 = process.hrtime.bigint();
    const tasks = new Array(args.tasks);
    for (let i = 0; i < args.tasks; i++)
        tasks[i] = run.task();
    const results = await Promise.all(tasks);
    const wallUs = Number((process.hrtime.bigint() - t0) / 1000n);
    let ok = 0;
    for (const r of results)
        ok += r ? 1 : 0;
    return {
        tool: "peer_node",
        node: process.versions.node,
        client: args.client,
        undici: process.versions.undici ?? null,
        tasks: args.tasks,
        mode: args.mode,
        url: args.url,
        wall_us: wallUs,
        upstream_requests: run.upstream,
        cache_hits: run.hits,
        succeeded: ok,
        errors: { ...run.errors, total: args.tasks - ok },
    };
}

function usage(msg) {
    process.stderr.write(`peer_node.mjs: ${msg}\n${USAGE}\n`);
    process.exit(2);
}

function parse(argv) {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv, strict: true, allowPositionals: false,
            options: {
                url: { type: "string" },
                tasks: { type: "string", short: "n", default: "20" },
                mode: { type: "string", short: "m", default: "lock" },
                client: { type: "string", default: "fetch" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (e) {
        usage(e.message);
    }
    if (values.help) {
        process.stdout.write(USAGE + "\n");
        process.exit(0);
    }
    if (!values.url)
        usage("--url is required");
    if (!/^https?:\/\//.test(values.url))
        usage(`--url: not an http(s) URL: ${values.url}`);
    if (!/^[0-9]+$/.test(values.tasks) || Number(values.tasks) < 1 ||
        !Number.isSafeInteger(Number(values.tasks)))
        usage(`--tasks: must be a whole number of at least 1, not '${values.tasks}'`);
    if (values.mode !== "lock" && values.mode !== "nolock")
        usage(`--mode: 'lock' or 'nolock', not '${values.mode}'`);
    if (values.client !== "fetch" && values.client !== "http")
        usage(`--client: 'fetch' or 'http', not '${values.client}'`);
    return { url: values.url, tasks: Number(values.tasks), mode: values.mode,
             client: values.client };
}

// Run only as a program: bench/test_bench.py imports Mutex to check its order.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const args = parse(process.argv.slice(2));
    const report = await experiment(args);
    report.maxrss_kb = process.resourceUsage().maxRSS; // kilobytes, as getrusage's
    process.stdout.write(JSON.stringify(report) + "\n");
    process.exitCode = report.errors.total === 0 ? 0 : 1;
}
