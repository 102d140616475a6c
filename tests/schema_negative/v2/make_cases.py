#!/usr/bin/python3
"""Regenerates the broken fetchbench/2 reports in this directory from the
hand-made good ones in good/: each case changes one thing, so that one
check refuses it (tests/e2e/test_schema.sh names the check's words).
Usage: make_cases.py              rewrite every case here
       make_cases.py --check      exit 1 when a case here is not what
                                  this script would write
       make_cases.py --big N OUT  write a valid report of N tasks per run
                                  (a multiple of 4) for timing the checkers"""
import copy
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def good(name):
    return json.loads((HERE / "good" / f"{name}.json").read_text())


def dump(doc):
    """The writer's layout: one task per line."""
    def runs_text(runs):
        out = []
        for r in runs:
            head = {k: v for k, v in r.items() if k != "tasks"}
            body = json.dumps(head)[:-1]
            tasks = ",\n".join(json.dumps(t, separators=(",", ":")) for t in r.get("tasks", []))
            if "tasks" in r:
                body += ', "tasks": [\n' + tasks + "\n]"
            out.append(body + "}")
        return "[\n" + ",\n".join(out) + "\n]"
    parts = []
    for k, v in doc.items():
        if k == "runs" and isinstance(v, list):
            parts.append(f'"{k}": ' + runs_text(v))
        else:
            parts.append(f'"{k}": ' + json.dumps(v))
    return "{" + ",\n".join(parts) + "}\n"


def reorder(doc, keys):
    return {k: doc[k] for k in keys}


CASES = {}


def case(name, base="lock-nolock"):
    def register(fn):
        CASES[name] = (base, fn)
        return fn
    return register


def edit(name, base, fn):
    CASES[name] = (base, fn)


def run(d, i):
    return d["runs"][i]


def task(d, i, j):
    return d["runs"][i]["tasks"][j]


def setitem(obj, key, value):
    obj[key] = value


# -- the schema refuses ---------------------------------------------------
edit("unknown-top-key", "lock-nolock", lambda d: d.update(reorder(
    dict(d, verdict="fast"), [*list(d)[:-1], "verdict", "interrupted"])))
edit("unknown-run-key", "lock-nolock", lambda d: setitem(run(d, 1), "note", "x"))
edit("unknown-summary-key", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "retries", 0))
edit("unknown-task-key", "lock-nolock", lambda d: setitem(task(d, 0, 1), "note", "x"))
edit("unknown-workload-key", "lock-nolock", lambda d: setitem(d["config"]["workload"], "burst", 2))
edit("span-two-elements", "lock-nolock", lambda d: setitem(task(d, 0, 0)["spans"], 1, ["lock_wait", 20]))
edit("span-four-elements", "lock-nolock", lambda d: task(d, 0, 0)["spans"][1].append(0))
edit("span-state-number", "lock-nolock", lambda d: setitem(task(d, 0, 0)["spans"][0], 0, 3))
edit("span-negative", "lock-nolock", lambda d: setitem(task(d, 1, 1)["spans"][0], 1, -1))
edit("integer-beyond-2-53", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "wall_us", 2 ** 53 + 1))
edit("outcome-empty", "lock-nolock", lambda d: setitem(task(d, 1, 3), "outcome", ""))
edit("error-without-message", "lock-nolock", lambda d: task(d, 1, 2)["error"].pop("message"))
edit("vocabulary-missing", "lock-nolock", lambda d: d.pop("vocabulary"))
edit("state-without-wait", "lock-nolock", lambda d: d["vocabulary"]["states"][0].pop("wait"))
edit("latency-missing-p99", "lock-nolock", lambda d: run(d, 0)["summary"]["latency_us"].pop("p99"))
edit("wait-negative", "lock-nolock", lambda d: setitem(run(d, 1)["summary"]["wait_us"], "lock_wait", -1))
edit("server-missing-samples", "lock-nolock", lambda d: run(d, 0)["server"].pop("in_service_samples"))
edit("threads-baseline-zero", "lock-nolock", lambda d: setitem(run(d, 0)["threads"], "baseline", 0))
edit("load-unknown-source", "lock-nolock", lambda d: setitem(run(d, 0)["load"], "source", "guess"))
edit("expectation-without-mode", "lock-nolock", lambda d: d["expectations"][0].pop("mode"))
edit("repeats-missing-median", "repeat-interrupted", lambda d: d["repeats"][0].pop("median"))
edit("schema-unknown", "lock-nolock", lambda d: setitem(d, "schema", "fetchbench/3"))

# -- not strict JSON: both refuse (text edits, in dump_case) ---------------
TEXT = {
    "duplicate-key-in-task": ("lock-nolock", '{"id":1,"key":0,', '{"id":1,"key":0,"key":0,'),
    "nan-in-span": ("lock-nolock", '["cache_check",15,18]', '["cache_check",15,NaN]'),
    "number-beyond-double": ("lock-nolock", '"wall_us": 100800', '"wall_us": 1e400'),
}

# -- the schema accepts, an invariant refuses ------------------------------
edit("vocab-state-twice", "lock-nolock", lambda d: d["vocabulary"]["states"].append(
    dict(d["vocabulary"]["states"][1])))
edit("vocab-outcome-twice", "lock-nolock", lambda d: d["vocabulary"]["outcomes"].append(
    {"name": "error", "ok": True}))
edit("run-mode-unknown", "lock-nolock", lambda d: setitem(run(d, 1), "mode", "spin"))
edit("runs-not-interleaved", "lock-nolock", lambda d: setitem(d["config"], "modes", ["nolock", "lock"]))
edit("run-after-interrupted", "repeat-interrupted", lambda d: setitem(run(d, 0), "interrupted", True))
edit("task-id", "lock-nolock", lambda d: setitem(task(d, 0, 2), "id", 3))
edit("task-key-out-of-range", "lock-nolock", lambda d: setitem(task(d, 0, 3), "key", 2))
edit("arrival-decreasing", "lock-nolock", lambda d: setitem(task(d, 0, 3), "arrival_us", 50))
edit("arrival-differs", "lock-nolock", lambda d: setitem(task(d, 1, 3), "arrival_us", 240))
edit("key-differs", "lock-nolock", lambda d: setitem(task(d, 1, 3), "key", 0))
edit("outcome-unknown", "lock-nolock", lambda d: setitem(task(d, 1, 3), "outcome", "sleeping"))
edit("task-ends-before-start", "lock-nolock", lambda d: setitem(task(d, 1, 3), "end_us", 240))
edit("cancelled-not-interrupted", "lock-nolock", lambda d: setitem(task(d, 0, 1), "outcome", "cancelled"))
edit("task-past-wall", "lock-nolock", lambda d: setitem(run(d, 1)["summary"], "wall_us", 100700))
edit("error-stage-unknown", "lock-nolock", lambda d: setitem(task(d, 1, 2)["error"], "stage", "quic"))
edit("error-on-ok-outcome", "lock-nolock", lambda d: setitem(task(d, 0, 0), "error",
                                                              {"stage": "read", "message": "short"}))
edit("error-without-error", "lock-nolock", lambda d: task(d, 1, 2).pop("error"))
edit("shared-error-without-error", "coalesce", lambda d: task(d, 0, 1).pop("error"))
edit("cancelled-not-at-wall", "repeat-interrupted", lambda d: task(d, 1, 2).update(
    start_us=49000, end_us=49000))


@case("start-before-arrival")
def _(d):
    t = task(d, 0, 2)
    t["start_us"] = 99
    t["spans"][0][1] = 99


edit("span-state-unknown", "lock-nolock", lambda d: setitem(task(d, 0, 1)["spans"][4], 0, "sleeping"))
edit("span-ends-before-start", "lock-nolock", lambda d: setitem(task(d, 1, 0)["spans"][3], 2, 20))
edit("span-outside-task", "lock-nolock", lambda d: setitem(task(d, 0, 1)["spans"][4], 2, 100650))


@case("spans-out-of-order")
def _(d):
    sp = task(d, 1, 0)["spans"]
    sp[0], sp[1] = sp[1], sp[0]


edit("span-crosses-enclosing", "lock-nolock", lambda d: setitem(task(d, 0, 0)["spans"][2], 2, 100500))
edit("spans-overlap", "lock-nolock", lambda d: setitem(task(d, 1, 0)["spans"][0], 2, 16))


@case("fetch-out-of-order")
def _(d):
    sp = task(d, 1, 0)["spans"]
    sp[3][0], sp[4][0] = "request", "connect"


edit("fetch-repeated", "lock-nolock", lambda d: setitem(task(d, 1, 0)["spans"][4], 0, "connect"))
edit("fetch-gap", "lock-nolock", lambda d: setitem(task(d, 1, 0)["spans"][4], 1, 151))
edit("tasks-fewer-than-config", "lock-nolock", lambda d: setitem(d["config"], "tasks", 5))
edit("summary-tasks", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "tasks", 5))
edit("outcomes-sum", "lock-nolock", lambda d: setitem(run(d, 0)["summary"]["outcomes"], "fetched", 3))
edit("outcome-miscounted", "lock-nolock", lambda d: run(d, 0)["summary"]["outcomes"].update(
    fetched=3, cache_hit=1))
edit("outcome-not-in-vocabulary", "lock-nolock", lambda d: setitem(
    run(d, 0)["summary"]["outcomes"], "spinning", 0))
edit("outcome-missing", "lock-nolock", lambda d: run(d, 0)["summary"]["outcomes"].update(
    cache_hit=4) or run(d, 0)["summary"]["outcomes"].pop("fetched"))
edit("cache-hits", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "cache_hits", 1))
edit("errors-stage-unknown", "lock-nolock", lambda d: setitem(run(d, 1)["summary"]["errors"], "quic", 0))
edit("errors-stages-sum", "lock-nolock", lambda d: setitem(run(d, 1)["summary"]["errors"], "read", 1))
edit("errors-total", "lock-nolock", lambda d: run(d, 1)["summary"]["errors"].update(total=2, read=1))
edit("errors-stage-miscounted", "lock-nolock", lambda d: run(d, 1)["summary"]["errors"].update(
    http_status=0, read=1))
edit("errors-count-shared", "coalesce", lambda d: run(d, 0)["summary"]["errors"].update(
    total=3, connect=2))
edit("keys-length", "lock-nolock", lambda d: setitem(run(d, 0)["keys"], "tasks", [2, 2, 0]))
edit("keys-sum", "lock-nolock", lambda d: setitem(run(d, 0)["keys"], "tasks", [2, 3]))
edit("keys-miscounted", "lock-nolock", lambda d: setitem(run(d, 0)["keys"], "tasks", [1, 3]))
edit("keys-upstream-sum", "lock-nolock", lambda d: setitem(run(d, 0)["keys"], "upstream_requests", [1, 2]))
edit("latency-p50", "lock-nolock", lambda d: setitem(run(d, 0)["summary"]["latency_us"], "p50", 100600))
edit("latency-p99-9", "repeat-interrupted", lambda d: setitem(
    run(d, 0)["summary"]["latency_us"], "p99_9", 99918))
edit("latency-mean-rounded", "lock-nolock", lambda d: setitem(
    run(d, 0)["summary"]["latency_us"], "mean", 100580))
edit("latency-missing", "lock-nolock", lambda d: run(d, 1)["summary"].pop("latency_us"))
edit("stampede-missing", "lock-nolock", lambda d: run(d, 0)["summary"].pop("stampede_max"))
edit("stampede-miscounted", "lock-nolock", lambda d: setitem(run(d, 1)["summary"], "stampede_max", 1))
edit("max-in-flight-above-sent", "lock-nolock", lambda d: setitem(run(d, 0)["keys"], "max_in_flight", [2, 1]))
edit("waiters-miscounted", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "waiters", 1))
edit("waiter-latency-without-waiters", "lock-nolock", lambda d: setitem(
    run(d, 1)["summary"], "waiter_latency_us", run(d, 0)["summary"]["waiter_latency_us"]))
edit("waiter-latency-p50", "lock-nolock", lambda d: setitem(
    run(d, 0)["summary"]["waiter_latency_us"], "p50", 100640))
edit("waiter-flag-missing", "lock-nolock", lambda d: setitem(task(d, 0, 1), "waiter", True))
edit("waiter-flag-without-wait", "lock-nolock", lambda d: [setitem(task(d, 0, j), "waiter", True)
                                                           for j in (1, 3)] + [setitem(task(d, 1, 0), "waiter", True)])
edit("waiter-flags-miscounted", "lock-nolock", lambda d: [setitem(task(d, 0, j), "waiter", True)
                                                          for j in (0, 1, 3)])
edit("faults-unknown-key", "lock-nolock", lambda d: setitem(run(d, 0)["server"]["faults"], "slow", 0))
edit("params-missing", "lock-nolock", lambda d: d["config"].pop("params"))
edit("wait-state-unknown", "lock-nolock", lambda d: setitem(run(d, 0)["summary"]["wait_us"], "cache_check", 0))
edit("wait-miscounted", "lock-nolock", lambda d: run(d, 0)["summary"]["wait_us"].update(
    lock_wait=201018, total=201097))
edit("wait-total", "lock-nolock", lambda d: setitem(run(d, 0)["summary"]["wait_us"], "total", 201099))
edit("counter-unknown", "lock-nolock", lambda d: setitem(run(d, 0)["summary"]["counters"], "spins", 3))
edit("counter-wrong-mode", "lock-nolock", lambda d: setitem(run(d, 1)["summary"]["counters"], "lock_handoffs", 0))
edit("counter-missing", "lock-nolock", lambda d: run(d, 0)["summary"]["counters"].pop("lock_handoffs"))
edit("server-miscounted", "lock-nolock", lambda d: setitem(run(d, 0)["server"], "requests", 3))
edit("server-requests-without-server", "coalesce", lambda d: setitem(
    run(d, 0)["summary"], "server_requests", 2))
edit("threads-created", "lock-nolock", lambda d: setitem(run(d, 0)["summary"], "threads_created", 1))
edit("peak-threads", "lock-nolock", lambda d: setitem(run(d, 1)["summary"], "peak_threads", 2))


@case("interrupted-not-last")
def _(d):
    keys = [k for k in d if k != "interrupted"]
    new = reorder(d, [*keys[:-1], "interrupted", keys[-1]])
    d.clear()
    d.update(new)


@case("vocabulary-after-runs")
def _(d):
    new = reorder(d, ["schema", "tool", "config", "runs", "vocabulary", "expectations",
                      "interrupted"])
    d.clear()
    d.update(new)


edit("run-interrupted-report-not", "lock-nolock", lambda d: setitem(run(d, 1), "interrupted", True))
edit("runs-missing", "lock-nolock", lambda d: d["runs"].pop())
edit("repeats-missing", "repeat-interrupted", lambda d: d.pop("repeats"))


@case("repeats-unexpected")
def _(d):
    s = run(d, 0)["summary"]
    new = reorder(dict(d, repeats=[{"mode": "lock", "count": 1, "median": s, "min": s, "max": s}]),
                  ["schema", "tool", "config", "vocabulary", "runs", "repeats", "expectations",
                   "interrupted"])
    d.clear()
    d.update(new)


edit("repeats-count", "repeat-interrupted", lambda d: setitem(d["repeats"][0], "count", 3))
edit("repeats-median-upper", "repeat-interrupted", lambda d: setitem(
    d["repeats"][0]["median"], "wall_us", 250100))
edit("repeats-min", "repeat-interrupted", lambda d: setitem(d["repeats"][0]["min"], "cache_hits", 2))
edit("repeats-max", "repeat-interrupted", lambda d: setitem(
    d["repeats"][0]["max"]["outcomes"], "cancelled", 0))
edit("repeats-extra-field", "repeat-interrupted", lambda d: setitem(
    d["repeats"][0]["median"]["counters"], "spins", 0))
edit("repeats-mode-twice", "repeat-interrupted", lambda d: d["repeats"].append(
    copy.deepcopy(d["repeats"][0])))
edit("expect-mode-unknown", "lock-nolock", lambda d: setitem(d["expectations"][1], "mode", "spin"))
edit("expect-twice", "lock-nolock", lambda d: d["expectations"].append(dict(d["expectations"][1])))
edit("expect-null-ok", "lock-nolock", lambda d: setitem(d["expectations"][0], "actual", None))
edit("expect-actual-wrong", "lock-nolock", lambda d: setitem(d["expectations"][0], "actual", 3))
edit("expect-ok-wrong", "lock-nolock", lambda d: setitem(d["expectations"][2], "ok", True))
edit("expect-prefix-mismatch", "lock-nolock", lambda d: setitem(d["expectations"][0], "mode", "nolock"))
edit("expect-mode-missing", "lock-nolock", lambda d: d["expectations"].pop())


def big(n, out):
    """lock-nolock with each task repeated n/4 times, in arrival order: the
    summaries scale, the percentiles stay."""
    if n % 4 or n <= 0:
        raise SystemExit("--big: N must be a positive multiple of 4")
    k = n // 4
    d = good("lock-nolock")
    d["config"]["tasks"] = n

    def scale(obj):
        for key, v in obj.items():
            if isinstance(v, dict) and key not in ("latency_us", "waiter_latency_us"):
                scale(v)
            elif isinstance(v, int) and not isinstance(v, bool) and key not in (
                    "wall_us", "peak_threads", "peak_connections"):
                obj[key] = v * k
    for r in d["runs"]:
        tasks = [dict(t) for t in r["tasks"] for _ in range(k)]
        for i, t in enumerate(tasks):
            t["id"] = i
        r["tasks"] = tasks
        scale(r["summary"])
        r["keys"] = {f: [v * k for v in vs] for f, vs in r["keys"].items()}
        if r["server"] is not None:
            r["server"]["requests"] *= k
    for x in d["expectations"]:
        x["actual"] = x["actual"] * k
        x["expect"] = x["expect"].replace("==2", f"=={2 * k}")
        x["ok"] = x["mode"] == "lock"
    pathlib.Path(out).write_text(dump(d))


def cases():
    """{file name: text} of every case."""
    out = {}
    for name, (base, fn) in CASES.items():
        d = good(base)
        fn(d)
        out[f"{name}.json"] = dump(d)
    for name, (base, old, new) in TEXT.items():
        text = dump(good(base))
        if old not in text:
            raise SystemExit(f"{name}: {old!r} not in good/{base}.json")
        out[f"{name}.json"] = text.replace(old, new, 1)
    return out


def main(argv):
    if argv[:1] == ["--big"] and len(argv) == 3:
        big(int(argv[1]), argv[2])
        return 0
    want = cases()
    if argv == ["--check"]:
        have = {p.name: p.read_text() for p in HERE.glob("*.json")}
        stale = sorted(n for n in want.keys() | have.keys() if want.get(n) != have.get(n))
        if stale:
            print(f"make_cases.py: {stale[0]} is not what make_cases.py writes "
                  f"({len(stale)} such); run it", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: make_cases.py [--check | --big N OUT]", file=sys.stderr)
        return 2
    for old in HERE.glob("*.json"):
        old.unlink()
    for name, text in want.items():
        (HERE / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
