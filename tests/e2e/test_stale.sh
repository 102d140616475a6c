# stale (stale-while-revalidate) on seeded workloads, checked on counts and
# on each task's spans, never on absolute times. STALE_MODE=nolock runs the
# suite with nolock in stale's place, and it must fail (the proof that it
# tests something).
. "$FB_ROOT/tests/e2e/lib.sh"
MODE=${STALE_MODE:-stale}

# after_fill.py REPORT: the tasks that started after the key's first value
# was stored (the first task to end `fetched`): "TASKS OUTCOMES WAITED
# FETCHING OVERLAP STALE_ERRORS" — how many, the set of their outcomes,
# how many have a lock_wait span, how many fetched, the most fetches in
# flight at once among them, how many ended stale carrying an error.
cat > "$SCRATCH/after_fill.py" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
fetch = {s["name"] for s in rep["vocabulary"]["states"] if s["fetch"]}
run = rep["runs"][0]
first = min(t["end_us"] for t in run["tasks"] if t["outcome"] == "fetched")
after = [t for t in run["tasks"] if t["start_us"] >= first]
ivs = []
for t in after:
    f = [s for s in t["spans"] if s[0] in fetch]
    if f:
        ivs.append((f[0][1], f[-1][2]))
edges = sorted([(a, 1) for a, _ in ivs] + [(b, -1) for _, b in ivs])
n = top = 0
for _, d in edges:
    n += d
    top = max(top, n)
print(len(after), ",".join(sorted({t["outcome"] for t in after})),
      sum(any(s[0] == "lock_wait" for s in t["spans"]) for t in after), len(ivs), top,
      sum(t["outcome"] == "stale" and "error" in t for t in after))
EOF
after_fill() { /usr/bin/python3 "$SCRATCH/after_fill.py" "$1"; }

### After the first fill nobody waits: an expired value is served at once
# while one task refreshes it.
fb --keys 1 --rate 400 --duration 2 --ttl-ms 200 --delay-ms 100 --seed 7 --mode "$MODE" --quiet \
    --trace "$SCRATCH/s.trace.json" > "$SCRATCH/s.json" || fail "$MODE run failed"
validate "$SCRATCH/s.json"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/s.trace.json" "$SCRATCH/s.json" || fail "$MODE trace"
set -- $(after_fill "$SCRATCH/s.json")
echo "after the first fill: $1 tasks ($2), $3 waited, $4 fetched, $5 at once"
[ "$1" -ge 300 ] || fail "only $1 tasks after the first fill: the workload is wrong"
case ",$2," in *,error,* | *,timed_out,* | *,shared*) fail "outcomes after the first fill: $2" ;; esac
expect_eq "tasks waiting for a lock after the first fill" "$3" 0
expect_eq "fetches at once after the first fill" "$5" 1
stale=$(jqv "$SCRATCH/s.json" '.runs[0].summary.outcomes.stale')
[ "$stale" -gt 0 ] || fail "no task was served a stale value"
refreshes=$(jqv "$SCRATCH/s.json" '.runs[0].summary.counters.refreshes // 0')
expect_eq "refreshes = fetches after the first fill" "$refreshes" "$4"
[ "$refreshes" -ge 3 ] || fail "$refreshes refreshes in 2 s with a 200 ms TTL"
# One fill, the rest refreshes: nothing else went upstream.
expect_eq "upstream = fill + refreshes" "$(jqv "$SCRATCH/s.json" '.runs[0].summary.upstream_requests')" \
    $((refreshes + 1))
echo "ok: stale while revalidating ($stale stale, $refreshes refreshes)"

### The first fill's waiters give up after --lock-timeout-ms and fetch for
# themselves: 10 tasks at once, a 400 ms fetch, a 100 ms timeout.
fb --tasks 10 --delay-ms 400 --lock-timeout-ms 100 --mode "$MODE" --quiet > "$SCRATCH/t.json" \
    || fail "lock-timeout run failed"
validate "$SCRATCH/t.json"
expect_eq "lock timeouts" "$(jqv "$SCRATCH/t.json" '.runs[0].summary.counters.lock_timeouts')" 9
expect_eq "upstream requests" "$(jqv "$SCRATCH/t.json" '.runs[0].summary.upstream_requests')" 10
expect_eq "fetched" "$(jqv "$SCRATCH/t.json" '.runs[0].summary.outcomes.fetched')" 10
expect_eq "one filler (lock_held)" \
    "$(jqv "$SCRATCH/t.json" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "lock_held"))] | length')" 1
expect_eq "nine waited, then fetched" \
    "$(jqv "$SCRATCH/t.json" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "lock_wait" and .[2] > .[1])
        and any(.spans[]; .[0] | IN("request", "in_service")))] | length')" 9
echo "ok: lock timeout"

### A timed-out fetch is not stored: the cache keeps the first fill. Tasks
# arrive for 1.2 s; the first fill ends at F, with a 300 ms TTL. Had the
# timed-out fetches (the last ends at L > F) stored their values, the entry
# would be fresh until L + TTL; it expires at F + TTL, so the first task to
# start after that refreshes it. (A task reads the cache in its first step,
# at its start_us; the fill stored at its end_us: the same clock readings,
# so the boundaries are exact.)
fb --rate 40 --duration 1.2 --ttl-ms 300 --delay-ms 400 --lock-timeout-ms 100 --seed 5 --mode "$MODE" \
    --quiet > "$SCRATCH/u.json" || fail "unstored run failed"
validate "$SCRATCH/u.json"
read -r timeouts hits probe verdict <<EOF
$(jq -r '.runs[0] as $r
  | ([$r.tasks[] | select(.outcome == "fetched")] | min_by(.end_us)) as $fill
  | [$r.tasks[] | select(any(.spans[]; .[0] == "lock_wait" and .[2] > .[1]) and any(.spans[]; .[0] | IN("request", "in_service")))]
    as $gave_up
  | ([$gave_up[].end_us] | max) as $last
  | ([$r.tasks[] | select(.start_us > $fill.end_us and .start_us < $fill.end_us + 300000)]) as $fresh
  | ([$r.tasks[] | select(.start_us >= $fill.end_us + 300000)] | min_by(.start_us)) as $probe
  | [($gave_up | length),
     ([$fresh[] | select(.outcome == "cache_hit")] | length == ($fresh | length) and ($fresh | length) > 0),
     ($probe.start_us < $last + 300000),
     $probe.outcome] | @tsv' "$SCRATCH/u.json")
EOF
echo "unstored: $timeouts gave up; later tasks hit: $hits; probe discriminates: $probe, ended $verdict"
[ "$timeouts" -ge 3 ] || fail "only $timeouts tasks gave up on the lock"
expect_eq "tasks after the fill, before it expires, hit" "$hits" true
expect_eq "the probe task comes before a stored timed-out fetch would expire" "$probe" true
expect_eq "the first task after the fill expires refreshes it" "$verdict" fetched
echo "ok: a timed-out fetch is not stored"

### A failing refresh keeps serving: a third of the requests fail (seeded);
# the refresher that fails is served the old value too (`stale`, carrying
# its error) and a later task refreshes again. After the first fill no task
# ends `error`. The failed fetches make the exit code 1.
set +e
fb --keys 1 --rate 400 --duration 2 --ttl-ms 200 --delay-ms 100 --seed 7 --fail-rate 0.3 --mode "$MODE" \
    --quiet > "$SCRATCH/f.json"
rc=$?
set -e
expect_eq "exit code with failed fetches" "$rc" 1
validate "$SCRATCH/f.json"
set -- $(after_fill "$SCRATCH/f.json")
failures=$(jqv "$SCRATCH/f.json" '.runs[0].summary.counters.refresh_failures // 0')
echo "failing refreshes: after the first fill $1 tasks ($2), $5 at once; $failures refreshes failed, $6 stale with an error"
case ",$2," in *,error,*) fail "a task ended error after the first fill: $2" ;; esac
[ "$failures" -gt 0 ] || fail "no refresh failed at --fail-rate 0.3"
expect_eq "stale tasks carrying an error = failed refreshes" "$6" "$failures"
expect_eq "fetches at once after the first fill" "$5" 1
[ "$(jqv "$SCRATCH/f.json" '.runs[0].summary.outcomes.stale')" -gt 0 ] || fail "no stale value served"
echo "ok: a failing refresh keeps serving"

### A failing first fill: nothing stale to serve, so the waiters take turns
# (the lock goes to the next one, which fills itself). The first 2 requests
# of the key fail: 20 tasks at once, 3 fills, 2 errors, then 17 hits.
set +e
fb --tasks 20 --delay-ms 100 --fail-first 2 --mode "$MODE" --quiet > "$SCRATCH/ff.json"
rc=$?
set -e
expect_eq "exit code with failed fetches" "$rc" 1
validate "$SCRATCH/ff.json"
expect_eq "failing first fills" \
    "$(jqv "$SCRATCH/ff.json" '.runs[0].summary | [.upstream_requests, .outcomes.error, .outcomes.fetched, .outcomes.cache_hit, .counters.lock_timeouts] | @tsv')" \
    "$(printf '3\t2\t1\t17\t0')"
echo "ok: a failing first fill"

### The lock's grant and the deadline race: 3000 waiters whose deadline
# falls as the fill ends. A waiter handed the lock (the grant queued for
# the next tick) whose deadline fires first must not fetch on its own: it
# takes the grant. Timing decides whether a run meets the race (about one
# waiter in some runs of three); a run that mishandles it crashes or
# counts a task twice.
for t in 100 101 102; do
    fb --tasks 3000 --delay-ms 100 --lock-timeout-ms $t --mode "$MODE" --quiet > "$SCRATCH/race.json" \
        || fail "race run (--lock-timeout-ms $t) failed"
    validate "$SCRATCH/race.json"
    expect_eq "race run $t: upstream = fill + timeouts" \
        "$(jqv "$SCRATCH/race.json" '.runs[0].summary | .upstream_requests == 1 + .counters.lock_timeouts')" true
    expect_eq "race run $t: outcomes" \
        "$(jqv "$SCRATCH/race.json" '.runs[0].summary.outcomes | .fetched + .cache_hit')" 3000
done
echo "ok: grant and deadline race"
