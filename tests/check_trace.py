#!/usr/bin/python3
"""Checks a fetchbench --trace file against the fetchbench/2 report of the
same invocation, run by run: each traced task's slices are its spans, with
its args; each flow has one start and one end with the same id, each bound to
a slice (a slice of its track covers its time); there is one flow per
waited_on between traced tasks and one per resolver thread tied to a traced
task; every run has its own pids; a run's aggregated tasks are exactly
those without a track, no more tracks than its cap, and its "tasks in STATE"
counters are what their spans add up to.
Usage: check_trace.py TRACE.json REPORT.json   (exit 1 naming the first problem)"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
sys.dont_write_bytecode = True
import fbplot  # noqa: E402

REQUIRED = {
    "X": ("name", "ph", "pid", "tid", "ts", "dur"),
    "C": ("name", "ph", "pid", "ts", "args"),
    "M": ("name", "ph", "pid", "args"),
    "i": ("name", "ph", "pid", "tid", "ts", "s"),
    "s": ("name", "cat", "ph", "id", "pid", "tid", "ts"),
    "f": ("name", "cat", "ph", "id", "pid", "tid", "ts", "bp"),
}


def fail(msg):
    print(f"check_trace: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    """The JSON at path, read as strictly as the plot scripts read reports
    (no repeated keys, NaN or numbers beyond int64)."""
    try:
        with open(path, "rb") as f:
            return fbplot.read_json(f.read(), stream=None)
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    except fbplot.JSONProblem as e:
        fail(f"{path}: {e}")


def main(trace_path, report_path):
    trace, report = load(trace_path), load(report_path)
    events = trace.get("traceEvents")
    if not isinstance(events, list) or not events:
        fail("no traceEvents")
    for i, e in enumerate(events):
        ph = e.get("ph")
        if ph not in REQUIRED:
            fail(f"event {i}: unexpected phase {ph!r}")
        missing = [k for k in REQUIRED[ph] if k not in e]
        if missing:
            fail(f"event {i} ({ph}): missing {missing}")
        if ph == "X" and (not isinstance(e["dur"], int) or e["dur"] < 0):
            fail(f"event {i}: negative or non-integer duration {e['dur']}")
        if ph in "XCisf" and (not isinstance(e["ts"], int) or e["ts"] < 0):
            fail(f"event {i}: bad timestamp {e['ts']}")

    # Each run of the report has two trace processes, in run order: its tasks
    # (with the counters) and the threads it created (named "threads
    # created by MODE #K (run N)").
    procs = sorted((e["pid"], e["args"]["name"]) for e in events
                   if e["ph"] == "M" and e["name"] == "process_name")
    task_pids = [pid for pid, name in procs if "threads created" not in name]
    thread_pids = [pid for pid, name in procs if "threads created" in name]
    runs = report["runs"]
    if len(task_pids) != len(runs) or len(thread_pids) != len(runs):
        fail(f"{len(runs)} runs, but task processes {task_pids} and thread processes {thread_pids}")
    names = dict(procs)
    pids = [pid for pid, _ in procs]
    if len(set(pids)) != len(pids):
        fail(f"a pid names two processes: {procs}")
    known = set(pids)
    for i, e in enumerate(events):
        if e["pid"] not in known:
            fail(f"event {i} ({e['ph']} {e['name']}): pid {e['pid']} is no run's")
    flows = check_flows(events)
    fetch_states = {s["name"] for s in report["vocabulary"]["states"] if s["fetch"]}
    for r, (run, tpid, hpid) in enumerate(zip(runs, task_pids, thread_pids)):
        if not names[tpid].startswith(run["mode"]):
            fail(f"run {r} ({run['mode']}): its tasks are in the process named {names[tpid]!r}")
        if hpid != tpid + 1:
            fail(f"run {r}: its threads are in pid {hpid}, not beside its tasks' {tpid}")
        who = f"run {r} ({run['mode']})"
        offset = check_run(events, who, run, tpid, hpid, names[tpid], fetch_states)
        check_run_flows(events, flows, who, run, tpid, hpid, offset)
    return 0


def check_flows(events):
    """Every flow id has one start ("s") and one end ("f", bound to the
    enclosing slice) of the same name and category, each at a time a slice
    of its track covers, a link's end not before its start. Returns the flows as
    {id: (start event, end event)}."""
    slices = {}
    for e in events:
        if e["ph"] == "X" and e["dur"] > 0:
            slices.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    ends = {}
    for e in events:
        if e["ph"] in "sf":
            side = ends.setdefault(e["id"], {})
            if e["ph"] in side:
                fail(f"flow {e['id']}: two {e['ph']!r} events")
            side[e["ph"]] = e
            if e["ph"] == "f" and e["bp"] != "e":
                fail(f"flow {e['id']}: its end does not bind to the enclosing slice")
            if not any(a <= e["ts"] < b for a, b in slices.get((e["pid"], e["tid"]), [])):
                fail(f"flow {e['id']} ({e['name']}): its {e['ph']!r} at {e['ts']} on pid {e['pid']} "
                     f"tid {e['tid']} binds to no slice")
    flows = {}
    for fid, side in ends.items():
        if set(side) != {"s", "f"}:
            fail(f"flow {fid}: only {sorted(side)}")
        s, f = side["s"], side["f"]
        if (s["name"], s["cat"]) != (f["name"], f["cat"]):
            fail(f"flow {fid}: starts as {s['cat']}/{s['name']} and ends as {f['cat']}/{f['name']}")
        # A resolver thread may start (and even end) a few µs before the dns
        # phase's recorded start, which is taken after libcurl's first step:
        # only the links between tasks must point forward.
        if f["ts"] < s["ts"] and s["cat"] != "thread":
            fail(f"flow {fid}: ends at {f['ts']}, before its start at {s['ts']}")
        flows[fid] = (s, f)
    return flows


def check_run_flows(events, flows, who, run, tpid, hpid, offset):
    """One flow per waited_on between traced tasks, from the task waited on
    (at most 1 µs before the link's time) to the waiter (not before it);
    one per resolver thread tied to a traced task, from its dns slice."""
    traced = {e["tid"] - 1 for e in events if e["ph"] == "X" and e["pid"] == tpid}
    want = sorted((t["waited_on"]["task"], t["id"], t["waited_on"]["kind"]) for t in run["tasks"]
                  if t.get("waited_on") and t["id"] in traced and t["waited_on"]["task"] in traced)
    got = []
    for s, f in flows.values():
        if s["pid"] != tpid or s["cat"] != "waited_on":
            continue
        got.append((s["tid"] - 1, f["tid"] - 1, s["name"]))
        link = next(t["waited_on"] for t in run["tasks"] if t["id"] == f["tid"] - 1 and t.get("waited_on"))
        at = link["at_us"] + offset
        if not (at - 1 <= s["ts"] <= at + 1 and f["ts"] >= at - 1):
            fail(f"{who}: flow {s['id']} from {s['ts']} to {f['ts']} for a link at {at}")
    if sorted(got) != want:
        fail(f"{who}: {len(got)} waited_on flows {sorted(got)[:5]}..., "
             f"for {len(want)} links between traced tasks {want[:5]}...")
    dns = {(e["tid"], e["ts"], e["ts"] + e["dur"]) for e in events
           if e["ph"] == "X" and e["pid"] == tpid and e["name"] == "dns" and e["dur"] > 0}
    threads = [e for e in events if e["ph"] == "X" and e["pid"] == hpid and e["dur"] > 0
               and e.get("args", {}).get("task") in traced
               and any(tid == e["args"]["task"] + 1 for tid, _, _ in dns)]
    tied = [(s, f) for s, f in flows.values() if s["pid"] == tpid and s["cat"] == "thread"]
    for s, f in tied:
        if f["pid"] != hpid or not any(tid == s["tid"] and a <= s["ts"] < b for tid, a, b in dns):
            fail(f"{who}: thread flow {s['id']} does not go from a dns slice to a thread")
    if len(tied) != len(threads):
        fail(f"{who}: {len(tied)} thread flows for {len(threads)} threads of traced tasks with a dns slice")


def check_run(events, who, run, tpid, hpid, pname, fetch_states):
    """One run's events match its record: the same times shifted by one
    offset (a trace may lay the runs side by side on one axis). Returns the
    offset."""
    tracks = {}
    for e in events:
        if e["ph"] == "X" and e["pid"] == tpid:
            tracks.setdefault(e["tid"], []).append(e)

    def counter(name):
        return [[e["ts"], e["args"]["value"]] for e in events
                if e["ph"] == "C" and e["pid"] == tpid and e["name"] == name]

    live = counter("live threads")
    first = next((t for t in run["tasks"] if t["spans"] and tracks.get(t["id"] + 1)), None)
    if first is not None:
        offset = tracks[first["id"] + 1][0]["ts"] - first["spans"][0][1]
    elif live and run["threads"]["samples"]:
        offset = live[0][0] - run["threads"]["samples"][0][0]
    else:
        offset = 0
    if offset < 0:
        fail(f"{who}: events placed before the run's start (offset {offset})")

    metas = [e["args"] for e in events
             if e["ph"] == "M" and e["name"] == "fetchbench_aggregated" and e["pid"] == tpid]
    if len(metas) != 1:
        fail(f"{who}: {len(metas)} fetchbench_aggregated metadata events, not one")
    meta = metas[0]
    if len(tracks) > meta["max_tasks"]:
        fail(f"{who}: {len(tracks)} task tracks, more than the cap {meta['max_tasks']}")

    # Every traced task has a named track, and its complete events are its
    # spans, each with its category and args; the others are aggregated.
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == tpid}
    outcomes = {e["tid"]: e for e in events if e["ph"] == "i" and e["pid"] == tpid}
    aggregated = []
    for task in run["tasks"]:
        tid = task["id"] + 1
        if task["spans"] and tid not in tracks:
            aggregated.append(task)
            continue
        if task["spans"] and names.get(tid) != f"task {task['id']}":
            fail(f"{who}: task {task['id']}: no track named for it")
        got = [(e["name"], e["ts"] - offset, e["ts"] + e["dur"] - offset) for e in tracks.get(tid, [])]
        want = [tuple(sp) for sp in task["spans"]]
        if got != want:
            fail(f"{who}: task {task['id']}: events {got} differ from spans {want}")
        base = {"task": task["id"], "key": task["key"], "outcome": task["outcome"]}
        for e in tracks.get(tid, []) + ([outcomes[tid]] if tid in outcomes else []):
            args = e.get("args", {})
            if not e.get("cat") or {k: args.get(k) for k in base} != base:
                fail(f"{who}: task {task['id']}: {e['name']} at {e['ts']} has cat {e.get('cat')!r} "
                     f"and args {args}, not {base}")
        err = task.get("error")
        if err:
            carriers = [outcomes.get(tid)] + [e for e in tracks[tid] if e["name"] in fetch_states][-1:]
            for e in carriers:
                if e is None or e["args"].get("error") != err["message"] \
                        or e["args"].get("http_status") != err.get("http_status"):
                    fail(f"{who}: task {task['id']}: its error {err} is not on {e and e['name']}")
    if len(tracks) != meta["tasks_traced"] or len(aggregated) != meta["tasks_aggregated"]:
        fail(f"{who}: {len(tracks)} tracks and {len(aggregated)} tasks without, but the trace says "
             f"{meta['tasks_traced']} traced and {meta['tasks_aggregated']} aggregated")
    if aggregated and "as counters" not in pname:
        fail(f"{who}: {len(aggregated)} tasks aggregated, but the process name {pname!r} does not say so")
    want = aggregate(aggregated, meta["counter_resolution_us"])
    got = {}
    for e in events:
        if e["ph"] == "C" and e["pid"] == tpid and e["name"].startswith("tasks in "):
            got.setdefault(e["name"][len("tasks in "):], []).append([e["ts"] - offset, e["args"]["value"]])
    if got != want:
        diff = sorted(set(got) ^ set(want)) or [k for k in want if got[k] != want[k]]
        fail(f"{who}: the aggregated tasks' counters differ from their spans (states {diff})")

    # Counter values are the run's samples, in order (sampled per bucket
    # like the aggregated tasks' when the run's counters are).
    q = meta["counter_resolution_us"]
    if [[t - offset, v] for t, v in live] != sampled(run["threads"]["samples"], q):
        fail(f"{who}: live threads counter differs from the run's samples")
    if run["server"] is not None:
        served = [[t - offset, v] for t, v in counter("server requests in service")]
        if served != sampled(run["server"]["in_service_samples"], q):
            fail(f"{who}: server counter differs from the run's samples")
        queued = [[t - offset, v] for t, v in counter("server queued")]
        if queued != sampled(run["server"].get("queued_samples", []), q):
            fail(f"{who}: server queued counter differs from the run's queued samples")
    threads = [e for e in events if e["ph"] == "X" and e["pid"] == hpid]
    if len(threads) != meta["threads_traced"] or len(threads) > meta["max_tasks"] \
            or len(threads) + meta["threads_aggregated"] != run["summary"]["threads_created"]:
        fail(f"{who}: {len(threads)} thread spans, {meta['threads_aggregated']} aggregated, for "
             f"{run['summary']['threads_created']} threads created (cap {meta['max_tasks']})")
    return offset


def aggregate(tasks, q):
    """What fetchbench writes as "tasks in STATE" for these tasks: per state,
    its levels (the count of the tasks in it) sampled like bucketed()."""
    changes = {}
    for task in tasks:
        for state, a, b in task["spans"]:
            c = changes.setdefault(state, {})
            c[a] = c.get(a, 0) + 1
            c[b] = c.get(b, 0) - 1
    out = {}
    for state, c in changes.items():
        levels, level = [], 0
        for t in sorted(c):
            level += c[t]
            levels.append((t, level))
        series = bucketed(levels, q)
        if series:
            out[state] = series
    return out


def sampled(samples, q):
    """A run's samples as the trace writes them: every one when q is 1."""
    return samples if q == 1 else bucketed(samples, q)


def bucketed(levels, q):
    """Levels [(t, level)] in time order (the last at each t counts), from 0,
    per q-µs bucket where the level moved: the bucket's peak at its start
    and, when it differs, its close at its last µs."""
    last = {}
    for t, v in levels:
        last[t] = v
    series, level, bucket = [], 0, None
    for t in sorted(last):
        if t // q != bucket:
            if bucket is not None:
                close_bucket(series, bucket, q, before, peak, level)
            bucket, before, peak = t // q, level, None
        level = last[t]
        peak = level if peak is None else max(peak, level)
    if bucket is not None:
        close_bucket(series, bucket, q, before, peak, level)
    return series


def close_bucket(series, bucket, q, before, peak, close):
    shown = before
    if peak != before:
        series.append([bucket * q, peak])
        shown = peak
    if close != shown:
        series.append([bucket * q + q - 1, close])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: check_trace.py TRACE.json REPORT.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
