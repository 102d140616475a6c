#!/usr/bin/python3
"""peer_asyncio — fetchbench's experiment as a plain asyncio + aiohttp program.

    peer_asyncio.py --url URL [--tasks N] [--mode lock|nolock]

N coroutines are gathered at once; each looks the URL up in a shared dict
cache and fetches it on a miss, with a new aiohttp.ClientSession per fetch.
In lock mode one asyncio.Lock guards check-cache/fetch/store, so one task
fetches and the rest hit the cache; in nolock mode every task that misses
fetches (a stampede).  Nothing is recorded per task: this is the baseline
fetchbench's timeline recording is compared against.

Prints one JSON object on stdout: wall_us (from just before the tasks are
created to the end of gather), upstream_requests, cache_hits, errors by
exception type, and this process's peak RSS.  Exit status 0 when every task
succeeded, 1 otherwise, 2 on bad usage.
"""
import argparse
import asyncio
import json
import resource
import sys
import time

import aiohttp


class Run:
    """The state every task shares: the cache, the lock and the counters."""

    def __init__(self, url, mode):
        self.url = url
        self.mode = mode
        self.cache = {}
        self.lock = asyncio.Lock()
        self.upstream = 0
        self.hits = 0
        self.errors = {}

    async def fetch(self):
        self.upstream += 1
        async with aiohttp.ClientSession() as session:
            async with session.get(self.url) as resp:
                resp.raise_for_status()
                return await resp.read()

    async def check_fetch_store(self):
        body = self.cache.get(self.url)
        if body is not None:
            self.hits += 1
            return
        self.cache[self.url] = await self.fetch()

    async def task(self):
        try:
            if self.mode == "lock":
                async with self.lock:
                    await self.check_fetch_store()
            else:
                await self.check_fetch_store()
            return True
        except Exception as e:  # counted by kind: a failure must not hide
            kind = type(e).__name__
            self.errors[kind] = self.errors.get(kind, 0) + 1
            return False


async def experiment(args):
    run = Run(args.url, args.mode)
    t0 = time.monotonic_ns()
    results = await asyncio.gather(*(run.task() for _ in range(args.tasks)))
    wall_us = (time.monotonic_ns() - t0) // 1000
    ok = sum(results)
    return {
        "tool": "peer_asyncio",
        "python": sys.version.split()[0],
        "aiohttp": aiohttp.__version__,
        "tasks": args.tasks,
        "mode": args.mode,
        "url": args.url,
        "wall_us": wall_us,
        "upstream_requests": run.upstream,
        "cache_hits": run.hits,
        "succeeded": ok,
        "errors": dict(run.errors, total=args.tasks - ok),
    }


def parse_args(argv):
    p = argparse.ArgumentParser(prog="peer_asyncio.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the URL every task fetches")
    p.add_argument("-n", "--tasks", type=int, default=20, help="coroutines gathered at once")
    p.add_argument("-m", "--mode", choices=("lock", "nolock"), default="lock")
    args = p.parse_args(argv)
    if args.tasks < 1:
        p.error("--tasks: must be at least 1")
    return args


def main():
    args = parse_args(sys.argv[1:])
    report = asyncio.run(experiment(args))
    report["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0 if report["errors"]["total"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
