#!/usr/bin/python3
"""test_bench — checks of the benchmark's own parts, against a real server.

    /usr/bin/python3 bench/test_bench.py [--fetchbench PATH] [--only LIST]

- peer_node.mjs, both clients, against `fetchbench serve`: lock mode fetches
  once and every other task hits the cache (the server agrees); nolock
  fetches once per task; a failing URL is counted by kind, exit 1; bad
  usage is one line on stderr, exit 2.
- peer_node.mjs's Mutex: waiters get the lock in arrival order, handed over
  (no task arriving later overtakes one that waits), and it ends unlocked.
- run.read_report: a real v1 report of the binary, and a v2 report built
  from docs/report-v2.md's example with two runs, one task per line.
- run.py --only strategies --quick, into a copy of results/bench: each
  strategy alone, interleaved (lock nolock lock nolock), then one checked
  run each whose summary is that strategy's (lock: stampede 1, fewer
  fetches than nolock's stampede); a mode the binary refuses is skipped,
  not run; CPU and RSS per task from the run's own rusage; the targets
  judged per strategy; the other sections and builds kept as they were.
  $STRATEGIES_TEST_MODES (default lock,nolock) names the two strategies:
  the first must defend a key, the second must stampede.

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


def test_strategies(fb, tmp):
    defended, stampeding = (os.environ.get("STRATEGIES_TEST_MODES") or "lock,nolock").split(",")
    out = os.path.join(tmp, "bench")
    os.makedirs(out)
    prev_path = os.path.join(ROOT, "results", "bench", "results.json")
    prev = None
    if os.path.exists(prev_path):  # running a subset must keep the rest
        with open(prev_path) as f:
            prev = json.load(f)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(prev, f)
    p = subprocess.run([run.PYTHON, os.path.join(BENCH, "run.py"), "--only", "strategies",
                        "--quick", "--runs", "2", "--out-dir", out, "--fetchbench", fb,
                        "--label", "test", "--strategies-modes",
                        f"{defended},no_such_mode,{stampeding}"],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"strategies: run.py exits 0 (rc {p.returncode}, "
                             f"{p.stderr.strip()[-300:]})")
    with open(os.path.join(out, "results.json")) as f:
        doc = json.load(f)
    sec = doc["builds"]["test"]["sections"]["strategies"]
    timed = [r for r in sec["runs"] if not r["checked"]]
    checked = [r for r in sec["runs"] if r["checked"]]
    order = [r["strategy"] for r in timed]
    check(order == [defended, stampeding] * 2 and [r["strategy"] for r in checked]
          == [defended, stampeding],
          f"strategies: timed runs interleaved S1 S2 S1 S2, then one checked run each ({order})")
    check(list(sec["config"]["skipped"]) == ["no_such_mode"]
          and "no_such_mode" in sec["config"]["skipped"]["no_such_mode"]
          and sec["config"]["measured"] == [defended, stampeding],
          f"strategies: a mode the binary refuses is skipped with its reason, not run "
          f"({sec['config']['skipped']})")
    check(all(r["rc"] == 0 and r["tasks"] == 10_000 and r["total_tasks"] == 10_000
              and abs(r["cpu_us_per_task"] - (r["utime_s"] + r["stime_s"]) * 1e6 / 10_000)
              < 1e-6 and r["cpu_us_per_task"] > 0
              and r["rss_bytes_per_task"] == r["maxrss_kb"] * 1024 / 10_000 for r in timed),
          "strategies: each run's CPU and RSS per task are its own rusage over its 10,000 tasks")
    per = {r["strategy"]: (r.get("per_run") or [{}])[0] for r in checked}
    d, s = per.get(defended, {}), per.get(stampeding, {})
    check(d.get("mode") == defended and s.get("mode") == stampeding
          and d.get("tasks") == 10_000 and s.get("tasks") == 10_000,
          f"strategies: each checked run's summary is its own strategy's "
          f"({d.get('mode')}, {s.get('mode')})")
    check(d.get("stampede_max") == 1 and (s.get("stampede_max") or 0) > 1
          and 0 < d.get("upstream_requests", 0) < s.get("upstream_requests", 0) / 2
          and d.get("errors") == 0 and s.get("errors") == 0,
          f"strategies: {defended} fetches each key once at a time (stampede "
          f"{d.get('stampede_max')}, {d.get('upstream_requests')} fetches), {stampeding} "
          f"stampedes (stampede {s.get('stampede_max')}, {s.get('upstream_requests')} fetches)")
    ts = doc.get("strategy_targets", [])
    got = sorted((t["strategy"], t["key"], t["met"] is None) for t in ts)
    want = sorted([(m, k, m == "no_such_mode") for m in (defended, stampeding, "no_such_mode")
                   for k in ("cpu", "mem")])
    check(got == want and all(t["judged_on"] == "test" for t in ts)
          and all(isinstance(t["met"], bool) == (t["measured"] is not None) for t in ts),
          f"strategies: both targets judged for each strategy measured, not for the skipped "
          f"({got})")
    with open(os.path.join(out, "README.md")) as f:
        md = f.read()
    check("## Strategy targets" in md and "### Per strategy" in md
          and f"\n| {defended} | 10,000 |" in md and f"\n| {stampeding} | 10,000 |" in md
          and "**no_such_mode**" in md,
          "strategies: README has the targets, the per-strategy table and the skipped mode")
    if prev is None:
        print("skip strategies keeps the rest: no results/bench/results.json", file=sys.stderr)
        return
    kept_builds = all(doc["builds"].get(k) == v for k, v in prev.get("builds", {}).items())
    check(kept_builds and doc["sections"] == prev["sections"]
          and all(list(t["by_label"]) == list(prev_t["by_label"]) for t, prev_t
                  in zip(doc["engine_targets"], prev.get("engine_targets", []))),
          "strategies: the other builds and sections are kept, the engine targets do not "
          "gain a column for a build without their sections")


TESTS = ("peer_node", "mutex", "read_report", "strategies")


def main():
    p = argparse.ArgumentParser(prog="test_bench.py")
    p.add_argument("--fetchbench",
                   default=os.environ.get("FETCHBENCH") or os.path.join(ROOT, "fetchbench"))
    p.add_argument("--only", default=",".join(TESTS),
                   help=f"comma-separated tests from {','.join(TESTS)} (default all)")
    args = p.parse_args()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    if not only or any(x not in TESTS for x in only):
        print(f"test_bench: --only: choose from {','.join(TESTS)}, not {args.only!r}",
              file=sys.stderr)
        return 2
    if not run.NODE and {"peer_node", "mutex"} & set(only):
        print("test_bench: node is not installed (scripts/setup bench)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fb-test-bench-") as tmp, \
            run.Server(args.fetchbench) as srv:
        if "peer_node" in only:
            test_peer_node(srv)
        if "mutex" in only:
            test_mutex()
        if "read_report" in only:
            test_read_report(args.fetchbench, srv, tmp)
        if "strategies" in only:
            test_strategies(args.fetchbench, tmp)
    print(f"test_bench: {len(FAILS)} failed" if FAILS else "test_bench: all passed",
          file=sys.stderr)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
