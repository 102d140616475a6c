# CI gates: --expect, --repeat and compare, and the committed baseline that
# fails CI when the lock breaks (exact counts, never times).
. "$FB_ROOT/tests/e2e/lib.sh"

# --expect: exit 3 when one does not hold, verdicts in the JSON, listed on stderr.
expect_exit 0 fb --tasks 5 --delay-ms 20 --quiet --expect upstream_requests==1 --expect errors==0 > "$SCRATCH/ok.json"
expect_eq "verdicts recorded" "$(jqv "$SCRATCH/ok.json" '[.expectations[].ok] | all')" true
expect_exit 3 fb --tasks 5 --delay-ms 20 --mode nolock --expect upstream_requests==1 > "$SCRATCH/bad.json" 2> "$SCRATCH/err"
validate "$SCRATCH/bad.json"
expect_eq "failed verdict" "$(jqv "$SCRATCH/bad.json" '.expectations[0].ok')" false
expect_eq "actual value" "$(jqv "$SCRATCH/bad.json" '.expectations[0].actual')" 5
grep -q "expectation failed: upstream_requests==1 (actual 5)" "$SCRATCH/err" || fail "not listed: $(cat "$SCRATCH/err")"
expect_exit 2 fb --expect 'nosuch==1' --tasks 1 > /dev/null 2>&1

# --repeat keeps every run's summary and their median.
fb --tasks 4 --delay-ms 20 --repeat 3 --quiet > "$SCRATCH/rep.json"
validate "$SCRATCH/rep.json"
expect_eq "runs kept" "$(jqv "$SCRATCH/rep.json" '.repeats.runs | length')" 3
median=$(jqv "$SCRATCH/rep.json" '[.repeats.runs[].wall_us] | sort | .[1]')
expect_eq "median wall" "$(jqv "$SCRATCH/rep.json" .repeats.median.wall_us)" "$median"
expect_eq "min wall" "$(jqv "$SCRATCH/rep.json" .repeats.min.wall_us)" "$(jqv "$SCRATCH/rep.json" '[.repeats.runs[].wall_us] | min')"

# compare: same counts pass; a broken lock (nolock) is a regression; bad input is 2.
fb --tasks 6 --delay-ms 20 --quiet > "$SCRATCH/base.json"
fb --tasks 6 --delay-ms 20 --quiet > "$SCRATCH/same.json"
fb --tasks 6 --delay-ms 20 --mode nolock --quiet > "$SCRATCH/broken.json"
expect_exit 0 fb compare --threshold 1000 "$SCRATCH/base.json" "$SCRATCH/same.json" > "$SCRATCH/cmp"
expect_exit 1 fb compare "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp"
grep -q "^upstream_requests .*REGRESSION" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
expect_exit 0 fb compare "$SCRATCH/broken.json" "$SCRATCH/base.json" > "$SCRATCH/cmp"
grep -q "^upstream_requests .*better" "$SCRATCH/cmp" || fail "an improvement is not a regression: $(cat "$SCRATCH/cmp")"

# Times with repeats: a 10x slower set of runs is a regression by the rank
# test; the same delay twice is not.
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast.json"
fb --tasks 2 --delay-ms 100 --repeat 5 --quiet > "$SCRATCH/slow.json"
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast2.json"
expect_exit 1 fb compare "$SCRATCH/fast.json" "$SCRATCH/slow.json" > "$SCRATCH/cmp"
grep -q "^wall_us .*REGRESSION (Mann-Whitney" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
expect_exit 0 fb compare --threshold 200 "$SCRATCH/fast.json" "$SCRATCH/fast2.json" > "$SCRATCH/cmp"

printf 'not json' > "$SCRATCH/junk.json"
head -c 300 "$SCRATCH/base.json" > "$SCRATCH/truncated.json"
sed 's:"fetchbench/1":"fetchbench/9":' "$SCRATCH/base.json" > "$SCRATCH/v9.json"
for f in junk truncated v9; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > /dev/null 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
done
expect_exit 2 fb compare "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 2 fb compare --threshold x "$SCRATCH/base.json" "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/missing.json" > /dev/null 2>&1

# The baseline CI gates on: exact counts of the experiment.
for mode in lock nolock; do
    fb --tasks 20 --mode $mode --capacity 8 --delay-ms 50 --quiet > "$SCRATCH/$mode.json"
    expect_exit 0 fb compare --counts-only "$FB_ROOT/tests/baseline/$mode.json" "$SCRATCH/$mode.json" > "$SCRATCH/cmp" \
        || { cat "$SCRATCH/cmp"; exit 1; }
done

# Hostile reports: huge numbers, deep nesting, a huge skipped task array.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
huge = dict(base); huge["summary"] = dict(base["summary"], wall_us=1e300)
json.dump(huge, open(f"{d}/huge.json", "w"))
open(f"{d}/deep.json", "w").write('{"schema":"fetchbench/1","summary":' + "[" * 100000 + "]" * 100000 + "}")
big = dict(base); big["tasks"] = [[[[[[[[{"id": i}]]]]]]] for i in range(200000)]
json.dump(big, open(f"{d}/bigtasks.json", "w"))
PY
for f in huge deep; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > /dev/null 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
done
expect_exit 0 fb compare --counts-only "$SCRATCH/base.json" "$SCRATCH/bigtasks.json" > /dev/null
