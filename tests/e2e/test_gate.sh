# CI gates: --expect, --repeat and compare, and the committed baseline that
# fails CI when the lock breaks (exact counts, never times).
. "$FB_ROOT/tests/e2e/lib.sh"
# A check's stderr is often the command's, sent to a file: failures go to the
# test's own stderr, or a failed check exits without a word.
exec 3>&2
fail() { echo "FAIL: $*" >&3; exit 1; }

# --expect: exit 3 when one does not hold, verdicts in the JSON, listed on stderr.
expect_exit 0 fb --tasks 5 --delay-ms 20 --quiet --expect upstream_requests==1 --expect errors==0 > "$SCRATCH/ok.json"
expect_eq "verdicts recorded" "$(jqv "$SCRATCH/ok.json" '[.expectations[].ok] | all')" true
expect_exit 3 fb --tasks 5 --delay-ms 20 --mode nolock --expect upstream_requests==1 > "$SCRATCH/bad.json" 2> "$SCRATCH/err"
validate "$SCRATCH/bad.json" fetchbench/2
expect_eq "failed verdict" "$(jqv "$SCRATCH/bad.json" '.expectations[0].ok')" false
expect_eq "actual value" "$(jqv "$SCRATCH/bad.json" '.expectations[0].actual')" 5
expect_eq "its mode" "$(jqv "$SCRATCH/bad.json" '.expectations[0].mode')" nolock
grep -qx "✗ nolock: upstream_requests == 1 (got 5)" "$SCRATCH/err" || fail "not listed: $(cat "$SCRATCH/err")"
# --quiet keeps the failures, in the words scripts grep for, and nothing else.
expect_exit 3 fb --tasks 5 --delay-ms 20 --mode nolock --quiet --expect upstream_requests==1 > /dev/null 2> "$SCRATCH/err"
expect_eq "quiet failure" "$(cat "$SCRATCH/err")" "fetchbench: expectation failed: upstream_requests==1 for nolock (actual 5)"
expect_exit 2 fb --expect 'nosuch==1' --tasks 1 > /dev/null 2>&1
expect_exit 2 fb --expect 'wall_ms<abc' --tasks 1 > /dev/null 2>&1

# [MODE:]: an expectation with a mode judges that mode's runs only; without
# one, every mode's. Spaces around the operator and the ends are fine.
expect_exit 0 fb --tasks 5 --delay-ms 20 --mode lock,nolock --quiet --expect 'lock:upstream_requests==1' \
    --expect 'nolock: upstream_requests == 5' --expect 'errors==0' > "$SCRATCH/modes.json"
validate "$SCRATCH/modes.json" fetchbench/2
expect_eq "one verdict per expectation and mode" \
    "$(jqv "$SCRATCH/modes.json" '[.expectations[] | "\(.mode) \(.expect)"] | sort | join(",")')" \
    "lock errors==0,lock lock:upstream_requests==1,nolock errors==0,nolock nolock: upstream_requests == 5"
expect_eq "all held" "$(jqv "$SCRATCH/modes.json" '[.expectations[].ok] | all')" true
expect_exit 0 fb --tasks 5 --delay-ms 20 --mode lock,nolock --quiet --expect '  nolock : upstream_requests==5 ' \
    > "$SCRATCH/blanks.json"
expect_eq "blanks around the mode" "$(jqv "$SCRATCH/blanks.json" '[.expectations[] | "\(.mode)=\(.ok)"] | join(",")')" "nolock=true"
# The same gate on a mode that breaks it: the lock holds, nolock stampedes.
expect_exit 3 fb --tasks 5 --delay-ms 20 --mode lock,nolock --quiet --expect 'upstream_requests==1' \
    > "$SCRATCH/modes-bad.json" 2> "$SCRATCH/err"
expect_eq "lock held, nolock did not" "$(jqv "$SCRATCH/modes-bad.json" '[.expectations[] | "\(.mode)=\(.ok)"] | join(",")')" \
    "lock=true,nolock=false"
expect_eq "one line on stderr" "$(grep -c 'expectation failed' "$SCRATCH/err")" 1
expect_exit 2 fb --tasks 1 --expect 'nosuch:wall_ms<1' > /dev/null 2> "$SCRATCH/err"
expect_eq "stderr lines for an unknown mode" "$(wc -l < "$SCRATCH/err")" 1

# Percentiles and named figures: each task takes the delay at least (20 ms;
# upper bounds wide for slow machines and valgrind). A counter the mode does
# not have is no value: a failed expectation, actual null.
expect_exit 0 fb --tasks 5 --delay-ms 20 --mode lock,nolock --quiet --expect 'p50_ms >= 20' \
    --expect 'p99_9_ms < 60000' --expect 'lock:outcomes.cache_hit==4' --expect 'nolock:outcomes.fetched==5' \
    --expect 'lock:counters.lock_handoffs==4' --expect 'lock: wait_ms.lock_wait > 0' > "$SCRATCH/pct.json"
expect_exit 3 fb --tasks 5 --delay-ms 20 --mode nolock --expect 'counters.lock_handoffs>=0' \
    > "$SCRATCH/nocounter.json" 2> "$SCRATCH/err"
expect_eq "no value" "$(jqv "$SCRATCH/nocounter.json" '.expectations[0].actual')" null
grep -qx "✗ nolock: counters.lock_handoffs >= 0 (no value for counters.lock_handoffs in this run)" "$SCRATCH/err" \
    || fail "not listed: $(cat "$SCRATCH/err")"

# A line per verdict, held (✓) or not (✗), in the mode's order and the
# expectations' (k6's thresholds); spaces inside an expression, the
# percentiles (all tasks' and the waiters'), the newer counters. ASCII marks
# when the locale is not UTF-8. --quiet: held ones are not listed.
set -- --tasks 5 --delay-ms 20 --mode lock,nolock --expect 'wall_ms < 60000' --expect 'p99_ms<60000' \
    --expect 'lock: waiter_p99_ms < 60000' --expect 'lock:stampede_max==1' --expect 'nolock: stampede_max == 5' \
    --expect 'lock:waiters==4' --expect 'lock:outcomes.cache_hit==4' --expect 'lock: counters.lock_handoffs == 4' \
    --expect 'upstream_requests==1'
expect_exit 3 env LC_ALL=C.UTF-8 $TEST_PREFIX "$FETCHBENCH" "$@" > "$SCRATCH/marks.json" 2> "$SCRATCH/err"
grep -E '^(✓|✗) ' "$SCRATCH/err" | sed -E 's/\(got [0-9.e+]+\)$/(got N)/' > "$SCRATCH/marks"
cat > "$SCRATCH/marks.want" <<'WANT'
✓ lock: wall_ms < 60000 (got N)
✓ lock: p99_ms < 60000 (got N)
✓ lock: waiter_p99_ms < 60000 (got N)
✓ lock: stampede_max == 1 (got N)
✓ lock: waiters == 4 (got N)
✓ lock: outcomes.cache_hit == 4 (got N)
✓ lock: counters.lock_handoffs == 4 (got N)
✓ lock: upstream_requests == 1 (got N)
✓ nolock: wall_ms < 60000 (got N)
✓ nolock: p99_ms < 60000 (got N)
✓ nolock: stampede_max == 5 (got N)
✗ nolock: upstream_requests == 1 (got N)
WANT
diff "$SCRATCH/marks.want" "$SCRATCH/marks" >&3 || fail "verdict lines differ"
grep -qx "✓ lock: counters.lock_handoffs == 4 (got 4)" "$SCRATCH/err" || fail "actual value: $(cat "$SCRATCH/err")"
expect_eq "verdicts in the JSON" "$(jqv "$SCRATCH/marks.json" '[.expectations[].ok | tostring] | join(",")')" \
    "true,true,true,true,true,true,true,true,true,true,true,false"
expect_exit 3 env LC_ALL=C $TEST_PREFIX "$FETCHBENCH" "$@" > /dev/null 2> "$SCRATCH/err"
grep -qx "ok   lock: stampede_max == 1 (got 1)" "$SCRATCH/err" || fail "no ASCII ok: $(cat "$SCRATCH/err")"
grep -qx "FAIL nolock: upstream_requests == 1 (got 5)" "$SCRATCH/err" || fail "no ASCII FAIL: $(cat "$SCRATCH/err")"
! grep -q "✓\|✗" "$SCRATCH/err" || fail "UTF-8 marks in the C locale"
expect_exit 3 env LC_ALL=C.UTF-8 $TEST_PREFIX "$FETCHBENCH" "$@" --quiet > /dev/null 2> "$SCRATCH/err"
expect_eq "--quiet" "$(cat "$SCRATCH/err")" "fetchbench: expectation failed: upstream_requests==1 for nolock (actual 5)"

# --repeat keeps every run and each mode's median.
fb --tasks 4 --delay-ms 20 --repeat 3 --quiet > "$SCRATCH/rep.json"
validate "$SCRATCH/rep.json" fetchbench/2
expect_eq "runs kept" "$(jqv "$SCRATCH/rep.json" '.runs | length')" 3
median=$(jqv "$SCRATCH/rep.json" '[.runs[].summary.wall_us] | sort | .[1]')
expect_eq "median wall" "$(jqv "$SCRATCH/rep.json" '.repeats[0].median.wall_us')" "$median"
expect_eq "min wall" "$(jqv "$SCRATCH/rep.json" '.repeats[0].min.wall_us')" "$(jqv "$SCRATCH/rep.json" '[.runs[].summary.wall_us] | min')"
median=$(jqv "$SCRATCH/rep.json" '[.runs[].summary.latency_us.p99] | sort | .[1]')
expect_eq "median p99" "$(jqv "$SCRATCH/rep.json" '.repeats[0].median.latency_us.p99')" "$median"

# compare: same counts pass; a broken lock (nolock) is a regression; bad input is 2.
fb --tasks 6 --delay-ms 20 --quiet > "$SCRATCH/base.json"
fb --tasks 6 --delay-ms 20 --quiet > "$SCRATCH/same.json"
fb --tasks 6 --delay-ms 20 --mode nolock --quiet > "$SCRATCH/broken.json"
expect_exit 0 fb compare --threshold 1000 "$SCRATCH/base.json" "$SCRATCH/same.json" > "$SCRATCH/cmp"
grep -q "^mode lock:$" "$SCRATCH/cmp" || fail "no heading: $(cat "$SCRATCH/cmp")"
grep -q "^p99_us .* same\|^p99_us .*worse\|^p99_us .*better" "$SCRATCH/cmp" || fail "no percentiles: $(cat "$SCRATCH/cmp")"
grep -q "^outcomes.fetched .* same$" "$SCRATCH/cmp" || fail "no outcomes: $(cat "$SCRATCH/cmp")"
grep -q "^counters.lock_handoffs .* same$" "$SCRATCH/cmp" || fail "no counters: $(cat "$SCRATCH/cmp")"
# (nolock stands in for a broken lock: another mode, so --allow-different.)
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
expect_eq "modes differ" "$(cat "$SCRATCH/err")" 'fetchbench compare: modes differ: base ["lock"] vs new ["nolock"]'
expect_exit 1 fb compare --allow-different "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^mode lock vs nolock:$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
grep -q "^upstream_requests .*REGRESSION" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
# (Wide threshold: a 20 ms run's time varies by more than 10 per cent.)
expect_exit 0 fb compare --threshold 1000 --allow-different "$SCRATCH/broken.json" "$SCRATCH/base.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^upstream_requests .*better" "$SCRATCH/cmp" || fail "an improvement is not a regression: $(cat "$SCRATCH/cmp")"

# Two modes in one report, each compared on its own: the report against
# itself, and against another run of the same (counts are the experiment's
# logic: they match on any machine).
fb --tasks 6 --delay-ms 20 --mode lock,nolock --quiet > "$SCRATCH/both.json"
fb --tasks 6 --delay-ms 20 --mode lock,nolock --quiet > "$SCRATCH/both2.json"
expect_exit 0 fb compare "$SCRATCH/both.json" "$SCRATCH/both.json" > "$SCRATCH/cmp"
for mode in lock nolock; do
    grep -q "^mode $mode:$" "$SCRATCH/cmp" || fail "no $mode: $(cat "$SCRATCH/cmp")"
    grep -q "^$mode: 1 base run, 1 new run: no regression$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
done
expect_eq "nothing but same" "$(grep -c '^[a-z_0-9.]*  *[0-9-].*  \(REGRESSION\|better\|worse\|changed\)' "$SCRATCH/cmp")" 0
expect_eq "verdict" "$(tail -1 "$SCRATCH/cmp")" "2 modes compared, threshold 10.0%: no regression"
expect_exit 0 fb compare --counts-only "$SCRATCH/both.json" "$SCRATCH/both2.json" > "$SCRATCH/cmp" \
    || { cat "$SCRATCH/cmp"; exit 1; }
# One mode against two: refused, or the common one compared.
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/both.json" > /dev/null 2> "$SCRATCH/err"
expect_eq "modes differ" "$(cat "$SCRATCH/err")" 'fetchbench compare: modes differ: base ["lock"] vs new ["lock","nolock"]'
expect_exit 0 fb compare --counts-only --allow-different "$SCRATCH/base.json" "$SCRATCH/both.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^mode nolock: only in new, not compared$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
# A strategy that stops sharing, in one mode of two: that mode regresses.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
r = json.load(open(f"{d}/both.json"))
s = r["runs"][0]["summary"]
assert r["runs"][0]["mode"] == "lock"
s["upstream_requests"] += 1
s["outcomes"]["error"] += 1
json.dump(r, open(f"{d}/both-broken.json", "w"))
PY
expect_exit 1 fb compare --counts-only "$SCRATCH/both.json" "$SCRATCH/both-broken.json" > "$SCRATCH/cmp"
grep -q "^lock: 1 base run, 1 new run: REGRESSION$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
grep -q "^nolock: 1 base run, 1 new run: no regression$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
grep -q "^outcomes.error .*REGRESSION (counts must match)$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
expect_eq "verdict" "$(tail -1 "$SCRATCH/cmp")" "2 modes compared, threshold 10.0%: REGRESSION in lock"

# Times with repeats: a 10x slower set of runs is a regression by the rank
# test; the same delay twice is not.
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast.json"
fb --tasks 2 --delay-ms 100 --repeat 5 --quiet > "$SCRATCH/slow.json"
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast2.json"
# (The slow server stands in for slow code: another delay, so --allow-different.)
expect_exit 1 fb compare --allow-different "$SCRATCH/fast.json" "$SCRATCH/slow.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^wall_us .*REGRESSION (Mann-Whitney" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
grep -q "^p50_us .*REGRESSION (Mann-Whitney" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
expect_exit 0 fb compare --threshold 200 "$SCRATCH/fast.json" "$SCRATCH/fast2.json" > "$SCRATCH/cmp"
grep -q "^lock: 5 base runs, 5 new runs: no regression$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"

printf 'not json' > "$SCRATCH/junk.json"
head -c 300 "$SCRATCH/base.json" > "$SCRATCH/truncated.json"
sed 's:"fetchbench/2":"fetchbench/9":' "$SCRATCH/base.json" > "$SCRATCH/v9.json"
sed 's:"fetchbench/2":"fetchbench/2\\nx":' "$SCRATCH/base.json" > "$SCRATCH/newline.json"
for f in junk truncated v9 newline; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > /dev/null 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
done
expect_exit 2 fb compare "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 2 fb compare --threshold x "$SCRATCH/base.json" "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/missing.json" > /dev/null 2>&1

# The baseline CI gates on: exact counts of the experiment, against the
# committed fetchbench/2 baseline and the fetchbench/1 one it replaced (v1
# against v2: what v1 lacks, percentiles and outcomes, is left out or n/a).
for mode in lock nolock; do
    fb --tasks 20 --mode $mode --capacity 8 --delay-ms 50 --quiet > "$SCRATCH/$mode.json"
    for baseline in "$FB_ROOT/tests/baseline/$mode.json" "$FB_ROOT/tests/baseline/v1/$mode.json"; do
        expect_exit 0 fb compare --counts-only "$baseline" "$SCRATCH/$mode.json" > "$SCRATCH/cmp" \
            || { cat "$SCRATCH/cmp"; exit 1; }
        grep -q "^upstream_requests .* same$" "$SCRATCH/cmp" || fail "$baseline: $(cat "$SCRATCH/cmp")"
    done
done
expect_eq "v1 baseline" "$(head -c 25 "$FB_ROOT/tests/baseline/v1/lock.json")" '{"schema": "fetchbench/1"'
grep -q "^outcomes.fetched .*n/a (only in new)$" "$SCRATCH/cmp" || fail "v1 has no outcomes: $(cat "$SCRATCH/cmp")"
# Both modes of one new run against the v1 lock baseline: nolock is only in
# the new report, refused unless allowed; then lock is compared alone.
fb --tasks 20 --mode lock,nolock --capacity 8 --delay-ms 50 --quiet > "$SCRATCH/both20.json"
expect_exit 2 fb compare --counts-only "$FB_ROOT/tests/baseline/v1/lock.json" "$SCRATCH/both20.json" > /dev/null 2> "$SCRATCH/err"
expect_eq "modes differ" "$(cat "$SCRATCH/err")" 'fetchbench compare: modes differ: base ["lock"] vs new ["lock","nolock"]'
expect_exit 0 fb compare --counts-only --allow-different "$FB_ROOT/tests/baseline/v1/lock.json" "$SCRATCH/both20.json" \
    > "$SCRATCH/cmp" 2> /dev/null || { cat "$SCRATCH/cmp"; exit 1; }
grep -q "^mode nolock: only in new, not compared$" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"

# Hostile reports: huge numbers, deep nesting, a huge skipped task array.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
huge = json.loads(json.dumps(base)); huge["runs"][0]["summary"]["wall_us"] = 1e300
json.dump(huge, open(f"{d}/huge.json", "w"))
open(f"{d}/deep.json", "w").write('{"schema":"fetchbench/2","runs":[{"summary":' + "[" * 100000 + "]" * 100000 + "}]}")
big = json.loads(json.dumps(base)); big["runs"][0]["tasks"] = [[[[[[[[{"id": i}]]]]]]] for i in range(200000)]
json.dump(big, open(f"{d}/bigtasks.json", "w"))
PY
for f in huge deep; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > /dev/null 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
done
expect_exit 0 fb compare --counts-only "$SCRATCH/base.json" "$SCRATCH/bigtasks.json" > /dev/null

# Workloads that differ are refused, one line per difference, unless
# --allow-different; a key an older report lacks is unknown, not different.
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
expect_eq "refusal" "$(cat "$SCRATCH/err")" 'fetchbench compare: modes differ: base ["lock"] vs new ["nolock"]'
expect_eq "nothing on stdout" "$(wc -c < "$SCRATCH/cmp")" 0
fb --tasks 7 --delay-ms 30 --capacity 2 --max-connections 3 --seed 2 --keys 3 --quiet > "$SCRATCH/other.json"
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/other.json" > /dev/null 2> "$SCRATCH/err"
expect_eq "one line per difference" "$(cat "$SCRATCH/err")" "fetchbench compare: workloads differ: config.tasks 6 vs 7
fetchbench compare: workloads differ: config.delay_ms 20 vs 30
fetchbench compare: workloads differ: config.capacity null vs 2
fetchbench compare: workloads differ: config.max_connections 0 vs 3
fetchbench compare: workloads differ: config.workload.seed 1 vs 2
fetchbench compare: workloads differ: config.workload.keys 1 vs 3"
expect_exit 0 fb compare --counts-only --allow-different "$SCRATCH/fast.json" "$SCRATCH/slow.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
grep -q "^fetchbench compare: WARNING: workloads differ: config.delay_ms 10 vs 100$" "$SCRATCH/err" || fail "no warning: $(cat "$SCRATCH/err")"
grep -q "no regression (UNRELIABLE: the workloads differ; compared anyway)$" "$SCRATCH/cmp" || fail "verdict: $(tail -1 "$SCRATCH/cmp")"
# Old reports without some config keys (and no config.workload), and
# reports with and without the newer summary fields (threads_failed,
# errors.tls): unknown, not different.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
old = json.loads(json.dumps(base))
for k in ("max_connections", "url", "capacity", "workload"):
    del old["config"][k]
old["runs"][0]["summary"].pop("threads_failed", None)
old["runs"][0]["summary"]["errors"].pop("tls", None)
json.dump(old, open(f"{d}/old.json", "w"))
new = json.loads(json.dumps(base))
new["runs"][0]["summary"]["threads_failed"] = 0
new["runs"][0]["summary"]["errors"]["tls"] = 0
json.dump(new, open(f"{d}/new.json", "w"))
PY
expect_exit 0 fb compare --counts-only "$SCRATCH/old.json" "$SCRATCH/new.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
expect_eq "no warnings for missing keys" "$(cat "$SCRATCH/err")" ""
expect_exit 0 fb compare --counts-only "$SCRATCH/new.json" "$SCRATCH/old.json" > /dev/null

# Interrupted reports: refused with one line naming the file, unless
# --allow-interrupted; the key may come anywhere, the writer puts it last;
# a run's own mark counts too.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
mid = dict(base, interrupted=True)
json.dump(mid, open(f"{d}/intr-mid.json", "w"))
last = {k: v for k, v in base.items() if k != "interrupted"}
last["interrupted"] = True
json.dump(last, open(f"{d}/intr-last.json", "w"))
run = json.loads(json.dumps(base)); run["runs"][0]["interrupted"] = True
json.dump(run, open(f"{d}/intr-run.json", "w"))
PY
for f in intr-mid intr-last intr-run; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
    grep -q "^fetchbench compare: $SCRATCH/$f.json: an interrupted run" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
    expect_eq "nothing on stdout for $f" "$(wc -c < "$SCRATCH/cmp")" 0
done
expect_exit 2 fb compare "$SCRATCH/intr-last.json" "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 0 fb compare --counts-only --allow-interrupted "$SCRATCH/base.json" "$SCRATCH/intr-last.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
grep -q "^fetchbench compare: WARNING: $SCRATCH/intr-last.json: an interrupted run" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
grep -q "no regression (UNRELIABLE: the new run was interrupted; compared anyway)$" "$SCRATCH/cmp" || fail "verdict: $(tail -1 "$SCRATCH/cmp")"
printf '%s' '{"schema":"fetchbench/2","interrupted":"yes"}' > "$SCRATCH/intr-bad.json"
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/intr-bad.json" > /dev/null 2>&1

# Duplicate keys, anywhere compare reads (the plot scripts refuse them with
# the same words): cJSON would take the first, Python the last.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import sys
d = sys.argv[1]
text = open(f"{d}/base.json").read()
rep = open(f"{d}/fast.json").read()
def dup(src, old, new, name):
    assert old in src, old
    open(f"{d}/{name}.json", "w").write(src.replace(old, new, 1))
dup(text, '"wall_us":', '"wall_us": 1, "wall_us":', "dup-wall")
dup(text, '"total":', '"total": 0, "total":', "dup-errors")
dup(text, '"tasks":', '"tasks": 6, "tasks":', "dup-config")
dup(text, '\n  "tasks": [', '\n  "tasks": [],\n  "tasks": [', "dup-tasks")
dup(text, '"schema": "fetchbench/2",', '"schema": "fetchbench/2", "schema": "fetchbench/2",', "dup-schema")
i = rep.index('"repeats"')
j = rep.index('"wall_us":', i)
open(f"{d}/dup-repeats.json", "w").write(rep[:j] + '"wall_us": 1, ' + rep[j:])
PY
for pair in "dup-wall runs[0].summary.wall_us" "dup-errors runs[0].summary.errors.total" "dup-config config.tasks" \
            "dup-tasks runs[0].tasks" "dup-schema schema" "dup-repeats repeats[0].median.wall_us"; do
    set -f; set -- $pair; set +f
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$1.json" > /dev/null 2> "$SCRATCH/err"
    expect_eq "$1" "$(cat "$SCRATCH/err")" "fetchbench compare: $SCRATCH/$1.json: duplicate key \"$2\""
done

# Not a report: refused after a small prefix, in well under a second however
# large the file (the limit is wide for slow machines and valgrind). Sparse
# files of 5 GB (over the 4 GiB cap) and 3 GB (under it), and pipes that never
# end, which cannot be measured or sought.
limit=5
[ -z "$TEST_PREFIX" ] || limit=30
truncate -s 5G "$SCRATCH/zeros5g.json"
truncate -s 3G "$SCRATCH/zeros3g.json"
printf '[' > "$SCRATCH/array5g.json"; truncate -s 5G "$SCRATCH/array5g.json"
printf '{"schema": "fetchbench/2", ' > "$SCRATCH/report5g.json"; truncate -s 5G "$SCRATCH/report5g.json"
mkfifo "$SCRATCH/yes.fifo" "$SCRATCH/spaces.fifo"
yes > "$SCRATCH/yes.fifo" 2> /dev/null &
cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
{ printf '{'; yes ' '; } > "$SCRATCH/spaces.fifo" 2> /dev/null &
cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
for pair in "zeros5g larger than" "array5g larger than" "report5g larger than" \
            "zeros3g not a fetchbench report" "yes.fifo not a fetchbench report" \
            "spaces.fifo not a fetchbench report"; do
    set -f; set -- $pair; set +f
    f=$1; shift
    case $f in *.fifo) ;; *) f=$f.json ;; esac
    start=$(date +%s)
    expect_exit 2 timeout $limit $TEST_PREFIX "$FETCHBENCH" compare "$SCRATCH/base.json" "$SCRATCH/$f" \
        > /dev/null 2> "$SCRATCH/err"
    end=$(date +%s)
    [ $((end - start)) -lt $limit ] || fail "$f: took $((end - start)) s"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
    grep -q "^fetchbench compare: $SCRATCH/$f: $*" "$SCRATCH/err" || fail "$f: $(cat "$SCRATCH/err")"
done
rm -f "$SCRATCH"/*5g.json "$SCRATCH"/*3g.json

# Output that cannot be written: one line on stderr, exit 1 (SIGPIPE is
# ignored), for the table and for --help alike. The closed pipe's reader is
# gone before fetchbench starts, so nothing races.
for args in "--counts-only $SCRATCH/base.json $SCRATCH/same.json" "--help"; do
    expect_exit 1 fb compare $args > /dev/full 2> "$SCRATCH/err"
    expect_eq "stderr for /dev/full ($args)" "$(cat "$SCRATCH/err")" \
        "fetchbench compare: writing the output failed: No space left on device"
    expect_exit 1 /usr/bin/python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w))' $TEST_PREFIX "$FETCHBENCH" compare $args 2> "$SCRATCH/err"
    expect_eq "stderr for a closed pipe ($args)" "$(cat "$SCRATCH/err")" \
        "fetchbench compare: writing the output failed: Broken pipe"
done
