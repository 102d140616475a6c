#!/usr/bin/python3
"""Checks the invariants every fetchbench report must hold, beyond what
the schema can say: spans in order and inside their task, counts that add
up, summaries that are what the tasks say.  fetchbench/1 and fetchbench/2
(docs/report-v2.md), told apart by the document's "schema" field.
Usage: check_report.py REPORT.json...  (exit 1 naming the first violation)

Run it on reports that validate (tests/validate_json.py): a report of the
wrong shape is refused with one line, not checked field by field.  A v1
report is read task by task, a v2 report run by run (scripts/fbplot.py
read_json), so only one run's tasks are in memory at a time."""
import gc
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True
import fbplot  # noqa: E402

# libcurl's phases of one fetch, in the order they happen; "queued" is the
# wait before libcurl takes the fetch (a connection slot, the loop's turn);
# a server that says how long it queued the request splits "request" into
# "server_queue" and "in_service".
FETCH = ("queued", "dns", "connect", "request", "server_queue", "in_service", "receive")
FETCH_RANK = {s: i for i, s in enumerate(FETCH)}
# a fetch that reached libcurl: what summary.upstream_requests counts
STARTED = frozenset(("dns", "connect", "request", "server_queue", "in_service", "receive"))
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
    if any(sp["state"] in ("request", "server_queue", "in_service", "receive") for sp in spans):
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


# ---- fetchbench/2 (docs/report-v2.md) -------------------------------------

V2_KEYS = ("schema", "tool", "config", "vocabulary", "runs", "fleet", "repeats", "expectations",
           "interrupted")
# permille, so rank ceil(p * n / 100) is integer arithmetic (99.9 is not a double)
PERCENTILES = (("p50", 500), ("p90", 900), ("p99", 990), ("p99_9", 999))
# --expect metrics that are one summary field; verdicts on the others
# (wall_ms, wall_s: rounding is the writer's choice) are not recomputed
EXPECT_FIELDS = {m: (m,) for m in ("wall_us", "upstream_requests", "server_requests",
                                   "cache_hits", "cache_misses", "peak_threads",
                                   "threads_created", "peak_connections")}
EXPECT_FIELDS["errors"] = ("errors", "total")
EXPECT_RE = re.compile(r"^(?:([^:=!<>]+):)?\s*([a-z_]+)\s*(==|!=|<=|>=|<|>)\s*(\S+)\s*$")
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b,
       ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b}


def _names(items, what):
    names = [x if isinstance(x, str) else x["name"] for x in items]
    seen = set()
    for n in names:
        if n in seen:
            raise Violation(f"vocabulary.{what} lists {n!r} twice")
        seen.add(n)
    return names


def _nearest_rank(sorted_values, permille):
    n = len(sorted_values)
    rank = max(1, -(-permille * n // 1000))
    return sorted_values[rank - 1]


def _same_percentiles(where, lat, durations, whose):
    """lat holds the nearest-rank percentiles, max and floored mean of durations."""
    durations.sort()
    want = {name: _nearest_rank(durations, pm) for name, pm in PERCENTILES}
    want["max"] = durations[-1]
    want["mean"] = sum(durations) // len(durations)
    for name, v in want.items():
        if lat.get(name) != v:
            raise Violation(f"{where}.{name} is {lat.get(name)}, but {whose} durations give {v}")


def _leaves(obj, prefix=()):
    """{path tuple: value} for every non-object value under obj."""
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(_leaves(v, prefix + (k,)))
        else:
            out[prefix + (k,)] = v
    return out


def _same_number(a, b):
    return a == b and isinstance(a, bool) == isinstance(b, bool)


class V2:
    """The invariants of a fetchbench/2 report: run() for each run as it
    is read (config and vocabulary come first), then finish() with the
    rest of the document."""

    def __init__(self, head):
        cfg = self.cfg = head["config"]
        voc = head["vocabulary"]
        states = _names(voc["states"], "states")
        self.outcomes = _names(voc["outcomes"], "outcomes")
        # A counter is a (name, mode) pair: two strategies may count the
        # same thing under one name (lock_handoffs of lock and keylock).
        pairs = [(c["name"], c["mode"]) for c in voc["counters"]]
        for i, pair in enumerate(pairs):
            if pair in pairs[:i]:
                raise Violation(f"vocabulary.counters lists {pair[0]!r} of mode {pair[1]!r} twice")
        self.stages = _names(voc["stages"], "stages")
        # optional (reports before issue 13 lack it)
        self.links = frozenset(_names(voc["links"], "links")) if "links" in voc else frozenset()
        self.states = frozenset(states)
        self.outcome_set = frozenset(self.outcomes)
        self.ok = {o["name"]: o["ok"] for o in voc["outcomes"]}
        self.stage_set = frozenset(self.stages)
        self.wait = [s["name"] for s in voc["states"] if s["wait"]]
        self.wait_set = frozenset(self.wait)
        # waiting for another task or a poll: what makes a task a waiter
        self.others_wait = frozenset(s["name"] for s in voc["states"]
                                     if s["wait"] and not s["fetch"] and s["name"] != "created")
        self.encloses = frozenset(s["name"] for s in voc["states"] if s["encloses"])
        # fetch phases happen in the vocabulary's order, each once
        self.fetch_rank = {s["name"]: i for i, s in
                           enumerate(x for x in voc["states"] if x["fetch"])}
        self.counter_modes = {}     # name -> the modes that have it (None: every mode)
        for name, mode in pairs:
            self.counter_modes.setdefault(name, set()).add(mode)
        self.modes = cfg["modes"]
        self.nkeys = cfg["workload"]["keys"]
        self.ref_keys = None    # run 0's keys and arrivals: every run plans the same
        self.ref_arrivals = None
        self.runs = []          # (mode, summary, interrupted) of each run read
        # a fleet (--processes, merge): runs come in groups of one (mode,
        # repeat), one run per client; each client plans its own workload
        self.fleet = cfg.get("processes", 1) > 1
        self.refs = {}          # client -> (keys, arrivals) of its first run
        self.run_ids = []       # (mode, repeat, client) of each run read
        self.run_lat = []       # each run's durations of arrived tasks
        self.run_wlat = []      # each run's durations of the tasks that say waiter

    # -- one run --------------------------------------------------------
    def run(self, ri, run):
        """Checks one run; raises Violation naming it."""
        mode = run["mode"]
        who = f"run {ri} ({mode})"
        if mode not in self.modes:
            raise Violation(f"{who}: mode {mode!r} is not in config.modes {self.modes}")
        want_mode = self.modes[ri % len(self.modes)]
        want_repeat = ri // len(self.modes)
        client = run["client"]
        if self.fleet:
            pass    # the order is checked against fleet.groups in finish()
        elif client != 0:
            raise Violation(f"{who}: client {client}, but config.processes is 1 (no fleet)")
        elif mode != want_mode or run["repeat"] != want_repeat:
            raise Violation(f"{who}: is repeat {run['repeat']} of {mode}, but runs interleave "
                            f"the modes: run {ri} should be repeat {want_repeat} of {want_mode}")
        same_group = self.run_ids and self.run_ids[-1][:2] == (mode, run["repeat"])
        if self.runs and self.runs[-1][2] and not (self.fleet and same_group):
            raise Violation(f"{who}: follows run {ri - 1}, which was interrupted")
        s = run["summary"]
        interrupted = run["interrupted"]
        wall = s["wall_us"]
        tasks = run["tasks"]
        # every client plays its own workload (seed + client) the same way
        # in each of its runs
        self.ref_keys, self.ref_arrivals = self.refs.get(client, (None, None))
        for t in tasks:
            if self.fleet and t.get("client") != client:
                raise Violation(f"{who}: task {t['id']} has client {t.get('client')}, but its run's "
                                f"client is {client}")
            if not self.fleet and "client" in t:
                raise Violation(f"{who}: task {t['id']} names a client outside a fleet")
        self._tasks(who, tasks, s, run, interrupted, wall)
        self.refs[client] = (self.ref_keys, self.ref_arrivals)
        self._counts(who, run, s)
        self.runs.append((mode, s, interrupted))
        self.run_ids.append((mode, run["repeat"], client))

    # task.lock's field and value -> the run counter that sums it
    LOCK_SUMS = (("lock_attempts", lambda l: l["attempts"]),
                 ("woken_by_notification", lambda l: l["woken_by"] == "notification"),
                 ("woken_by_recheck", lambda l: l["woken_by"] == "recheck"),
                 ("store_errors", lambda l: l["woken_by"] == "store_error"),
                 ("leases_expired_under_holder", lambda l: l["lease_expired"]))

    def _locks(self, who, s, locks):
        """task.lock: only in runs that count lock attempts; when any task
        carries one (reports before lack them), the run's lock counters are
        the sums of the tasks' records."""
        if not locks:
            return
        counters = s["counters"]
        if "lock_attempts" not in counters:
            raise Violation(f"{who}: task {locks[0][0]} carries a lock record, but the run "
                            "counts no lock_attempts")
        for name, of in self.LOCK_SUMS:
            total = sum(int(of(lock)) for _, lock in locks)
            if counters.get(name, 0) != total:
                raise Violation(f"{who}: summary.counters.{name} is {counters.get(name, 0)}, "
                                f"but the tasks' lock records add up to {total}")
        for i, lock in locks:
            if lock["lease_expired"] and lock["woken_by"] == "store_error":
                raise Violation(f"{who}: task {i}: lease_expired on a lock it never got "
                                "(woken_by store_error)")

    def _links(self, who, linked, spans_of):
        """waited_on: names another task of the run, a kind of vocabulary.links,
        a time within the other task's life and not after this task's end;
        a hand-off lands before the grantee's lock_held, and a releaser
        hands over at most once per lock_held span of its own (chains)."""
        n = len(spans_of)
        sources = {}
        for i, link in linked:
            other, kind, at = link["task"], link["kind"], link["at_us"]
            if kind not in self.links:
                raise Violation(f"{who}: task {i}: waited_on kind {kind!r} is not in "
                                "vocabulary.links")
            if other == i:
                raise Violation(f"{who}: task {i} waited on itself")
            if other >= n:
                raise Violation(f"{who}: task {i} waited on task {other}, but the run has "
                                f"{n} tasks")
            ostart, oend, _ = spans_of[other]
            if not ostart <= at <= oend:
                raise Violation(f"{who}: task {i} waited on task {other} ({kind}) at {at}, "
                                f"outside that task [{ostart}, {oend}]")
            if at > spans_of[i][1]:
                raise Violation(f"{who}: task {i} waited on task {other} ({kind}) at {at}, "
                                f"after its own end {spans_of[i][1]}")
            if kind != "handoff":
                continue
            if not any(b >= at for b in spans_of[i][2]):
                raise Violation(f"{who}: task {i} was handed the lock by task {other} at "
                                f"{at}, but has no lock_held span starting at or after it")
            sources[other] = sources.get(other, 0) + 1
            if sources[other] > len(spans_of[other][2]):
                raise Violation(f"{who}: task {other} handed a lock over "
                                f"{sources[other]} times (the last to task {i}), but held "
                                f"one {len(spans_of[other][2])} times: hand-offs form chains")

    def _tasks(self, who, tasks, s, run, interrupted, wall):
        first = self.ref_keys is None
        if first:
            self.ref_keys, self.ref_arrivals = [], []
        ref_keys, ref_arrivals = self.ref_keys, self.ref_arrivals
        nref = len(ref_keys)
        nkeys = self.nkeys
        key_tasks = [0] * nkeys
        outcome_set, stage_set, ok = self.outcome_set, self.stage_set, self.ok
        states, wait_set, encloses, fetch_rank = (self.states, self.wait_set, self.encloses,
                                                  self.fetch_rank)
        outcomes = dict.fromkeys(self.outcomes, 0)
        errors = dict.fromkeys(self.stages, 0)
        waits = dict.fromkeys(self.wait, 0)
        latencies = []
        # waiters for sure (a positive wait for others) and perhaps (any such
        # span: one of 0 µs may still have been a wait resumed within the µs)
        waiters_sure, waiters_maybe = [], 0
        # the tasks that say so ("waiter": true), and the first sure waiter
        # that does not: written by every report since the flag came
        flagged, unflagged = [], None
        others_wait = self.others_wait
        # (task, waited_on) of each linked task, and each task's extent and
        # lock_held starts: a link may name a later task, so checked after
        spans_of = []
        linked = []
        locks = []
        prev_arrival = 0
        for i, t in enumerate(tasks):
            if t["id"] != i:
                raise Violation(f"{who}: task {i} has id {t['id']}: ids are the arrival order")
            key, arrival = t["key"], t["arrival_us"]
            if key >= nkeys:
                raise Violation(f"{who}: task {i} has key {key}, but config.workload.keys "
                                f"is {nkeys}")
            key_tasks[key] += 1
            if arrival < prev_arrival:
                raise Violation(f"{who}: task {i} arrives at {arrival}, before task {i - 1} "
                                f"({prev_arrival}): tasks are listed in arrival order")
            prev_arrival = arrival
            if first:
                ref_keys.append(key)
                ref_arrivals.append(arrival)
            elif i < nref and (ref_keys[i] != key or ref_arrivals[i] != arrival):
                raise Violation(f"{who}: task {i} is key {key} arriving at {arrival}, but in "
                                f"run 0 key {ref_keys[i]} arriving at {ref_arrivals[i]}: "
                                "every run plays the same workload")
            o = t["outcome"]
            if o not in outcome_set:
                raise Violation(f"{who}: task {i}: outcome {o!r} is not in vocabulary.outcomes")
            outcomes[o] += 1
            start, end = t["start_us"], t["end_us"]
            if end < start:
                raise Violation(f"{who}: task {i} ends before it starts ({end} < {start})")
            if not interrupted:
                if o == "cancelled":
                    raise Violation(f"{who}: task {i} is cancelled, but the run was not "
                                    "interrupted")
                if end > wall:
                    raise Violation(f"{who}: task {i} ends at {end}, after the run's "
                                    f"wall_us {wall}")
            err = t.get("error")
            if err is not None:
                stage = err["stage"]
                if stage not in stage_set:
                    raise Violation(f"{who}: task {i}: error stage {stage!r} is not in "
                                    "vocabulary.stages")
                # a stale value served after the task's own refresh failed
                if ok[o] and o != "stale":
                    raise Violation(f"{who}: task {i} has outcome {o}, which is ok, and an "
                                    "error")
                if o != "shared_error":
                    errors[stage] += 1
            elif o in ("error", "shared_error"):
                raise Violation(f"{who}: task {i} has outcome {o} but no error object")
            spans = t["spans"]
            held_starts = [b for st, b, _ in spans if st == "lock_held"]
            spans_of.append((start, end, held_starts))
            if "waited_on" in t:
                linked.append((i, t["waited_on"]))
            if "lock" in t:
                locks.append((i, t["lock"]))
            if "wait_us" in t:
                own = sum(e - b for st, b, e in spans if st in wait_set)
                if t["wait_us"] != own:
                    raise Violation(f"{who}: task {i}: wait_us is {t['wait_us']}, but its wait "
                                    f"spans add up to {own}")
            # a task that never arrived has no duration: latency_us is over
            # the tasks that arrived
            if spans or o != "cancelled":
                latencies.append(end - start)
            if not spans:
                if o == "cancelled" and not (start == end == wall):
                    raise Violation(f"{who}: task {i} is cancelled before it arrived (no "
                                    f"spans), but [{start}, {end}] is not [wall_us, wall_us] "
                                    f"= [{wall}, {wall}]")
                continue
            if start < arrival:
                raise Violation(f"{who}: task {i} starts at {start}, before its arrival "
                                f"{arrival}")
            prev_start = start
            sure = maybe = False
            flat_end = start
            fetch_prev = None
            held = []
            for j, (st, b, e) in enumerate(spans):
                if st not in states:
                    raise Violation(f"{who}: task {i}: span {j} state {st!r} is not in "
                                    "vocabulary.states")
                if e < b:
                    raise Violation(f"{who}: task {i}: span {j} ({st}) ends before it starts "
                                    f"({e} < {b})")
                if b < start or e > end:
                    raise Violation(f"{who}: task {i}: span {j} ({st}) [{b}, {e}] lies "
                                    f"outside the task [{start}, {end}]")
                if b < prev_start:
                    raise Violation(f"{who}: task {i}: span {j} ({st}) starts at {b}, before "
                                    f"span {j - 1} ({prev_start}): spans are ordered by start")
                prev_start = b
                if st in wait_set:
                    waits[st] += e - b
                if st in others_wait:
                    sure = sure or e > b
                    maybe = True
                if st in encloses:
                    held.append((j, st, b, e))
                    continue
                for hj, hst, hb, he in held:
                    if b < he < e:
                        raise Violation(f"{who}: task {i}: span {j} ({st}) [{b}, {e}] starts "
                                        f"inside span {hj} ({hst}) [{hb}, {he}] and ends "
                                        "after it")
                rank = fetch_rank.get(st)
                if rank is not None:
                    if fetch_prev is not None:
                        prank, pst, pe = fetch_prev
                        if rank <= prank:
                            raise Violation(f"{who}: task {i}: span {j} ({st}) after {pst}: "
                                            "fetch phases out of order or repeated")
                        if b != pe:
                            raise Violation(f"{who}: task {i}: span {j} ({st}) starts at "
                                            f"{b}, not where {pst} ended ({pe})")
                    fetch_prev = (rank, st, e)
                    continue
                if b < flat_end:
                    raise Violation(f"{who}: task {i}: span {j} ({st}) [{b}, {e}] overlaps "
                                    f"the span before it, which ends at {flat_end}")
                flat_end = e
            if sure:
                waiters_sure.append(end - start)
            waiters_maybe += maybe
            if t.get("waiter"):
                if not maybe:
                    raise Violation(f"{who}: task {i} says waiter, but entered no wait for "
                                    "another task")
                flagged.append(end - start)
            elif sure and unflagged is None:
                unflagged = i
        self._links(who, linked, spans_of)
        self._locks(who, s, locks)
        n = len(tasks)
        if n != self.cfg["tasks"]:
            raise Violation(f"{who}: {n} tasks listed, config.tasks is {self.cfg['tasks']}")
        if s["tasks"] != n:
            raise Violation(f"{who}: summary.tasks is {s['tasks']}, but {n} tasks are listed")
        self._outcomes(who, s, outcomes, n)
        self._errors(who, s, errors)
        self._keys(who, run, s, key_tasks)
        self._latency(who, s, latencies)
        self.run_lat.append(latencies)
        self.run_wlat.append(flagged)
        self._waiters(who, s, waiters_sure, waiters_maybe, flagged, unflagged)
        self._waits(who, s, waits)

    def _outcomes(self, who, s, outcomes, n):
        so = s["outcomes"]
        total = sum(so.values())
        if total != s["tasks"]:
            raise Violation(f"{who}: summary.outcomes add up to {total}, summary.tasks is "
                            f"{s['tasks']}")
        for name in so:
            if name not in self.outcome_set:
                raise Violation(f"{who}: summary.outcomes.{name} is not in vocabulary.outcomes")
        # a run lists the outcomes of its own strategy: the others are 0
        for name, count in outcomes.items():
            if name not in so and count:
                raise Violation(f"{who}: summary.outcomes.{name} is missing, but {count} "
                                f"tasks have outcome {name}")
            if so.get(name, 0) != count:
                raise Violation(f"{who}: summary.outcomes.{name} is {so.get(name)}, but "
                                f"{count} tasks have outcome {name}")
        # cache_hits counts gets that found a fresh value: every cache_hit
        # task made one, and a task may make more (an early refresh reads a
        # fresh value, then fetches)
        hits = outcomes.get("cache_hit", 0)
        if s["cache_hits"] < hits:
            raise Violation(f"{who}: summary.cache_hits is {s['cache_hits']}, but {hits} tasks "
                            "have outcome cache_hit")

    def _errors(self, who, s, errors):
        se = s["errors"]
        for name in se:
            if name != "total" and name not in self.stage_set:
                raise Violation(f"{who}: summary.errors.{name} is not in vocabulary.stages")
        by_stage = sum(v for k, v in se.items() if k != "total")
        if se["total"] != by_stage:
            raise Violation(f"{who}: summary.errors.total is {se['total']}, but the stage "
                            f"counters add up to {by_stage}")
        failed = sum(errors.values())
        if se["total"] != failed:
            raise Violation(f"{who}: summary.errors.total is {se['total']}, but {failed} tasks "
                            "carry an error of their own fetch")
        for stage, count in errors.items():
            if se.get(stage, 0) != count:
                raise Violation(f"{who}: summary.errors.{stage} is {se.get(stage, 0)}, but "
                                f"{count} tasks failed at {stage}")

    def _keys(self, who, run, s, key_tasks):
        keys = run["keys"]
        for field in ("tasks", "upstream_requests", "max_in_flight"):
            if len(keys[field]) != self.nkeys:
                raise Violation(f"{who}: keys.{field} has {len(keys[field])} entries, "
                                f"config.workload.keys is {self.nkeys}")
        if sum(keys["tasks"]) != s["tasks"]:
            raise Violation(f"{who}: keys.tasks add up to {sum(keys['tasks'])}, summary.tasks "
                            f"is {s['tasks']}")
        for k, (listed, counted) in enumerate(zip(keys["tasks"], key_tasks)):
            if listed != counted:
                raise Violation(f"{who}: keys.tasks[{k}] is {listed}, but {counted} tasks have "
                                f"key {k}")
        up = sum(keys["upstream_requests"])
        if up != s["upstream_requests"]:
            raise Violation(f"{who}: keys.upstream_requests add up to {up}, "
                            f"summary.upstream_requests is {s['upstream_requests']}")
        for k, (most, sent) in enumerate(zip(keys["max_in_flight"], keys["upstream_requests"])):
            if most > sent or (most == 0) != (sent == 0):
                raise Violation(f"{who}: keys.max_in_flight[{k}] is {most}, with "
                                f"{sent} upstream requests of key {k}")
        most = max(keys["max_in_flight"], default=0)
        if s["stampede_max"] != most:
            raise Violation(f"{who}: summary.stampede_max is {s['stampede_max']}, but "
                            f"keys.max_in_flight peaks at {most}")

    def _latency(self, who, s, latencies):
        lat = s.get("latency_us")
        if not latencies:
            if lat is not None:
                raise Violation(f"{who}: summary.latency_us is present, but no task of the run "
                                "arrived")
            return
        if lat is None:
            raise Violation(f"{who}: summary.latency_us is missing, but {len(latencies)} "
                            "tasks arrived")
        _same_percentiles(f"{who}: summary.latency_us", lat, latencies, "the tasks'")

    def _waiters(self, who, s, sure, maybe, flagged, unflagged):
        n = s["waiters"]
        if flagged:
            # the tasks say which they are: exact, no guessing from spans
            if unflagged is not None:
                raise Violation(f"{who}: task {unflagged} waited for another task, but does "
                                "not say waiter")
            if len(flagged) != n:
                raise Violation(f"{who}: summary.waiters is {n}, but {len(flagged)} tasks say "
                                "waiter")
            if s["waiter_latency_us"] is None:
                raise Violation(f"{who}: summary.waiter_latency_us is None, with {n} waiters")
            _same_percentiles(f"{who}: summary.waiter_latency_us", s["waiter_latency_us"],
                              flagged, "the waiters'")
            return
        if not len(sure) <= n <= maybe:
            raise Violation(f"{who}: summary.waiters is {n}, but {len(sure)} tasks waited for "
                            f"another task (and {maybe} entered such a wait)")
        lat = s["waiter_latency_us"]
        if (lat is None) != (n == 0):
            raise Violation(f"{who}: summary.waiter_latency_us is {lat}, with {n} waiters")
        if lat is None or len(sure) != n:
            return
        _same_percentiles(f"{who}: summary.waiter_latency_us", lat, sure, "the waiters'")

    def _waits(self, who, s, waits):
        w = s["wait_us"]
        for name in w:
            if name != "total" and name not in self.wait_set:
                raise Violation(f"{who}: summary.wait_us.{name} is not a wait state of the "
                                "vocabulary")
        for name, v in waits.items():
            if w.get(name, 0) != v:
                raise Violation(f"{who}: summary.wait_us.{name} is {w.get(name, 0)}, but the "
                                f"tasks' {name} spans add up to {v}")
        total = sum(waits.values())
        if w["total"] != total:
            raise Violation(f"{who}: summary.wait_us.total is {w['total']}, but the wait "
                            f"states add up to {total}")

    def _counts(self, who, run, s):
        mode = run["mode"]
        for name in s["counters"]:
            if name not in self.counter_modes:
                raise Violation(f"{who}: summary.counters.{name} is not in vocabulary.counters")
        for name, cmodes in self.counter_modes.items():
            if (None in cmodes or mode in cmodes) != (name in s["counters"]):
                raise Violation(f"{who}: summary.counters.{name} " +
                                ("is missing" if name not in s["counters"] else "is present")
                                + ": vocabulary.counters gives it to mode "
                                + ", ".join(sorted(str(m) for m in cmodes)))
        server = run["server"]
        if server is None:
            if s["server_requests"] is not None:
                raise Violation(f"{who}: summary.server_requests is {s['server_requests']}, "
                                "but the run has no server")
        elif server["requests"] != s["server_requests"]:
            raise Violation(f"{who}: summary.server_requests is {s['server_requests']}, but "
                            f"server.requests is {server['requests']}")
        th = run["threads"]
        if s["threads_created"] != len(th["lifetimes"]):
            raise Violation(f"{who}: summary.threads_created is {s['threads_created']}, but "
                            f"threads.lifetimes has {len(th['lifetimes'])}")
        for k, life in enumerate(th["lifetimes"]):
            if life.get("task") is not None and life["task"] >= len(run["tasks"]):
                raise Violation(f"{who}: threads.lifetimes[{k}].task is {life['task']}, but "
                                f"the run has {len(run['tasks'])} tasks")
        peak = max((c for _, c in th["samples"]), default=None)
        if peak is not None and s["peak_threads"] != peak:
            raise Violation(f"{who}: summary.peak_threads is {s['peak_threads']}, but "
                            f"threads.samples peak at {peak}")

    # -- the document ---------------------------------------------------
    def key_order(self, doc):
        keys = list(doc)
        if keys and keys[-1] != "interrupted":
            raise Violation(f"interrupted is not the last key (the last is {keys[-1]!r})")
        order = [k for k in V2_KEYS if k in doc]
        if keys != order:
            raise Violation(f"top-level keys in the order {keys}, expected {order}")

    def finish(self, doc):
        """The document-wide invariants, once every run has been read."""
        self.key_order(doc)
        interrupted = doc["interrupted"]
        nruns = len(self.runs)
        planned = len(self.modes) * self.cfg["repeat"]
        for ri, (mode, _, run_interrupted) in enumerate(self.runs):
            if run_interrupted and not interrupted:
                raise Violation(f"run {ri} ({mode}) is interrupted, but the report is not")
        fleet = doc.get("fleet")
        if fleet is not None:
            self._fleet(fleet, interrupted, planned)
        elif self.fleet:
            raise Violation(f"config.processes is {self.cfg['processes']}, but there is no fleet")
        else:
            if not interrupted and nruns != planned:
                raise Violation(f"{nruns} runs, but config asks for {planned} "
                                f"({len(self.modes)} modes x repeat {self.cfg['repeat']})")
            if nruns > planned:
                raise Violation(f"{nruns} runs, but config asks for {planned}")
        self._repeats(doc.get("repeats"))
        self._expectations(doc.get("expectations"), doc.get("repeats"))

    def _fleet(self, fleet, interrupted, planned):
        """fleet.groups: one per (mode, repeat) in the interleaved order, each
        naming the clients whose runs follow in runs, its per_client lines
        those runs' figures, its summary their aggregate (docs/report-v2.md)."""
        if not self.fleet:
            raise Violation("fleet is present, but config.processes is 1")
        if fleet["processes"] != self.cfg["processes"]:
            raise Violation(f"fleet.processes is {fleet['processes']}, but config.processes is "
                            f"{self.cfg['processes']}")
        groups = fleet["groups"]
        ri = 0
        lost = 0
        for k, g in enumerate(groups):
            who = f"fleet.groups[{k}] ({g['mode']})"
            want = (self.modes[k % len(self.modes)], k // len(self.modes))
            if (g["mode"], g["repeat"]) != want:
                raise Violation(f"{who}: is repeat {g['repeat']} of {g['mode']}, but groups "
                                f"interleave the modes: group {k} should be repeat {want[1]} of {want[0]}")
            if g["clients"] != sorted(set(g["clients"])):
                raise Violation(f"{who}: clients {g['clients']} are not distinct and ascending")
            if set(g["clients"]) & set(g["lost"]):
                raise Violation(f"{who}: a client both ran and was lost")
            if len(g["clients"]) + len(g["lost"]) > fleet["processes"]:
                raise Violation(f"{who}: more clients than fleet.processes")
            lost += len(g["lost"])
            runs = list(range(ri, ri + len(g["clients"])))
            ri += len(g["clients"])
            got = [self.run_ids[i] for i in runs if i < len(self.run_ids)]
            if got != [(g["mode"], g["repeat"], c) for c in g["clients"]]:
                raise Violation(f"{who}: names clients {g['clients']}, but the runs there are {got}")
            sums = [self.runs[i][1] for i in runs]
            pcs = g["per_client"]
            if [p["client"] for p in pcs] != g["clients"]:
                raise Violation(f"{who}: per_client does not list its clients in order")
            for p, s, i in zip(pcs, sums, runs):
                for f, v in (("tasks", s["tasks"]), ("upstream_requests", s["upstream_requests"]),
                             ("cache_hits", s["cache_hits"]), ("errors", s["errors"]["total"]),
                             ("wall_us", s["wall_us"]), ("interrupted", self.runs[i][2])):
                    if not _same_number(p[f], v):
                        raise Violation(f"{who}: per_client {p['client']}: {f} is {p[f]}, but its run "
                                        f"says {v}")
            agg = g["summary"]
            for f in ("tasks", "upstream_requests", "cache_hits", "cache_misses", "threads_created",
                      "peak_threads", "peak_connections", "waiters", ("wait_us", "total"),
                      ("errors", "total")):
                get = (lambda x, f=f: x[f[0]][f[1]]) if isinstance(f, tuple) else (lambda x, f=f: x[f])
                want_v = sum(get(s) for s in sums)
                if get(agg) != want_v:
                    raise Violation(f"{who}: summary.{f} is {get(agg)}, but its runs add up to {want_v}")
            for fam in ("outcomes", "counters"):
                for name, v in agg[fam].items():
                    want_v = sum(s[fam].get(name, 0) for s in sums)
                    if v != want_v:
                        raise Violation(f"{who}: summary.{fam}.{name} is {v}, but its runs add up "
                                        f"to {want_v}")
            for f in ():
                want_v = 0
                if agg[f] != want_v:
                    raise Violation(f"{who}: summary.{f} is {agg[f]}, but its runs add up to {want_v}")
            for f in ("wall_us", "stampede_max"):
                want_v = max((s[f] for s in sums), default=0)
                if agg[f] != want_v:
                    raise Violation(f"{who}: summary.{f} is {agg[f]}, but its slowest run gives {want_v}")
            durations = [d for i in runs for d in self.run_lat[i]]
            self._latency(f"{who}", agg, durations)
            # the waiters' latency: from the tasks that say waiter, when
            # they are as many as the runs count (reports before the flag:
            # unknown, null)
            waited = [d for i in runs for d in self.run_wlat[i]]
            wl = agg["waiter_latency_us"]
            if len(waited) == agg["waiters"] and waited:
                if wl is None:
                    raise Violation(f"{who}: summary.waiter_latency_us is None, but its runs' "
                                    f"{len(waited)} waiters say waiter")
                _same_percentiles(f"{who}: summary.waiter_latency_us", wl, waited, "the waiters'")
            elif wl is not None:
                raise Violation(f"{who}: summary.waiter_latency_us is {wl}, but its runs' tasks "
                                f"name {len(waited)} of {agg['waiters']} waiters")
            if g["interrupted"] != any(self.runs[i][2] for i in runs):
                raise Violation(f"{who}: interrupted is {g['interrupted']}, but its runs say otherwise")
        if ri != len(self.runs):
            raise Violation(f"{len(self.runs)} runs, but fleet.groups name {ri}")
        if fleet["lost_clients"] != lost:
            raise Violation(f"fleet.lost_clients is {fleet['lost_clients']}, but the groups lost {lost}")
        if not interrupted and not lost and len(groups) != planned:
            raise Violation(f"{len(groups)} fleet groups, but config asks for {planned} "
                            f"({len(self.modes)} modes x repeat {self.cfg['repeat']})")
        if len(groups) > planned:
            raise Violation(f"{len(groups)} fleet groups, but config asks for {planned}")
        # what repeats and expectations judge: each round's aggregate
        self.judged_runs = [(g["mode"], g["summary"], g["interrupted"]) for g in groups]

    def _by_mode(self):
        out = {}
        for mode, s, _ in getattr(self, "judged_runs", self.runs):
            out.setdefault(mode, []).append(s)
        return out

    def _repeats(self, repeats):
        if self.cfg["repeat"] == 1:
            if repeats is not None:
                raise Violation("repeats is present, but config.repeat is 1")
            return
        if repeats is None:
            if self.runs:
                raise Violation(f"repeats is missing, but config.repeat is {self.cfg['repeat']}")
            return
        by_mode = self._by_mode()
        seen = set()
        for r in repeats:
            mode = r["mode"]
            if mode not in by_mode:
                raise Violation(f"repeats has mode {mode!r}, which has no run")
            if mode in seen:
                raise Violation(f"repeats lists mode {mode!r} twice")
            seen.add(mode)
            runs = by_mode[mode]
            if r["count"] != len(runs):
                raise Violation(f"repeats ({mode}): count is {r['count']}, but {len(runs)} runs "
                                f"are of mode {mode}")
            leaves = [_leaves(s) for s in runs]
            paths = {}
            for lv in leaves:
                paths.update(dict.fromkeys(lv))
            for stat in ("median", "min", "max"):
                got = _leaves(r[stat])
                for path in got:
                    if path not in paths:
                        raise Violation(f"repeats ({mode}): {stat}.{'.'.join(path)} is in no "
                                        "run's summary")
                for path in paths:
                    vals = sorted(lv[path] for lv in leaves if lv.get(path) is not None)
                    if not vals:
                        want = None
                    elif stat == "median":
                        want = vals[(len(vals) - 1) // 2]   # the lower middle
                    else:
                        want = vals[0] if stat == "min" else vals[-1]
                    if not _same_number(got.get(path), want):
                        raise Violation(f"repeats ({mode}): {stat}.{'.'.join(path)} is "
                                        f"{got.get(path)}, but the runs give {want}")
        missing = [m for m in by_mode if m not in seen]
        if missing:
            raise Violation(f"repeats has no entry for mode {missing[0]!r}")

    def _expectations(self, expectations, repeats):
        if expectations is None:
            return
        judged = {}
        for mode, runs in self._by_mode().items():
            judged[mode] = runs[0] if len(runs) == 1 else None
        for r in repeats or ():
            judged[r["mode"]] = r["median"]
        seen = set()
        for k, x in enumerate(expectations):
            who = f"expectations[{k}] ({x['expect']}, {x['mode']})"
            if x["mode"] not in self.modes:
                raise Violation(f"{who}: mode {x['mode']!r} is not in config.modes")
            if (x["expect"], x["mode"]) in seen:
                raise Violation(f"{who}: a second verdict for the same expectation and mode")
            seen.add((x["expect"], x["mode"]))
            if x["actual"] is None and x["ok"]:
                raise Violation(f"{who}: ok without an actual value")
            m = EXPECT_RE.match(x["expect"])
            if m is None:
                continue
            prefix, metric, op, value = m.groups()
            if prefix is not None and prefix != x["mode"]:
                raise Violation(f"{who}: judged on mode {x['mode']}, but it names {prefix}")
            field = EXPECT_FIELDS.get(metric)
            summary = judged.get(x["mode"])
            if field is None or summary is None or x["actual"] is None:
                continue
            actual = summary
            for f in field:
                actual = actual.get(f) if isinstance(actual, dict) else None
            if actual is not None and actual != x["actual"]:
                raise Violation(f"{who}: actual is {x['actual']}, but the summary says {actual}")
            try:
                want_ok = OPS[op](x["actual"], float(value))
            except ValueError:
                continue
            if want_ok != x["ok"]:
                raise Violation(f"{who}: ok is {str(x['ok']).lower()}, but {x['actual']} {op} "
                                f"{value} is {str(want_ok).lower()}")
        for x in expectations:
            m = EXPECT_RE.match(x["expect"])
            if m is not None and m.group(1) is None:
                for mode in self.modes:
                    if (x["expect"], mode) not in seen:
                        raise Violation(f"expectations: {x['expect']!r} has no verdict for "
                                        f"mode {mode}")


def check(path):
    """Raises Violation for the first invariant the report at path breaks."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Violation(e.strerror) from None
    version = "fetchbench/1"
    try:
        text = read_text(raw)
        head = read_head(text)
        if head.get("schema") == "fetchbench/2" and "config" in head and "vocabulary" in head:
            version = "fetchbench/2"
            v2 = V2(head)
            doc = fbplot.read_json(text, stream="runs", on_item=v2.run)
            v2.finish(doc)
            return
        totals = Totals()
        doc = fbplot.read_json(text, on_item=lambda i, t: check_task(i, t, totals))
        known = ("fetchbench/1", "fetchbench/2")
        if isinstance(doc, dict) and isinstance(doc.get("schema"), str) \
                and doc["schema"] not in known:
            raise Violation(f"unknown schema {doc['schema']!r}: this checker reads "
                            f"{' and '.join(known)}")
        if isinstance(doc, dict) and doc.get("schema") == "fetchbench/2":
            # runs came before the config or the vocabulary: read whole
            version = "fetchbench/2"
            v2 = V2(doc)
            v2.key_order(doc)
            for i, run in enumerate(doc["runs"]):
                v2.run(i, run)
            v2.finish(dict(doc, runs=len(doc["runs"])))
            return
        check_summary(doc, totals)
    except fbplot.JSONProblem as e:
        raise Violation(str(e)) from None
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
        # the schema's business; said in one line all the same
        raise Violation(f"not a valid {version} report ({type(e).__name__}: {e}); "
                        "run tests/validate_json.py") from None


def read_text(raw):
    """raw as text; JSONProblem when it is not UTF-8 (as read_json says it)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise fbplot.JSONProblem(f"not JSON (invalid UTF-8 at byte {e.start})") from None


_WS = re.compile(r"[ \t\n\r]*")


def read_head(text):
    """The members of the top-level object that come before "runs", read
    leniently: the strict reader reads them again and says what is wrong
    with them.  {} when the text does not start like an object."""
    dec = json.JSONDecoder()
    head = {}
    pos = _WS.match(text).end()
    if not text.startswith("{", pos):
        return head
    pos += 1
    try:
        while True:
            pos = _WS.match(text, pos).end()
            key, pos = dec.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()
            if not isinstance(key, str) or not text.startswith(":", pos) or key == "runs":
                return head
            pos = _WS.match(text, pos + 1).end()
            head[key], pos = dec.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()
            if not text.startswith(",", pos):
                return head
            pos += 1
    except ValueError:
        return head


def main(paths):
    # no cycles among parsed JSON: the collector would only walk millions
    # of fresh lists and dicts again and again (5x the parse time)
    gc.disable()
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
