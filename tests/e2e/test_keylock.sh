# keylock, a lock per key: one upstream request per key, different keys
# fetched at the same time (the global lock fetches them one after the
# other), and a failed fetch retried by the key's next waiter, one attempt
# at a time. Counts and ratios only, with wide margins.
#
# KEYLOCK_MODE runs the suite against another strategy: with nolock the
# count checks fail (a stampede), with lock the overlap and speed-up checks
# fail (one lock for every key). Every check runs and reports; the suite
# fails at the end if any did.
. "$FB_ROOT/tests/e2e/lib.sh"

MODE=${KEYLOCK_MODE:-keylock}
nfail=0
# check WHAT ACTUAL EXPECTED: like expect_eq, but carries on.
check() {
    [ "$2" = "$3" ] && return 0
    echo "FAIL: $1: got '$2', expected '$3'" >&2
    nfail=$((nfail + 1))
}
# ok WHAT: a section's line, printed when none of its checks failed.
seen=0
ok() { [ "$nfail" -ne "$seen" ] || echo "ok: $*"; seen=$nfail; }
# run FILE ARGS...: one invocation, its exit code in $rc; the report validates.
run() {
    out=$1; shift
    set +e; fb --quiet "$@" > "$out"; rc=$?; set -e
    validate "$out"
}
# rv FILE RUN FILTER: one raw value out of run RUN of the report.
rv() { jq -r ".runs[$2] | $3" "$1"; }
# The fetch phases of a task's spans, as [first start, last end].
FETCH='[.spans[] | select(.[0] as $s | ["queued","dns","connect","request","server_queue","in_service","receive"] | index($s))]
       | [(map(.[1]) | min), (map(.[2]) | max)]'

### K keys at once: K fetches, all in flight together; the global lock
# takes them one by one, so it needs at least 3x the wall time (6x ideally).
# Two invocations of the same seed: the same keys and arrivals (one with
# --mode keylock,lock would do, but check_report refuses a counter name two
# modes share, and KEYLOCK_MODE=lock would make it lock,lock).
K=6 N=40
j=$SCRATCH/keys.json g=$SCRATCH/keys-lock.json
run "$j" --keys $K --tasks $N --delay-ms 300 --mode "$MODE" --trace "$SCRATCH/keys.trace.json"
check "exit code" "$rc" 0
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/keys.trace.json" "$j" || fail "trace"
run "$g" --keys $K --tasks $N --delay-ms 300 --mode lock
expect_eq "the same workload" "$(rv "$g" 0 '[.tasks[].key]')" "$(rv "$j" 0 '[.tasks[].key]')"
check "keys drawn" "$(rv "$j" 0 '[.tasks[].key] | unique | length')" $K
check "upstream requests: one per key" "$(rv "$j" 0 .summary.upstream_requests)" $K
check "server requests: one per key" "$(rv "$j" 0 .summary.server_requests)" $K
check "fetched" "$(rv "$j" 0 .summary.outcomes.fetched)" $K
check "the others hit the cache" "$(rv "$j" 0 .summary.outcomes.cache_hit)" $((N - K))
check "each hit came by a hand-off of its key's lock" "$(rv "$j" 0 .summary.counters.lock_handoffs)" $((N - K))
check "at most one fetch of a key at once" "$(rv "$j" 0 .summary.stampede_max)" 1
check "the others waited for their key's fetch" "$(rv "$j" 0 .summary.waiters)" $((N - K))
check "one fetching task per key" "$(rv "$j" 0 '[.tasks[] | select(.outcome == "fetched") | .key] | unique | length')" $K
# Every fetch started before any of them ended: all K in flight at once.
check "the fetches of different keys overlap" \
    "$(rv "$j" 0 "[.tasks[] | select(.outcome == \"fetched\") | $FETCH] | (map(.[0]) | max) < (map(.[1]) | min)")" true
check "the global lock at least 3x slower" \
    "$(jq -n --slurpfile a "$j" --slurpfile b "$g" '$b[0].runs[0].summary.wall_us >= 3 * $a[0].runs[0].summary.wall_us')" true
ok "keys in parallel ($(rv "$j" 0 .summary.wall_us) us vs lock $(rv "$g" 0 .summary.wall_us) us)"

### The first fetch of the key fails: its lock goes to the next waiter, who
# fetches again and succeeds; the rest hit the cache.
j=$SCRATCH/fail-first.json
run "$j" --keys 1 --tasks 10 --delay-ms 100 --fail-first 1 --mode "$MODE"
check "fail-first: exit code" "$rc" 1
check "fail-first: upstream requests" "$(rv "$j" 0 .summary.upstream_requests)" 2
check "fail-first: server requests" "$(rv "$j" 0 .summary.server_requests)" 2
check "fail-first: the server failed one" "$(rv "$j" 0 .server.faults.failed)" 1
check "fail-first: outcomes" "$(rv "$j" 0 '.summary.outcomes | [.error, .fetched, .cache_hit] | join(" ")')" "1 1 8"
check "fail-first: the error is the 503" "$(rv "$j" 0 '[.tasks[] | select(.outcome == "error") | .error.http_status] | join(" ")')" 503
# The retry started after the failure released the lock.
check "fail-first: the retry follows the failure" \
    "$(rv "$j" 0 "([.tasks[] | select(.outcome == \"error\") | $FETCH][0][1]) <= ([.tasks[] | select(.outcome == \"fetched\") | $FETCH][0][0])")" true
ok "a failed fetch retried once"

### Every fetch fails: each waiter tries in turn, one request at a time.
j=$SCRATCH/fail-all.json
run "$j" --tasks 5 --delay-ms 100 --fail-rate 1 --mode "$MODE"
check "fail-all: exit code" "$rc" 1
check "fail-all: server requests" "$(rv "$j" 0 .summary.server_requests)" 5
check "fail-all: the server failed each" "$(rv "$j" 0 .server.faults.failed)" 5
check "fail-all: errors" "$(rv "$j" 0 .summary.outcomes.error)" 5
check "fail-all: one at a time" "$(rv "$j" 0 .server.max_in_service)" 1
check "fail-all: retries in FIFO order" \
    "$(rv "$j" 0 '[.tasks[] | .spans[] | select(.[0] == "lock_held") | .[1]] | . == sort')" true
ok "an erroring backend sees sequential attempts"

[ "$nfail" -eq 0 ] || fail "$nfail checks failed (mode $MODE)"
