#!/usr/bin/python3
"""test_bench — checks of the benchmark's own parts, against a real server.

    /usr/bin/python3 bench/test_bench.py [--fetchbench PATH]

- peer_node.mjs, both clients, against `fetchbench serve`: lock mode fetches
  once and every other task hits the cache (the server agrees); nolock
  fetches once per task; a failing URL is counted by kind, exit 1; bad
  usage is one line on stderr, exit 2.
- peer_node.mjs's Mutex: waiters get the lock in arrival order, handed over
  (no task arriving later overtakes one that waits), and it ends unlocked.
- run.read_report: a real v1 report of the binary, and a v2 report built
  from docs/report-v2.md's example with two runs, one task per line.

Exit 0 when every check passes; each failure is one line on stderr.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
BENCH = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import run  # noqa: E402

FAILS = []


def check(cond, what):
    print(f"{'ok  ' if cond else 'FAIL'} {what}", file=sys.stderr)
    if not cond:
        FAILS.append(what)


def node(*args):
    p = subprocess.run([run.NODE, os.path.join(BENCH, "peer_node.mjs"), *args],
                       capture_output=True, text=True, timeout=120)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr


def test_peer_node(srv):
    for client in ("fetch", "http"):
        before = srv.stats()["requests"]
        rc, doc, err = node("--client", client, "-n", "500", "--mode", "lock",
                            "--url", srv.base + "delay/50")
        saw = srv.stats()["requests"] - before
        check(rc == 0 and doc and doc["upstream_requests"] == 1 and doc["cache_hits"] == 499
              and doc["succeeded"] == 500 and doc["errors"] == {"total": 0} and saw == 1,
              f"node {client} lock: 1 fetch, 499 hits, server saw 1 (rc {rc}, saw {saw}, "
              f"{err.strip()[:200]})")
        check(doc and doc["wall_us"] >= 50_000 and doc["maxrss_kb"] > 0,
              f"node {client} lock: wall covers the 50 ms delay, peak RSS reported")
        before = srv.stats()["requests"]
        rc, doc, _ = node("--client", client, "-n", "40", "--mode", "nolock",
                          "--url", srv.base + "delay/50")
        saw = srv.stats()["requests"] - before
        check(rc == 0 and doc and doc["upstream_requests"] == 40 and saw == 40,
              f"node {client} nolock: 40 fetches, server saw {saw}")
        rc, doc, _ = node("--client", client, "-n", "3", "--url", srv.base + "no/such/path")
        check(rc == 1 and doc and doc["errors"].get("HttpStatusError") == 3
              and doc["errors"]["total"] == 3 and doc["succeeded"] == 0,
              f"node {client}: a 404 is an error by kind, exit 1 (rc {rc})")
    for bad in (["--url", "ftp://x/"], ["--url", "http://x/", "-n", "0"],
                ["--url", "http://x/", "--mode", "both"],
                ["--url", "http://x/", "--client", "curl"], ["--bogus"], []):
        rc, doc, err = node(*bad)
        lines = [ln for ln in err.splitlines() if ln.startswith("peer_node.mjs:")]
        check(rc == 2 and doc is None and len(lines) == 1,
              f"node {' '.join(bad) or '(no args)'}: exit 2, one line naming the problem")


MUTEX_CHECK = r"""
import { Mutex } from "BENCH/peer_node.mjs";
const m = new Mutex();
const order = [];
let holders = 0, maxHolders = 0;
async function task(i, hold) {
    await m.acquire();
    holders += 1;
    maxHolders = Math.max(maxHolders, holders);
    order.push(i);
    if (hold) await new Promise((r) => setTimeout(r, 5));
    holders -= 1;
    m.release();
}
const all = [];
for (let i = 0; i < 1000; i++) all.push(task(i, i % 100 === 0));  // ten 5 ms holds
// late arrivals while the others wait or hold: each must queue behind them
for (let i = 1000; i < 1025; i++) {
    await new Promise((r) => setTimeout(r, 2));
    all.push(task(i, false));
}
await Promise.all(all);
const inOrder = order.length === 1025 && order.every((v, i) => v === i);
process.stdout.write(JSON.stringify({ inOrder, maxHolders, locked: m.locked }) + "\n");
"""


def test_mutex():
    p = subprocess.run([run.NODE, "--input-type=module", "-e",
                        MUTEX_CHECK.replace("BENCH", BENCH)],
                       capture_output=True, text=True, timeout=60)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    check(p.returncode == 0 and doc == {"inOrder": True, "maxHolders": 1, "locked": False},
          f"Mutex: 1025 tasks (25 arriving late) hold it one at a time, in arrival order, "
          f"free at the end ({p.stdout.strip()} "
          f"{p.stderr.strip()[:200]})")


def test_read_report(fb, srv, tmp):
    path = os.path.join(tmp, "v1.json")
    with open(path, "w") as out:
        p = subprocess.run([fb, "-n", "200", "--mode", "lock", "--url", srv.base + "delay/10",
                            "-q"], stdout=out, stderr=subprocess.PIPE, text=True, timeout=60)
    rep = run.read_report(path)
    check(p.returncode == 0 and rep["config"]["tasks"] == 200 and len(rep["runs"]) == 1
          and rep["runs"][0]["summary"]["upstream_requests"] == 1
          and rep["runs"][0]["mode"] == "lock",
          f"read_report: the binary's own report ({rep['schema']}): one lock run, 1 fetch")
    spec = os.path.join(ROOT, "docs", "report-v2.md")
    if not os.path.exists(spec):
        print("skip read_report v2: no docs/report-v2.md", file=sys.stderr)
        return
    with open(spec) as f:
        doc = json.loads(f.read().split("```json\n")[1].split("```")[0])
    second = copy.deepcopy(doc["runs"][0])
    second["mode"] = "nolock"
    second["summary"]["upstream_requests"] = 20
    second["server"]["max_in_service"] = 8
    doc["runs"].append(second)
    path = os.path.join(tmp, "v2.json")
    with open(path, "w") as f:  # streamed as fetchbench writes it: one task per line
        head = {k: v for k, v in doc.items() if k not in ("runs", "repeats", "expectations",
                                                           "interrupted")}
        f.write(json.dumps(head)[:-1] + ',\n "runs": [\n')
        for i, r in enumerate(doc["runs"]):
            meta = {k: v for k, v in r.items() if k not in ("tasks", "interrupted")}
            f.write("  " + json.dumps(meta)[:-1] + ',\n   "tasks": [\n')
            f.write(",\n".join("    " + json.dumps(t, separators=(",", ":"))
                               for t in r["tasks"]))
            f.write('\n   ], "interrupted": false}' + ("," if i == 0 else "") + "\n")
        f.write(' ],\n "repeats": ' + json.dumps(doc["repeats"]) + ',\n "interrupted": false}\n')
    with open(path) as f:
        json.load(f)  # the test's own file must be valid JSON
    rep = run.read_report(path)
    got = [(x["mode"], x["summary"]["upstream_requests"], (x["server"] or {}).get(
        "max_in_service")) for x in rep["runs"]]
    check(rep["schema"] == "fetchbench/2" and got == [("lock", 1, 1), ("nolock", 20, 8)],
          f"read_report: a v2 report's runs[i].summary and server, in order ({got})")


def main():
    p = argparse.ArgumentParser(prog="test_bench.py")
    p.add_argument("--fetchbench",
                   default=os.environ.get("FETCHBENCH") or os.path.join(ROOT, "fetchbench"))
    args = p.parse_args()
    if not run.NODE:
        print("test_bench: node is not installed (scripts/setup bench)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fb-test-bench-") as tmp, \
            run.Server(args.fetchbench) as srv:
        test_peer_node(srv)
        test_mutex()
        test_read_report(args.fetchbench, srv, tmp)
    print(f"test_bench: {len(FAILS)} failed" if FAILS else "test_bench: all passed",
          file=sys.stderr)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
