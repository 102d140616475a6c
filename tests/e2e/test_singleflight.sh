# singleflight: a miss joins the key's fetch in flight. One upstream request
# per key and flight; every joined task takes the leader's outcome (shared,
# or shared_error carrying the leader's error); the flight keeps nothing, so
# a task after it hits the cache, or after a failure leads a new flight.
# Counts and orders only, with wide margins.
#
# SINGLEFLIGHT_MODE runs the suite against another strategy (nolock: the
# checks fail). Every check runs and reports; the suite fails at the end if
# any did.
. "$FB_ROOT/tests/e2e/lib.sh"

MODE=${SINGLEFLIGHT_MODE:-singleflight}
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
    set +e; fb --quiet --mode "$MODE" "$@" > "$out"; rc=$?; set -e
    validate "$out"
}
# rv FILE FILTER: one raw value out of the report's run.
rv() { jq -r ".runs[0] | $2" "$1"; }
# The end of a task's fetch (its last fetch phase).
FETCH_END='([.spans[] | select(.[0] as $s | ["queued","dns","connect","request","server_queue","in_service","receive"] | index($s)) | .[2]] | max)'

### K keys at once: K flights, everyone else joins one.
K=4 N=40
j=$SCRATCH/keys.json
run "$j" --keys $K --tasks $N --delay-ms 300 --trace "$SCRATCH/keys.trace.json"
check "exit code" "$rc" 0
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/keys.trace.json" "$j" || fail "trace"
check "keys drawn" "$(rv "$j" '[.tasks[].key] | unique | length')" $K
check "upstream requests: one per key" "$(rv "$j" .summary.upstream_requests)" $K
check "server requests: one per key" "$(rv "$j" .summary.server_requests)" $K
check "leaders fetched" "$(rv "$j" .summary.outcomes.fetched)" $K
check "the others shared" "$(rv "$j" .summary.outcomes.shared)" $((N - K))
check "every non-leader shared" "$(rv "$j" '[.tasks[] | select(.outcome != "fetched") | .outcome] | unique | join(" ")')" shared
check "at most one fetch of a key at once" "$(rv "$j" .summary.stampede_max)" 1
check "the others waited for their flight" "$(rv "$j" .summary.waiters)" $((N - K))
check "one leader per key" "$(rv "$j" '[.tasks[] | select(.outcome == "fetched") | .key] | unique | length')" $K
check "counters" "$(rv "$j" '.summary.counters | "\(.flights) \(.joined)"')" "$K $((N - K))"
check "followers waited in flight_wait" \
    "$(rv "$j" '[.tasks[] | select(.outcome == "shared") | select(any(.spans[]; .[0] == "flight_wait"))] | length')" $((N - K))
# A key's followers finish after its leader's fetch, one by one in join
# (id) order.
check "followers end after their leader, in join order" "$(rv "$j" '
    [.tasks[] | select(.outcome == "fetched") | {key: .key, end: .end_us}] as $lead
    | [range($lead | length) as $i | $lead[$i] as $l
       | [.tasks[] | select(.key == $l.key and .outcome == "shared") | .end_us]
       | (all(.[]; . >= $l.end)) and (. == sort)] | all')" true
ok "$K keys, $K requests, $((N - K)) shared"

### The first fetch of each key fails: every joined task ends shared_error
# with its leader's error; the backend saw one request per key.
K=3 N=30
j=$SCRATCH/fail.json
run "$j" --keys $K --tasks $N --delay-ms 200 --fail-first 1
check "fail: exit code" "$rc" 1
check "fail: server requests: one per key" "$(rv "$j" .summary.server_requests)" $K
check "fail: the server failed each" "$(rv "$j" .server.faults.failed)" $K
check "fail: upstream requests" "$(rv "$j" .summary.upstream_requests)" $K
check "fail: outcomes" "$(rv "$j" '.summary.outcomes | "\(.error) \(.shared_error) \(.fetched) \(.cache_hit)"')" "$K $((N - K)) 0 0"
check "fail: errors of own fetches" "$(rv "$j" .summary.errors.total)" $K
check "fail: each joined task carries its leader's error" "$(rv "$j" '
    [.tasks[] | select(.outcome == "error")] as $lead
    | [.tasks[] | select(.outcome == "shared_error") as $t
       | ($lead[] | select(.key == $t.key) | .error) == $t.error] | length > 0 and all')" true
check "fail: the error is the 503" "$(rv "$j" '[.tasks[].error.http_status] | unique | join(" ")')" 503
ok "one failure shared by every joined task"

### Arrivals spread out (--rate): tasks that come while the fetch is in
# flight share it; tasks that come after it ended hit the cache.
j=$SCRATCH/late.json
run "$j" --keys 1 --tasks 20 --rate 40 --delay-ms 200
check "late: exit code" "$rc" 0
check "late: upstream requests" "$(rv "$j" .summary.upstream_requests)" 1
check "late: some joined, some came after" \
    "$(rv "$j" '.summary.outcomes | .shared > 0 and .cache_hit > 0 and .fetched == 1 and .shared + .cache_hit == 19')" true
check "late: joined during the fetch, hit after it" "$(rv "$j" '
    ([.tasks[] | select(.outcome == "fetched") | '"$FETCH_END"'][0]) as $done
    | all(.tasks[] | select(.outcome == "shared"); .start_us <= $done)
      and all(.tasks[] | select(.outcome == "cache_hit"); .start_us >= $done)')" true
ok "late callers hit the cache"

### The first flight fails: its followers fail with it, a task after it
# leads a second flight, which stores the value for the ones after.
j=$SCRATCH/refly.json
run "$j" --keys 1 --tasks 30 --rate 40 --delay-ms 150 --fail-first 1
check "refly: exit code" "$rc" 1
check "refly: server requests" "$(rv "$j" .summary.server_requests)" 2
check "refly: the server failed the first" "$(rv "$j" .server.faults.failed)" 1
check "refly: flights" "$(rv "$j" .summary.counters.flights)" 2
check "refly: outcomes" \
    "$(rv "$j" '.summary.outcomes | .error == 1 and .fetched == 1 and .shared_error > 0 and .cache_hit > 0')" true
check "refly: the second flight started after the first failed" "$(rv "$j" '
    ([.tasks[] | select(.outcome == "error")][0].end_us) as $failed
    | all(.tasks[] | select(.outcome == "shared_error"); .start_us <= $failed)
      and all(.tasks[] | select(.outcome == "fetched" or .outcome == "shared" or .outcome == "cache_hit"); .start_us >= $failed)')" true
ok "a new flight after a failed one"

[ "$nfail" -eq 0 ] || fail "$nfail checks failed (mode $MODE)"
