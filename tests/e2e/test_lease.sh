#!/bin/sh
# lease (memcache leases, NSDI 2013 §3.2.1): at most one lease per key per
# lease period, denied tasks poll every --retry-ms (or take a stale value),
# and a failed holder's lease lapses before anyone fetches again. Every
# assertion is on counts or on orders the strategy guarantees, never on how
# fast the machine is. LEASE_MODE=nolock runs the same checks against nolock:
# each property below must then fail.
. "$(dirname "$0")/lib.sh"
MODE=${LEASE_MODE:-lease}

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }
# expect_true WHAT FILE FILTER: the filter, on the first run, is true.
expect_true() { [ "$(rv "$2" "$3")" = true ] || fail "$1 ($3): got $(rv "$2" "$3")"; }

# Lease waits: a task's lease_wait spans that ended in another check.
RETRY_SPANS='[.tasks[] | .spans as $s | range(0; ($s | length) - 1)
             | select($s[.][0] == "lease_wait" and $s[. + 1][0] == "cache_check")] | length'
WAITERS='[.tasks[] | select(any(.spans[]; .[0] == "lease_wait"))]'

# --- One key, one lease period, 20 concurrent tasks: one lease, one fetch.
j=$SCRATCH/one.json
fb --mode "$MODE" --tasks 20 --delay-ms 300 --lease-ms 5000 --retry-ms 50 --quiet \
    --trace "$SCRATCH/one.trace" > "$j"
validate "$j" fetchbench/2
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/one.trace" "$j" || fail "the trace does not match the report"
grep -q '"name":"lease_wait"' "$SCRATCH/one.trace" || fail "the trace has no lease_wait span"
expect_eq "one upstream request for 20 tasks" "$(rv "$j" .summary.upstream_requests)" 1
expect_eq "one lease" "$(rv "$j" .summary.counters.leases)" 1
expect_eq "outcomes" "$(rv "$j" '.summary.outcomes | [.fetched, .cache_hit] | @csv')" "1,19"
# The 19 others waited for it by polling, every one at least one poll long.
expect_eq "19 waiters" "$(rv "$j" "$WAITERS | length")" 19
expect_eq "19 waiters in the summary" "$(rv "$j" .summary.waiters)" 19
expect_eq "no stampede" "$(rv "$j" .summary.stampede_max)" 1
expect_true "each waiter's latency >= retry (50 ms)" "$j" \
    "$WAITERS | length > 0 and all(.end_us - .start_us >= 50000)"
expect_eq "every denied ask was one lease_wait" "$(rv "$j" .summary.counters.lease_denials)" \
    "$(rv "$j" '[.tasks[].spans[] | select(.[0] == "lease_wait")] | length')"
# Retries: counted, one per lease_wait that ended in another check.
expect_true "some retries" "$j" '.summary.counters.lease_retries > 0'
expect_eq "retries = lease_wait spans followed by a check" \
    "$(rv "$j" .summary.counters.lease_retries)" "$(rv "$j" "$RETRY_SPANS")"
# What polling cost: each waiter hit after a poll, at most one poll (and
# some loop slack) after the value was stored.
expect_eq "every waiter hit after polling" "$(rv "$j" .summary.counters.poll_hits)" 19
expect_true "poll lag within a poll period" "$j" \
    '.summary.counters.poll_lag_us > 0 and .summary.counters.poll_lag_us <= 19 * 2 * 50000'

# --- Many keys, Poisson arrivals, a TTL shorter than the run and than the
# lease period: at most one lease per key per period (issues are >= a
# period apart, so floor(wall / period) + 1 of them per key), and tasks
# denied while an expired value is there take it at once.
j=$SCRATCH/keys.json
fb --mode "$MODE" --keys 4 --rate 250 --tasks 300 --ttl-ms 60 --delay-ms 40 \
    --lease-ms 150 --retry-ms 20 --quiet > "$j"
validate "$j" fetchbench/2
periods=$(rv "$j" '(.summary.wall_us / 150000 | floor) + 1')
expect_true "leases <= keys x periods ($periods)" "$j" \
    ".summary.counters.leases >= 1 and .summary.counters.leases <= 4 * $periods"
expect_true "each key's fetches <= its periods ($periods)" "$j" ".keys.upstream_requests | all(. <= $periods)"
# A fetch (40 ms) is shorter than a lease (150 ms): never two of a key at once.
expect_true "at most one fetch of a key in flight" "$j" '.keys.max_in_flight | all(. <= 1)'
expect_true "denied tasks served stale" "$j" '.summary.outcomes.stale > 0'
expect_eq "a denial is a stale value or a lease_wait" "$(rv "$j" .summary.counters.lease_denials)" \
    "$(rv "$j" '.summary.outcomes.stale + ([.tasks[].spans[] | select(.[0] == "lease_wait")] | length)')"
expect_eq "retries = lease_wait spans followed by a check" \
    "$(rv "$j" .summary.counters.lease_retries)" "$(rv "$j" "$RETRY_SPANS")"
expect_eq "no errors" "$(rv "$j" .summary.errors.total)" 0

# --- A fetch slower than the lease: the lease lapses mid-fetch, the next
# asker takes a new one, and the first holder's set is rejected — it still
# ends with its value.
j=$SCRATCH/lapse.json
fb --mode "$MODE" --tasks 5 --delay-ms 300 --lease-ms 100 --retry-ms 50 --quiet > "$j"
validate "$j" fetchbench/2
expect_true "rejected sets" "$j" '.summary.counters.stale_sets >= 1'
expect_eq "a lease per fetch" "$(rv "$j" .summary.counters.leases)" "$(rv "$j" .summary.upstream_requests)"
expect_true "more than one lease: the first lapsed" "$j" '.summary.counters.leases >= 2'
expect_eq "a rejected set still ends fetched" "$(rv "$j" '.summary.outcomes.fetched + .summary.outcomes.cache_hit')" 5

# --- The holder's fetch fails: it keeps the lease (memcache has no release),
# the waiters poll until the lease lapses, then one takes it and fetches;
# the rest hit. The backend sees 2 requests.
j=$SCRATCH/fail.json
expect_exit 1 fb --mode "$MODE" --tasks 10 --fail-first 1 --delay-ms 200 --lease-ms 600 --retry-ms 100 \
    --quiet --trace "$SCRATCH/fail.trace" > "$j"
validate "$j" fetchbench/2
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/fail.trace" "$j" || fail "the trace does not match the report"
expect_eq "the server failed one request" "$(rv "$j" .server.faults.failed)" 1
expect_eq "the backend saw 2 requests" "$(rv "$j" .summary.server_requests)" 2
expect_eq "2 upstream requests" "$(rv "$j" .summary.upstream_requests)" 2
expect_eq "outcomes: the holder's error, the next holder's value, hits" \
    "$(rv "$j" '.summary.outcomes | [.error, .fetched, .cache_hit] | @csv')" "1,1,8"
expect_eq "two leases" "$(rv "$j" .summary.counters.leases)" 2
expect_true "the first holder ended error, the second fetched" "$j" \
    '[.tasks[] | select(any(.spans[]; .[0] == "lease_held"))]
     | sort_by([.spans[] | select(.[0] == "lease_held")][0][1]) | map(.outcome) == ["error", "fetched"]'
# The second lease came no sooner than the first one's period allows.
expect_true "the second lease >= 600 ms after the first" "$j" \
    '[.tasks[].spans[] | select(.[0] == "lease_held") | .[1]] | sort | .[1] - .[0] >= 600000'
# Waiters polled through the lapse: at least 3 waits each (6 polls fit).
expect_true "9 waiters polled through the lapse" "$j" \
    "[$WAITERS[] | [.spans[] | select(.[0] == \"lease_wait\")] | length | select(. >= 3)] | length == 9"
echo "lease: ok"
