# --trace writes a Chrome Trace Event file that matches the report.
# Each check below was seen failing with the code it guards broken: flows
# dropped, a flow's start moved off its slices, a flow without its end,
# two runs in one pid, 53 tracks under a cap of 50, the bucket's close or a
# counter's decrease dropped, a wrong key in the args, the error on the wrong
# slice, the process name or the stderr note silent.
. "$FB_ROOT/tests/e2e/lib.sh"

for mode in lock nolock; do
    fb --tasks 12 --mode $mode --capacity 4 --delay-ms 50 --quiet \
        --trace "$SCRATCH/$mode.trace.json" > "$SCRATCH/$mode.json"
    validate "$SCRATCH/$mode.json"
    /usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/$mode.trace.json" "$SCRATCH/$mode.json" \
        || fail "$mode trace"
done
# Several runs in one invocation: each has its tracks, matching its record.
fb --tasks 6 --mode lock,nolock --repeat 2 --capacity 4 --delay-ms 30 --quiet \
    --trace "$SCRATCH/runs4.trace.json" > "$SCRATCH/runs4.json"
validate "$SCRATCH/runs4.json"
expect_eq "runs" "$(jqv "$SCRATCH/runs4.json" '[.runs[].mode] | join(" ")')" "lock nolock lock nolock"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/runs4.trace.json" "$SCRATCH/runs4.json" \
    || fail "trace of four runs"
# "-" is stdout, for a trace as for the plot scripts: the report goes to a file.
fb --tasks 5 --delay-ms 50 --quiet --output "$SCRATCH/dash.json" --trace - > "$SCRATCH/dash.trace.json"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/dash.trace.json" "$SCRATCH/dash.json" \
    || fail "--trace -"
# A bad trace path is a usage error before anything runs.
expect_exit 2 fb --tasks 1 --trace "$SCRATCH/no/such/dir/t.json" > /dev/null 2>&1
expect_exit 2 fb --tasks 1 --trace "$SCRATCH" > /dev/null 2>&1
# The trace and the report in one file: refused, whichever way it is named.
expect_exit 2 fb --tasks 1 --output "$SCRATCH/both.json" --trace "$SCRATCH/./both.json" 2> /dev/null
expect_exit 2 fb --tasks 1 --trace - > /dev/null 2>&1
[ ! -e "$SCRATCH/both.json" ] || fail "both.json was written"

check_trace() { /usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$@"; }
flows() { jq "[.traceEvents[] | select(.ph == \"s\" and .cat == \"$2\")] | length" "$1"; }
tracks() { jq '[.traceEvents[] | select(.ph == "X" and .pid == 1) | .tid] | unique | length' "$1"; }

# Lock, 20 tasks: 19 hand-offs 0 -> 1 -> ... -> 19, one flow each, from the
# releaser's track to the next holder's.
fb --tasks 20 --mode lock --delay-ms 100 --quiet --trace "$SCRATCH/lock20.trace.json" > "$SCRATCH/lock20.json"
validate "$SCRATCH/lock20.json"
check_trace "$SCRATCH/lock20.trace.json" "$SCRATCH/lock20.json" || fail "lock20 trace"
expect_eq "lock20 hand-off flows" "$(flows "$SCRATCH/lock20.trace.json" waited_on)" 19
expect_eq "lock20 chain" "$(jq -c '[.traceEvents[] | select(.ph == "f" and .cat == "waited_on") | .tid - 1] | sort' \
    "$SCRATCH/lock20.trace.json")" "[$(seq -s, 1 19)]"
expect_eq "lock20 resolver flow" "$(flows "$SCRATCH/lock20.trace.json" thread)" \
    "$(jqv "$SCRATCH/lock20.json" '[.runs[0].threads.lifetimes[] | select(.task != null)] | length')"
# Followers linked to their leader (result), pollers to the storer (value).
fb --tasks 12 --keys 2 --mode singleflight,lease --delay-ms 100 --quiet \
    --trace "$SCRATCH/links.trace.json" > "$SCRATCH/links.json"
check_trace "$SCRATCH/links.trace.json" "$SCRATCH/links.json" || fail "singleflight/lease trace"
[ "$(jq '[.traceEvents[] | select(.ph == "s" and .name == "result")] | length' "$SCRATCH/links.trace.json")" -ge 5 ] \
    || fail "singleflight: no result flows"
[ "$(jq '[.traceEvents[] | select(.ph == "s" and .name == "value")] | length' "$SCRATCH/links.trace.json")" -ge 5 ] \
    || fail "lease: no value flows"

# The cap: 200 tasks, 50 tracks per run; the other 150 as "tasks in STATE"
# counters, said in the trace and once on stderr for both runs.
fb --tasks 200 --mode nolock,lock --capacity 8 --delay-ms 100 --trace-tasks 50 \
    --trace "$SCRATCH/cap.trace.json" > "$SCRATCH/cap.json" 2> "$SCRATCH/cap.err"
check_trace "$SCRATCH/cap.trace.json" "$SCRATCH/cap.json" || fail "capped trace"
expect_eq "cap tracks" "$(tracks "$SCRATCH/cap.trace.json")" 50
expect_eq "cap note" "$(jq -c '[.traceEvents[] | select(.name == "fetchbench_aggregated") | .args.tasks_aggregated]' \
    "$SCRATCH/cap.trace.json")" "[150,150]"
[ "$(jq '[.traceEvents[] | select(.ph == "C" and (.name | startswith("tasks in ")))] | length' \
    "$SCRATCH/cap.trace.json")" -gt 100 ] || fail "cap: no aggregated counters"
expect_eq "cap stderr" "$(grep -c 'at most 50 task tracks per run.*300 tasks of 2 runs' "$SCRATCH/cap.err")" 1
# Many aggregated changes: the counters are sampled per bucket of the run.
fb --tasks 3000 --mode nolock --delay-ms 0 --trace-tasks 50 --quiet \
    --trace "$SCRATCH/buckets.trace.json" > "$SCRATCH/buckets.json"
check_trace "$SCRATCH/buckets.trace.json" "$SCRATCH/buckets.json" || fail "bucketed counters"
[ "$(jq '.traceEvents[] | select(.name == "fetchbench_aggregated") | .args.counter_resolution_us' \
    "$SCRATCH/buckets.trace.json")" -gt 1 ] || fail "3000 tasks: counters not bucketed"
# Under the cap, nothing aggregated and no note.
fb --tasks 20 --mode nolock --delay-ms 100 --trace-tasks 20 --trace "$SCRATCH/under.trace.json" \
    > "$SCRATCH/under.json" 2> "$SCRATCH/under.err"
check_trace "$SCRATCH/under.trace.json" "$SCRATCH/under.json" || fail "trace at the cap"
! grep -q 'task tracks per run' "$SCRATCH/under.err" || fail "a note without aggregation"
expect_exit 2 fb --tasks 1 --trace-tasks 0 --trace "$SCRATCH/t0.json" > /dev/null 2>&1
expect_exit 2 fb --tasks 1 --trace-tasks 5x --trace "$SCRATCH/t0.json" > /dev/null 2>&1
# A failed fetch: its last phase and its outcome carry the stage, the HTTP
# status and the message (exit 1: tasks failed).
expect_exit 1 fb --tasks 10 --mode nolock --delay-ms 50 --fail-rate 0.5 --quiet \
    --trace "$SCRATCH/errors.trace.json" --output "$SCRATCH/errors.json"
check_trace "$SCRATCH/errors.trace.json" "$SCRATCH/errors.json" || fail "trace of failed fetches"
[ "$(jq '[.traceEvents[] | select(.ph == "X" and .cat == "fetch" and .args.http_status == 503)] | length' \
    "$SCRATCH/errors.trace.json")" -ge 1 ] || fail "no fetch phase with its HTTP status"
