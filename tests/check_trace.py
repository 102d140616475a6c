#!/usr/bin/python3
"""Checks a fetchbench --trace file against the fetchbench/2 report of the
same invocation, run by run.
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
        if ph in "XCi" and (not isinstance(e["ts"], int) or e["ts"] < 0):
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
    for r, (run, tpid, hpid) in enumerate(zip(runs, task_pids, thread_pids)):
        if not names[tpid].startswith(run["mode"]):
            fail(f"run {r} ({run['mode']}): its tasks are in the process named {names[tpid]!r}")
        check_run(events, f"run {r} ({run['mode']})", run, tpid, hpid)
    return 0


def check_run(events, who, run, tpid, hpid):
    """One run's events match its record: the same times shifted by one
    offset (a trace may lay the runs side by side on one axis)."""
    tracks = {}
    for e in events:
        if e["ph"] == "X" and e["pid"] == tpid:
            tracks.setdefault(e["tid"], []).append((e["name"], e["ts"], e["ts"] + e["dur"]))

    def counter(name):
        return [[e["ts"], e["args"]["value"]] for e in events
                if e["ph"] == "C" and e["pid"] == tpid and e["name"] == name]

    live = counter("live threads")
    first = next((t for t in run["tasks"] if t["spans"]), None)
    if first is not None and tracks.get(first["id"] + 1):
        offset = tracks[first["id"] + 1][0][1] - first["spans"][0][1]
    elif live and run["threads"]["samples"]:
        offset = live[0][0] - run["threads"]["samples"][0][0]
    else:
        offset = 0
    if offset < 0:
        fail(f"{who}: events placed before the run's start (offset {offset})")

    # Every task with spans has a named track, and its complete events are
    # its spans; a task that never arrived has none.
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == tpid}
    for task in run["tasks"]:
        tid = task["id"] + 1
        if task["spans"] and names.get(tid) != f"task {task['id']}":
            fail(f"{who}: task {task['id']}: no track named for it")
        got = [(n, s - offset, e - offset) for n, s, e in tracks.get(tid, [])]
        want = [tuple(sp) for sp in task["spans"]]
        if got != want:
            fail(f"{who}: task {task['id']}: events {got} differ from spans {want}")

    # Counter values are the run's samples, in order.
    if [[t - offset, v] for t, v in live] != run["threads"]["samples"]:
        fail(f"{who}: live threads counter differs from the run's samples")
    if run["server"] is not None:
        served = [[t - offset, v] for t, v in counter("server requests in service")]
        if served != run["server"]["in_service_samples"]:
            fail(f"{who}: server counter differs from the run's samples")
    threads = [e for e in events if e["ph"] == "X" and e["pid"] == hpid]
    if len(threads) != run["summary"]["threads_created"]:
        fail(f"{who}: {len(threads)} thread spans for {run['summary']['threads_created']} threads created")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: check_trace.py TRACE.json REPORT.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
