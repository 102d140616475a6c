#!/usr/bin/python3
"""Checks the invariants every fetchbench/1 report must hold, beyond what
the schema can say: spans in order and inside their task, the lock around
what it protects, and counts that add up.
Usage: check_report.py REPORT.json...  (exit 1 naming the first violation)

Run it on reports that validate (tests/validate_json.py): a report of the
wrong shape is refused with one line, not checked field by field.  Tasks
are read one at a time (scripts/fbplot.py read_json), so a report of
200,000 tasks takes seconds and little memory."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True
import fbplot  # noqa: E402

# libcurl's phases of one fetch, in the order they happen; "queued" is the
# wait before libcurl takes the fetch (a connection slot, the loop's turn).
FETCH = ("queued", "dns", "connect", "request", "receive")
FETCH_RANK = {s: i for i, s in enumerate(FETCH)}
# a fetch that reached libcurl: what summary.upstream_requests counts
STARTED = frozenset(("dns", "connect", "request", "receive"))
# what the lock protects: checking the cache, and the fetch on a miss
GUARDED = frozenset(("cache_check", "cache_hit")) | frozenset(FETCH)
OUTCOMES = ("fetched", "cache_hit", "error", "cancelled")
STAGES = ("resolve", "connect", "tls", "timeout", "http_status", "read", "body_too_large",
          "other")


class Violation(Exception):
    """One line: the first invariant that does not hold."""


class Totals:
    """What the task array adds up to, gathered one task at a time."""

    def __init__(self):
        self.ntasks = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.started = 0
        self.sent = 0           # fetches whose request reached the wire
        self.first_start = None
        self.last_end = None


def check_task(i, t, totals):
    """The per-task invariants; raises Violation naming the task's id."""
    tid = t["id"]
    who = f"task {tid}"
    start, end = t["start_us"], t["end_us"]
    if end < start:
        raise Violation(f"{who}: ends before it starts ({end} < {start})")
    spans = t["spans"]
    fetch = []
    held = []
    for j, sp in enumerate(spans):
        st, s, e = sp["state"], sp["start_us"], sp["end_us"]
        what = f"{who}: span {j} ({st})"
        if e < s:
            raise Violation(f"{what} ends before it starts ({e} < {s})")
        if s < start or e > end:
            raise Violation(f"{what} [{s}, {e}] lies outside the task [{start}, {end}]")
        if st == "created" and s != start:
            raise Violation(f"{what} starts at {s}, not at the task's start {start}")
        if st == "lock_held":
            held.append((s, e))
        if st in FETCH_RANK:
            fetch.append((j, st, s, e))
    for (_, pst, _, pend), (j, st, s, _) in zip(fetch, fetch[1:]):
        if FETCH_RANK[st] <= FETCH_RANK[pst]:
            raise Violation(f"{who}: span {j} ({st}) after {pst}: fetch phases out of order "
                            f"or repeated (expected {' → '.join(FETCH)}, each once)")
    for (_, pst, _, pend), (j, st, s, _) in zip(fetch, fetch[1:]):
        if s != pend:
            raise Violation(f"{who}: span {j} ({st}) starts at {s}, not where {pst} "
                            f"ended ({pend})")
    if held:
        waits = [sp for sp in spans if sp["state"] == "lock_wait"]
        for w in waits:
            if not any(w["end_us"] == hs for hs, _ in held):
                raise Violation(f"{who}: lock_wait ends at {w['end_us']}, not where "
                                f"lock_held starts ({held[0][0]})")
        for j, sp in enumerate(spans):
            if sp["state"] in GUARDED and not any(hs <= sp["start_us"] and sp["end_us"] <= he
                                                  for hs, he in held):
                raise Violation(f"{who}: span {j} ({sp['state']}) [{sp['start_us']}, "
                                f"{sp['end_us']}] is not inside lock_held "
                                f"[{held[0][0]}, {held[0][1]}]")
    o = t["outcome"]
    if o not in totals.outcomes:
        raise Violation(f"{who}: unknown outcome {o!r}")
    totals.outcomes[o] += 1
    if (o == "error") != ("error" in t):
        raise Violation(f"{who}: outcome {o} " + ("without" if o == "error" else "with")
                        + " an error object")
    totals.ntasks += 1
    if any(sp["state"] in STARTED for sp in spans):
        totals.started += 1
    if any(sp["state"] in ("request", "receive") for sp in spans):
        totals.sent += 1
    if totals.first_start is None or start < totals.first_start:
        totals.first_start = start
    if totals.last_end is None or end > totals.last_end:
        totals.last_end = end


def check_summary(doc, totals):
    """The report-wide invariants, once every task has been seen."""
    cfg, s = doc["config"], doc["summary"]
    interrupted = doc["interrupted"]
    n = totals.ntasks
    if n != cfg["tasks"]:
        raise Violation(f"{n} tasks in the report, config.tasks is {cfg['tasks']}")
    if sum(totals.outcomes.values()) != n:
        raise Violation(f"outcomes {totals.outcomes} do not add up to {n} tasks")
    hits = totals.outcomes["cache_hit"]
    if not interrupted and s["cache_hits"] != hits:
        raise Violation(f"summary.cache_hits is {s['cache_hits']}, "
                        f"but {hits} tasks have outcome cache_hit")
    errs = s["errors"]
    if errs["total"] != totals.outcomes["error"]:
        raise Violation(f"summary.errors.total is {errs['total']}, "
                        f"but {totals.outcomes['error']} tasks have outcome error")
    by_stage = sum(errs.get(k, 0) for k in STAGES)
    if errs["total"] != by_stage:
        raise Violation(f"summary.errors.total is {errs['total']}, "
                        f"but the stage counters add up to {by_stage}")
    up = s["upstream_requests"]
    if interrupted and up < totals.started:
        raise Violation(f"summary.upstream_requests is {up}, but {totals.started} task(s) "
                        f"reached dns/connect/request/receive")
    if not interrupted and up != totals.started:
        raise Violation(f"summary.upstream_requests is {up}, but {totals.started} task(s) "
                        f"reached dns/connect/request/receive")
    # A fetch that failed to resolve or connect never reached the server.
    if cfg["embedded_server"] and not interrupted and doc["server"] is not None \
            and s["server_requests"] != totals.sent:
        raise Violation(f"summary.server_requests is {s['server_requests']}, but {totals.sent} "
                        f"of {up} upstream requests were sent: the embedded server saw another number")
    th = doc["threads"]
    if s["threads_created"] != len(th["lifetimes"]):
        raise Violation(f"summary.threads_created is {s['threads_created']}, "
                        f"but threads.lifetimes has {len(th['lifetimes'])}")
    peak = max((c for _, c in th["samples"]), default=None)
    if peak is not None and s["peak_threads"] != peak:
        raise Violation(f"summary.peak_threads is {s['peak_threads']}, "
                        f"but threads.samples peak at {peak}")
    if n and s["wall_us"] < totals.last_end - totals.first_start:
        raise Violation(f"summary.wall_us {s['wall_us']} is shorter than the tasks' span "
                        f"{totals.last_end - totals.first_start}")
    rep = doc.get("repeats")
    if rep is not None and rep["count"] != len(rep["runs"]):
        raise Violation(f"repeats.count is {rep['count']}, but repeats.runs has "
                        f"{len(rep['runs'])}")


def check(path):
    """Raises Violation for the first invariant the report at path breaks."""
    totals = Totals()
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Violation(e.strerror) from None
    try:
        doc = fbplot.read_json(raw, on_item=lambda i, t: check_task(i, t, totals))
        check_summary(doc, totals)
    except fbplot.JSONProblem as e:
        raise Violation(str(e)) from None
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        # the schema's business; said in one line all the same
        raise Violation(f"not a valid fetchbench/1 report ({type(e).__name__}: {e}); "
                        "run tests/validate_json.py") from None


def main(paths):
    if not paths:
        print("usage: check_report.py REPORT.json...", file=sys.stderr)
        return 2
    for path in paths:
        try:
            check(path)
        except Violation as e:
            print(f"check_report: {path}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
