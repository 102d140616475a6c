# The report contract itself: the schema (tests/validate_json.py) and the
# invariants (tests/check_report.py) accept the hand-made good reports in
# tests/schema_negative/good/ and a real run with --repeat and --expect,
# and refuse every broken report in tests/schema_negative/ -- each with exit
# 1 and one line naming what is wrong.  An invariant case must pass the
# schema, so it is the invariant that catches it.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
NEG=$FB_ROOT/tests/schema_negative
VALIDATE=$FB_ROOT/tests/validate_json.py
CHECK=$FB_ROOT/tests/check_report.py

for f in "$NEG"/good/*.json; do
    validate "$f"
    echo "ok (good): $(basename "$f")"
done

fb --tasks 3 --mode lock --delay-ms 20 --repeat 2 --expect 'upstream_requests==1' --quiet \
    >"$SCRATCH/repeat.json"
[ "$(jqv "$SCRATCH/repeat.json" '.repeats.count')" = 2 ] || fail "repeat.json: no repeats"
[ "$(jqv "$SCRATCH/repeat.json" '.expectations | length')" = 1 ] || fail "repeat.json: no expectations"
validate "$SCRATCH/repeat.json"
echo "ok (good): a real run with --repeat and --expect"

# refused TOOL FILE TEXT: TOOL exits 1 on FILE with one line on stderr that
# contains TEXT.
checked=""
refused() {
    tool=$1 file=$NEG/$2 text=$3
    [ -f "$file" ] || fail "no such case $file"
    set +e; $PY "$tool" "$file" >"$SCRATCH/out" 2>"$SCRATCH/err"; rc=$?; set -e
    err=$(cat "$SCRATCH/err")
    [ "$rc" -eq 1 ] || fail "$(basename "$tool") $2: exit $rc, expected 1 ($err)"
    expect_eq "stderr lines of $(basename "$tool") $2" "$(wc -l <"$SCRATCH/err" | tr -d ' ')" 1
    case "$err" in *"$text"*) ;; *) fail "$(basename "$tool") $2: '$err' lacks '$text'" ;; esac
    checked="$checked $2 "
    echo "ok (refused): $err"
}
# schema CASE TEXT: the schema refuses it.
schema() { refused "$VALIDATE" "$@"; }
# invariant CASE TEXT: the schema accepts it, the invariants refuse it.
invariant() {
    $PY "$VALIDATE" "$NEG/$1" || fail "$1 should pass the schema: it tests an invariant"
    refused "$CHECK" "$@"
}
# both CASE TEXT: not strict JSON; both refuse it with the same words.
both() { refused "$VALIDATE" "$@"; refused "$CHECK" "$@"; }

schema unknown-top-key.json "'verdict' was unexpected"
schema unknown-config-key.json "config: Additional properties are not allowed ('workers'"
schema unknown-summary-key.json "summary: Additional properties are not allowed ('retries'"
schema unknown-error-stage.json "summary/errors: Additional properties are not allowed ('quic'"
schema unknown-task-key.json "tasks/1: Additional properties are not allowed ('note'"
schema unknown-span-state.json "tasks/1/spans/1/state: 'sleeping' is not one of"
schema error-without-error.json "tasks/1: 'error' is a required property"
schema error-on-fetched.json "tasks/0/error: False schema does not allow"
schema error-unknown-stage.json "tasks/1/error/stage: 'handshake' is not one of"
schema repeats-missing-median.json "repeats: 'median' is a required property"
schema repeats-runs-not-summaries.json "repeats/runs/1: 'upstream_requests' is a required property"
schema expectation-ok-not-bool.json "expectations/0/ok: 'yes' is not of type 'boolean'"
schema fetch-cap-zero.json "config/fetch_cap: 0 is less than the minimum of 1"
schema threads-baseline-zero.json "threads/baseline: 0 is less than the minimum of 1"
schema interrupted-missing.json "'interrupted' is a required property"

both duplicate-key.json 'duplicate key "summary.wall_us"'
both nan.json "summary.cache_hits: NaN is not JSON"
both number-beyond-double.json "summary.wall_us: number out of range (1e400)"
both integer-beyond-int64.json "summary.wall_us: number out of range (18446744073709551616)"

invariant span-ends-before-start.json "task 0: span 6 (connect) ends before it starts (290 < 298)"
invariant span-outside-task.json "task 1: span 4 (cache_hit) [101046, 101050] lies outside the task"
invariant task-ends-before-start.json "task 2: ends before it starts"
invariant created-late.json "task 1: span 0 (created) starts at 3, not at the task's start 0"
invariant fetch-out-of-order.json "task 0: span 6 (dns) after connect: fetch phases out of order"
invariant fetch-twice.json "task 0: span 9 (receive) after receive: fetch phases out of order or repeated"
invariant fetch-gap.json "task 0: span 7 (request) starts at 700, not where connect ended (658)"
invariant fetch-outside-lock.json "task 0: span 7 (request) [658, 100915] is not inside lock_held [26, 100000]"
invariant lock-wait-gap.json "task 1: lock_wait ends at 101000, not where lock_held starts (101045)"
invariant tasks-fewer-than-config.json "3 tasks in the report, config.tasks is 4"
invariant cache-hits-miscounted.json "summary.cache_hits is 3, but 2 tasks have outcome cache_hit"
invariant errors-total-miscounted.json "summary.errors.total is 3, but 2 tasks have outcome error"
invariant errors-stages-miscounted.json "summary.errors.total is 2, but the stage counters add up to 3"
invariant upstream-miscounted.json "summary.upstream_requests is 2, but 1 task(s) reached"
invariant upstream-below-started.json "summary.upstream_requests is 0, but 1 task(s) reached"
invariant server-miscounted.json "summary.server_requests is 2, but 1 of 1 upstream requests were sent"
invariant threads-created-miscounted.json "summary.threads_created is 2, but threads.lifetimes has 1"
invariant peak-threads-miscounted.json "summary.peak_threads is 3, but threads.samples peak at 2"
invariant wall-too-short.json "summary.wall_us 100000 is shorter than the tasks' span 101046"
invariant repeats-count-miscounted.json "repeats.count is 4, but repeats.runs has 3"

# every broken report in the directory is one of the cases above
for f in "$NEG"/*.json; do
    case "$checked" in *" $(basename "$f") "*) ;; *) fail "$(basename "$f") is not checked" ;; esac
done

# usage: no file is a usage error; a missing file is named
expect_exit 2 $PY "$CHECK" 2>/dev/null
set +e; $PY "$CHECK" "$SCRATCH/missing.json" 2>"$SCRATCH/err"; rc=$?; set -e
expect_eq "check_report of a missing file" "$rc" 1
grep -q 'missing.json: No such file' "$SCRATCH/err" || fail "missing file not named: $(cat "$SCRATCH/err")"
echo "ok: schema and invariants"
