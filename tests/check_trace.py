#!/usr/bin/python3
"""Checks a fetchbench --trace file against the report of the same run.
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

    # Counter values are the report's thread samples, in order.
    counter = [[e["ts"], e["args"]["value"]] for e in events if e["ph"] == "C" and e["name"] == "live threads"]
    if counter != report["threads"]["samples"]:
        fail(f"live threads counter {counter[:5]}... differs from the report's samples")
    if report["server"] is not None:
        served = [[e["ts"], e["args"]["value"]] for e in events
                  if e["ph"] == "C" and e["name"] == "server requests in service"]
        if served != report["server"]["in_service_samples"]:
            fail("server counter differs from the report")

    # Every task has a named track, and its complete events are its spans.
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    for task in report["tasks"]:
        tid = task["id"] + 1
        if names.get((1, tid)) != f"task {task['id']}":
            fail(f"task {task['id']}: no track named for it")
        spans = [(e["name"], e["ts"], e["ts"] + e["dur"]) for e in events
                 if e["ph"] == "X" and e["pid"] == 1 and e["tid"] == tid]
        want = [(s["state"], s["start_us"], s["end_us"]) for s in task["spans"]]
        if spans != want:
            fail(f"task {task['id']}: events {spans} differ from spans {want}")
    threads = [e for e in events if e["ph"] == "X" and e["pid"] == 2]
    if len(threads) != report["summary"]["threads_created"]:
        fail(f"{len(threads)} thread spans for {report['summary']['threads_created']} threads created")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: check_trace.py TRACE.json REPORT.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
