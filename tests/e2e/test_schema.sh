# The report contract itself: the schemas (tests/validate_json.py) and the
# invariants (tests/check_report.py) accept the hand-made good reports in
# tests/schema_negative/good/ (fetchbench/1) and .../v2/good/
# (fetchbench/2) and a real run with --repeat and --expect, and refuse every
# broken report in tests/schema_negative/ and .../v2/ -- each with exit 1
# and one line naming what is wrong.  An invariant case must pass the
# schema, so it is the invariant that catches it.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
NEG=$FB_ROOT/tests/schema_negative
CHECK=$FB_ROOT/tests/check_report.py

for f in "$NEG"/good/*.json "$NEG"/v2/good/*.json; do
    validate "$f"
    echo "ok (good): $(basename "$f")"
done

fb --tasks 3 --mode lock --delay-ms 20 --repeat 2 --expect 'upstream_requests==1' --quiet \
    >"$SCRATCH/repeat.json"
case $(jqv "$SCRATCH/repeat.json" .schema) in
fetchbench/1)
    [ "$(jqv "$SCRATCH/repeat.json" '.repeats.count')" = 2 ] || fail "repeat.json: no repeats" ;;
*)
    [ "$(jqv "$SCRATCH/repeat.json" '.repeats[0].count')" = 2 ] || fail "repeat.json: no repeats" ;;
esac
[ "$(jqv "$SCRATCH/repeat.json" '.expectations | length')" = 1 ] || fail "repeat.json: no expectations"
validate "$SCRATCH/repeat.json"
echo "ok (good): a real run with --repeat and --expect"

# the v2 cases are what their generator writes from the good reports
$PY "$NEG/v2/make_cases.py" --check || fail "tests/schema_negative/v2 is stale"

neg_schema unknown-top-key.json "'verdict' was unexpected"
neg_schema unknown-config-key.json "config: Additional properties are not allowed ('workers'"
neg_schema unknown-summary-key.json "summary: Additional properties are not allowed ('retries'"
neg_schema unknown-error-stage.json "summary/errors: Additional properties are not allowed ('quic'"
neg_schema unknown-task-key.json "tasks/1: Additional properties are not allowed ('note'"
neg_schema unknown-span-state.json "tasks/1/spans/1/state: 'sleeping' is not one of"
neg_schema error-without-error.json "tasks/1: 'error' is a required property"
neg_schema error-on-fetched.json "tasks/0/error: False schema does not allow"
neg_schema error-unknown-stage.json "tasks/1/error/stage: 'handshake' is not one of"
neg_schema repeats-missing-median.json "repeats: 'median' is a required property"
neg_schema repeats-runs-not-summaries.json "repeats/runs/1: 'upstream_requests' is a required property"
neg_schema expectation-ok-not-bool.json "expectations/0/ok: 'yes' is not of type 'boolean'"
neg_schema fetch-cap-zero.json "config/fetch_cap: 0 is less than the minimum of 1"
neg_schema threads-baseline-zero.json "threads/baseline: 0 is less than the minimum of 1"
neg_schema interrupted-missing.json "'interrupted' is a required property"

neg_both duplicate-key.json 'duplicate key "summary.wall_us"'
neg_both nan.json "summary.cache_hits: NaN is not JSON"
neg_both number-beyond-double.json "summary.wall_us: number out of range (1e400)"
neg_both integer-beyond-int64.json "summary.wall_us: number out of range (18446744073709551616)"

neg_invariant span-ends-before-start.json "task 0: span 6 (connect) ends before it starts (290 < 298)"
neg_invariant span-outside-task.json "task 1: span 4 (cache_hit) [101046, 101050] lies outside the task"
neg_invariant task-ends-before-start.json "task 2: ends before it starts"
neg_invariant created-late.json "task 1: span 0 (created) starts at 3, not at the task's start 0"
neg_invariant fetch-out-of-order.json "task 0: span 6 (dns) after connect: fetch phases out of order"
neg_invariant fetch-twice.json "task 0: span 9 (receive) after receive: fetch phases out of order or repeated"
neg_invariant fetch-gap.json "task 0: span 7 (request) starts at 700, not where connect ended (658)"
neg_invariant fetch-outside-lock.json "task 0: span 7 (request) [658, 100915] is not inside lock_held [26, 100000]"
neg_invariant lock-wait-gap.json "task 1: lock_wait ends at 101000, not where lock_held starts (101045)"
neg_invariant tasks-fewer-than-config.json "3 tasks in the report, config.tasks is 4"
neg_invariant cache-hits-miscounted.json "summary.cache_hits is 3, but 2 tasks have outcome cache_hit"
neg_invariant errors-total-miscounted.json "summary.errors.total is 3, but 2 tasks have outcome error"
neg_invariant errors-stages-miscounted.json "summary.errors.total is 2, but the stage counters add up to 3"
neg_invariant upstream-miscounted.json "summary.upstream_requests is 2, but 1 task(s) reached"
neg_invariant upstream-below-started.json "summary.upstream_requests is 0, but 1 task(s) reached"
neg_invariant server-miscounted.json "summary.server_requests is 2, but 1 of 1 upstream requests were sent"
neg_invariant threads-created-miscounted.json "summary.threads_created is 2, but threads.lifetimes has 1"
neg_invariant peak-threads-miscounted.json "summary.peak_threads is 3, but threads.samples peak at 2"
neg_invariant wall-too-short.json "summary.wall_us 100000 is shorter than the tasks' span 101046"
neg_invariant repeats-count-miscounted.json "repeats.count is 4, but repeats.runs has 3"

# fetchbench/2 (docs/report-v2.md): the same three kinds of case
neg_schema v2/unknown-top-key.json "(top level): Additional properties are not allowed ('verdict'"
neg_schema v2/unknown-run-key.json "runs/1: Additional properties are not allowed ('note'"
neg_schema v2/unknown-summary-key.json "runs/0/summary: Additional properties are not allowed ('retries'"
neg_schema v2/unknown-task-key.json "runs/0/tasks/1: Additional properties are not allowed ('note'"
neg_schema v2/unknown-workload-key.json "config/workload: Additional properties are not allowed ('burst'"
neg_schema v2/span-two-elements.json "runs/0/tasks/0/spans/1: ['lock_wait', 20] is too short"
neg_schema v2/span-four-elements.json "runs/0/tasks/0/spans/1: ['lock_wait', 20, 20, 0] is too long"
neg_schema v2/span-state-number.json "runs/0/tasks/0/spans/0/0: 3 is not of type 'string'"
neg_schema v2/span-negative.json "runs/1/tasks/1/spans/0/1: -1 is less than the minimum of 0"
neg_schema v2/integer-beyond-2-53.json "runs/0/summary/wall_us: 9007199254740993 is greater than the maximum of 9007199254740992"
neg_schema v2/outcome-empty.json "runs/1/tasks/3/outcome: '' is too short"
neg_schema v2/error-without-message.json "runs/1/tasks/2/error: 'message' is a required property"
neg_schema v2/vocabulary-missing.json "(top level): 'vocabulary' is a required property"
neg_schema v2/state-without-wait.json "vocabulary/states/0: 'wait' is a required property"
neg_schema v2/latency-missing-p99.json "runs/0/summary/latency_us: 'p99' is a required property"
neg_schema v2/wait-negative.json "runs/1/summary/wait_us/lock_wait: -1 is less than the minimum of 0"
neg_schema v2/server-missing-samples.json "runs/0/server: 'in_service_samples' is a required property"
neg_schema v2/threads-baseline-zero.json "runs/0/threads/baseline: 0 is less than the minimum of 1"
neg_schema v2/load-unknown-source.json "runs/0/load/source: 'guess' is not one of ['server', 'client']"
neg_schema v2/expectation-without-mode.json "expectations/0: 'mode' is a required property"
neg_schema v2/repeats-missing-median.json "repeats/0: 'median' is a required property"
neg_schema v2/stampede-missing.json "runs/0/summary: 'stampede_max' is a required property"
neg_schema v2/faults-unknown-key.json "runs/0/server/faults: Additional properties are not allowed ('slow'"
neg_schema v2/params-missing.json "config: 'params' is a required property"
neg_both v2/schema-unknown.json "'fetchbench/3'"

neg_both v2/duplicate-key-in-task.json 'duplicate key "runs[0].tasks[1].key"'
neg_both v2/nan-in-span.json "runs[1].tasks[0].spans[1][2]: NaN is not JSON"
neg_both v2/number-beyond-double.json "runs[0].summary.wall_us: number out of range (1e400)"

neg_invariant v2/vocab-state-twice.json "vocabulary.states lists 'queued' twice"
neg_invariant v2/vocab-outcome-twice.json "vocabulary.outcomes lists 'error' twice"
neg_invariant v2/run-mode-unknown.json "run 1 (spin): mode 'spin' is not in config.modes"
neg_invariant v2/runs-not-interleaved.json "run 0 (lock): is repeat 0 of lock, but runs interleave the modes: run 0 should be repeat 0 of nolock"
neg_invariant v2/run-after-interrupted.json "run 1 (lock): follows run 0, which was interrupted"
neg_invariant v2/task-id.json "run 0 (lock): task 2 has id 3: ids are the arrival order"
neg_invariant v2/task-key-out-of-range.json "run 0 (lock): task 3 has key 2, but config.workload.keys is 2"
neg_invariant v2/arrival-decreasing.json "run 0 (lock): task 3 arrives at 50, before task 2 (100)"
neg_invariant v2/arrival-differs.json "run 1 (nolock): task 3 is key 1 arriving at 240, but in run 0 key 1 arriving at 250"
neg_invariant v2/key-differs.json "run 1 (nolock): task 3 is key 0 arriving at 250, but in run 0 key 1 arriving at 250"
neg_invariant v2/outcome-unknown.json "run 1 (nolock): task 3: outcome 'sleeping' is not in vocabulary.outcomes"
neg_invariant v2/task-ends-before-start.json "run 1 (nolock): task 3 ends before it starts (240 < 250)"
neg_invariant v2/cancelled-not-interrupted.json "run 0 (lock): task 1 is cancelled, but the run was not interrupted"
neg_invariant v2/task-past-wall.json "run 1 (nolock): task 3 ends at 100710, after the run's wall_us 100700"
neg_invariant v2/error-stage-unknown.json "run 1 (nolock): task 2: error stage 'quic' is not in vocabulary.stages"
neg_invariant v2/error-on-ok-outcome.json "run 0 (lock): task 0 has outcome fetched, which is ok, and an error"
neg_invariant v2/error-without-error.json "run 1 (nolock): task 2 has outcome error but no error object"
neg_invariant v2/shared-error-without-error.json "run 0 (coalesce): task 1 has outcome shared_error but no error object"
neg_invariant v2/cancelled-not-at-wall.json "run 1 (lock): task 2 is cancelled before it arrived (no spans), but [49000, 49000] is not [wall_us, wall_us]"
neg_invariant v2/start-before-arrival.json "run 0 (lock): task 2 starts at 99, before its arrival 100"
neg_invariant v2/span-state-unknown.json "run 0 (lock): task 1: span 4 state 'sleeping' is not in vocabulary.states"
neg_invariant v2/span-ends-before-start.json "run 1 (nolock): task 0: span 3 (connect) ends before it starts (20 < 22)"
neg_invariant v2/span-outside-task.json "run 0 (lock): task 1: span 4 (cache_hit) [100610, 100650] lies outside the task [0, 100640]"
neg_invariant v2/spans-out-of-order.json "run 1 (nolock): task 0: span 1 (created) starts at 0, before span 0 (15): spans are ordered by start"
neg_invariant v2/span-crosses-enclosing.json "run 0 (lock): task 0: span 7 (receive) [100300, 100590] starts inside span 2 (lock_held) [20, 100500] and ends after it"
neg_invariant v2/spans-overlap.json "run 1 (nolock): task 0: span 1 (cache_check) [15, 18] overlaps the span before it, which ends at 16"
neg_invariant v2/fetch-out-of-order.json "run 1 (nolock): task 0: span 4 (connect) after request: fetch phases out of order"
neg_invariant v2/fetch-repeated.json "run 1 (nolock): task 0: span 4 (connect) after connect: fetch phases out of order or repeated"
neg_invariant v2/fetch-gap.json "run 1 (nolock): task 0: span 4 (request) starts at 151, not where connect ended (150)"
neg_invariant v2/tasks-fewer-than-config.json "run 0 (lock): 4 tasks listed, config.tasks is 5"
neg_invariant v2/summary-tasks.json "run 0 (lock): summary.tasks is 5, but 4 tasks are listed"
neg_invariant v2/outcomes-sum.json "run 0 (lock): summary.outcomes add up to 5, summary.tasks is 4"
neg_invariant v2/outcome-miscounted.json "run 0 (lock): summary.outcomes.fetched is 3, but 2 tasks have outcome fetched"
neg_invariant v2/outcome-not-in-vocabulary.json "run 0 (lock): summary.outcomes.spinning is not in vocabulary.outcomes"
neg_invariant v2/outcome-missing.json "run 0 (lock): summary.outcomes.fetched is missing, but 2 tasks have outcome fetched"
neg_invariant v2/cache-hits.json "run 0 (lock): summary.cache_hits is 1, but 2 tasks have outcome cache_hit"
neg_invariant v2/errors-stage-unknown.json "run 1 (nolock): summary.errors.quic is not in vocabulary.stages"
neg_invariant v2/errors-stages-sum.json "run 1 (nolock): summary.errors.total is 1, but the stage counters add up to 2"
neg_invariant v2/errors-total.json "run 1 (nolock): summary.errors.total is 2, but 1 tasks carry an error of their own fetch"
neg_invariant v2/errors-stage-miscounted.json "run 1 (nolock): summary.errors.http_status is 0, but 1 tasks failed at http_status"
neg_invariant v2/errors-count-shared.json "run 0 (coalesce): summary.errors.total is 3, but 2 tasks carry an error of their own fetch"
neg_invariant v2/keys-length.json "run 0 (lock): keys.tasks has 3 entries, config.workload.keys is 2"
neg_invariant v2/keys-sum.json "run 0 (lock): keys.tasks add up to 5, summary.tasks is 4"
neg_invariant v2/keys-miscounted.json "run 0 (lock): keys.tasks[0] is 1, but 2 tasks have key 0"
neg_invariant v2/keys-upstream-sum.json "run 0 (lock): keys.upstream_requests add up to 3, summary.upstream_requests is 2"
neg_invariant v2/stampede-miscounted.json "run 1 (nolock): summary.stampede_max is 1, but keys.max_in_flight peaks at 2"
neg_invariant v2/max-in-flight-above-sent.json "run 0 (lock): keys.max_in_flight[0] is 2, with 1 upstream requests of key 0"
neg_invariant v2/waiters-miscounted.json "run 0 (lock): summary.waiters is 1, but 2 tasks waited for another task"
neg_invariant v2/waiter-latency-without-waiters.json "run 1 (nolock): summary.waiter_latency_us is {"
neg_invariant v2/waiter-latency-p50.json "run 0 (lock): summary.waiter_latency_us.p50 is 100640, but the waiters' durations give 100479"
neg_invariant v2/waiter-flag-missing.json "run 0 (lock): task 3 waited for another task, but does not say waiter"
neg_invariant v2/waiter-flag-without-wait.json "run 1 (nolock): task 0 says waiter, but entered no wait for another task"
neg_invariant v2/waiter-flags-miscounted.json "run 0 (lock): summary.waiters is 2, but 3 tasks say waiter"
neg_invariant v2/latency-p50.json "run 0 (lock): summary.latency_us.p50 is 100600, but the tasks' durations give 100598"
neg_invariant v2/latency-p99-9.json "run 0 (lock): summary.latency_us.p99_9 is 99918, but the tasks' durations give 100399"
neg_invariant v2/latency-mean-rounded.json "run 0 (lock): summary.latency_us.mean is 100580, but the tasks' durations give 100579"
neg_invariant v2/latency-missing.json "run 1 (nolock): summary.latency_us is missing, but 4 tasks arrived"
neg_invariant v2/wait-state-unknown.json "run 0 (lock): summary.wait_us.cache_check is not a wait state of the vocabulary"
neg_invariant v2/wait-miscounted.json "run 0 (lock): summary.wait_us.lock_wait is 201018, but the tasks' lock_wait spans add up to 201019"
neg_invariant v2/wait-total.json "run 0 (lock): summary.wait_us.total is 201099, but the wait states add up to 201098"
neg_invariant v2/counter-unknown.json "run 0 (lock): summary.counters.spins is not in vocabulary.counters"
neg_invariant v2/counter-wrong-mode.json "run 1 (nolock): summary.counters.lock_handoffs is present: vocabulary.counters gives it to mode lock"
neg_invariant v2/counter-missing.json "run 0 (lock): summary.counters.lock_handoffs is missing"
neg_invariant v2/server-miscounted.json "run 0 (lock): summary.server_requests is 2, but server.requests is 3"
neg_invariant v2/server-requests-without-server.json "run 0 (coalesce): summary.server_requests is 2, but the run has no server"
neg_invariant v2/threads-created.json "run 0 (lock): summary.threads_created is 1, but threads.lifetimes has 0"
neg_invariant v2/peak-threads.json "run 1 (nolock): summary.peak_threads is 2, but threads.samples peak at 1"
neg_invariant v2/interrupted-not-last.json "interrupted is not the last key (the last is 'expectations')"
neg_invariant v2/vocabulary-after-runs.json "top-level keys in the order ['schema', 'tool', 'config', 'runs', 'vocabulary'"
neg_invariant v2/run-interrupted-report-not.json "run 1 (nolock) is interrupted, but the report is not"
neg_invariant v2/runs-missing.json "1 runs, but config asks for 2 (2 modes x repeat 1)"
neg_invariant v2/repeats-missing.json "repeats is missing, but config.repeat is 2"
neg_invariant v2/repeats-unexpected.json "repeats is present, but config.repeat is 1"
neg_invariant v2/repeats-count.json "repeats (lock): count is 3, but 2 runs are of mode lock"
neg_invariant v2/repeats-median-upper.json "repeats (lock): median.wall_us is 250100, but the runs give 50000"
neg_invariant v2/repeats-min.json "repeats (lock): min.cache_hits is 2, but the runs give 0"
neg_invariant v2/repeats-max.json "repeats (lock): max.outcomes.cancelled is 0, but the runs give 3"
neg_invariant v2/repeats-extra-field.json "repeats (lock): median.counters.spins is in no run's summary"
neg_invariant v2/repeats-mode-twice.json "repeats lists mode 'lock' twice"
neg_invariant v2/expect-mode-unknown.json "expectations[1] (errors==0, spin): mode 'spin' is not in config.modes"
neg_invariant v2/expect-twice.json "expectations[3] (errors==0, lock): a second verdict for the same expectation and mode"
neg_invariant v2/expect-null-ok.json "expectations[0] (lock:upstream_requests==2, lock): ok without an actual value"
neg_invariant v2/expect-actual-wrong.json "expectations[0] (lock:upstream_requests==2, lock): actual is 3, but the summary says 2"
neg_invariant v2/expect-ok-wrong.json "expectations[2] (errors==0, nolock): ok is true, but 1 == 0 is false"
neg_invariant v2/expect-prefix-mismatch.json "expectations[0] (lock:upstream_requests==2, nolock): judged on mode nolock, but it names lock"
neg_invariant v2/expect-mode-missing.json "expectations: 'errors==0' has no verdict for mode nolock"

# every broken report in the directories is one of the cases above
expect_all_refused . v2

# a big v2 report goes through the compiled task check, not jsonschema:
# both tools accept it (the time is not asserted: the machine may be busy)
$PY "$NEG/v2/make_cases.py" --big 20000 "$SCRATCH/big.json"
validate "$SCRATCH/big.json"
echo "ok (good): a v2 report of 2 x 20,000 tasks"

# usage: no file is a usage error; a missing file is named
expect_exit 2 $PY "$CHECK" 2>/dev/null
set +e; $PY "$CHECK" "$SCRATCH/missing.json" 2>"$SCRATCH/err"; rc=$?; set -e
expect_eq "check_report of a missing file" "$rc" 1
grep -q 'missing.json: No such file' "$SCRATCH/err" || fail "missing file not named: $(cat "$SCRATCH/err")"
echo "ok: schema and invariants"
