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
# (nolock stands in for a broken lock: another mode, so --allow-different.)
expect_exit 1 fb compare --allow-different "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^upstream_requests .*REGRESSION" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
# (Wide threshold: a 20 ms run's time varies by more than 10 per cent.)
expect_exit 0 fb compare --threshold 1000 --allow-different "$SCRATCH/broken.json" "$SCRATCH/base.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^upstream_requests .*better" "$SCRATCH/cmp" || fail "an improvement is not a regression: $(cat "$SCRATCH/cmp")"

# Times with repeats: a 10x slower set of runs is a regression by the rank
# test; the same delay twice is not.
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast.json"
fb --tasks 2 --delay-ms 100 --repeat 5 --quiet > "$SCRATCH/slow.json"
fb --tasks 2 --delay-ms 10 --repeat 5 --quiet > "$SCRATCH/fast2.json"
# (The slow server stands in for slow code: another delay, so --allow-different.)
expect_exit 1 fb compare --allow-different "$SCRATCH/fast.json" "$SCRATCH/slow.json" > "$SCRATCH/cmp" 2> /dev/null
grep -q "^wall_us .*REGRESSION (Mann-Whitney" "$SCRATCH/cmp" || fail "$(cat "$SCRATCH/cmp")"
expect_exit 0 fb compare --threshold 200 "$SCRATCH/fast.json" "$SCRATCH/fast2.json" > "$SCRATCH/cmp"

printf 'not json' > "$SCRATCH/junk.json"
head -c 300 "$SCRATCH/base.json" > "$SCRATCH/truncated.json"
sed 's:"fetchbench/1":"fetchbench/9":' "$SCRATCH/base.json" > "$SCRATCH/v9.json"
sed 's:"fetchbench/1":"fetchbench/1\\nx":' "$SCRATCH/base.json" > "$SCRATCH/newline.json"
for f in junk truncated v9 newline; do
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

# Workloads that differ are refused, one line per difference, unless
# --allow-different; a key an older report lacks is unknown, not different.
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/broken.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
expect_eq "refusal" "$(cat "$SCRATCH/err")" 'fetchbench compare: workloads differ: config.mode "lock" vs "nolock"'
expect_eq "nothing on stdout" "$(wc -c < "$SCRATCH/cmp")" 0
fb --tasks 7 --delay-ms 30 --capacity 2 --max-connections 3 --quiet > "$SCRATCH/other.json"
expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/other.json" > /dev/null 2> "$SCRATCH/err"
expect_eq "one line per difference" "$(cat "$SCRATCH/err")" "fetchbench compare: workloads differ: config.tasks 6 vs 7
fetchbench compare: workloads differ: config.delay_ms 20 vs 30
fetchbench compare: workloads differ: config.capacity null vs 2
fetchbench compare: workloads differ: config.max_connections 0 vs 3"
expect_exit 0 fb compare --counts-only --allow-different "$SCRATCH/fast.json" "$SCRATCH/slow.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
grep -q "^fetchbench compare: WARNING: workloads differ: config.delay_ms 10 vs 100$" "$SCRATCH/err" || fail "no warning: $(cat "$SCRATCH/err")"
grep -q "no regression (UNRELIABLE: the workloads differ; compared anyway)$" "$SCRATCH/cmp" || fail "verdict: $(tail -1 "$SCRATCH/cmp")"
# Old reports without some config keys, and reports with and without the
# newer summary fields (summary.threads_failed, summary.errors.tls).
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
old = json.loads(json.dumps(base))
for k in ("max_connections", "url", "capacity"):
    del old["config"][k]
old["summary"].pop("threads_failed", None)
old["summary"]["errors"].pop("tls", None)
json.dump(old, open(f"{d}/old.json", "w"))
new = json.loads(json.dumps(base))
new["summary"]["threads_failed"] = 0
new["summary"]["errors"]["tls"] = 0
json.dump(new, open(f"{d}/new.json", "w"))
PY
expect_exit 0 fb compare --counts-only "$SCRATCH/old.json" "$SCRATCH/new.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
expect_eq "no warnings for missing keys" "$(cat "$SCRATCH/err")" ""
expect_exit 0 fb compare --counts-only "$SCRATCH/new.json" "$SCRATCH/old.json" > /dev/null

# Interrupted reports: refused with one line naming the file, unless
# --allow-interrupted; the key may come anywhere, the writer puts it last.
/usr/bin/python3 - "$SCRATCH" <<'PY'
import json, sys
d = sys.argv[1]
base = json.load(open(f"{d}/base.json"))
mid = dict(base, interrupted=True)
json.dump(mid, open(f"{d}/intr-mid.json", "w"))
last = {k: v for k, v in base.items() if k != "interrupted"}
last["interrupted"] = True
json.dump(last, open(f"{d}/intr-last.json", "w"))
PY
for f in intr-mid intr-last; do
    expect_exit 2 fb compare "$SCRATCH/base.json" "$SCRATCH/$f.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
    expect_eq "stderr lines for $f" "$(wc -l < "$SCRATCH/err")" 1
    grep -q "^fetchbench compare: $SCRATCH/$f.json: an interrupted run" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
    expect_eq "nothing on stdout for $f" "$(wc -c < "$SCRATCH/cmp")" 0
done
expect_exit 2 fb compare "$SCRATCH/intr-last.json" "$SCRATCH/base.json" > /dev/null 2>&1
expect_exit 0 fb compare --counts-only --allow-interrupted "$SCRATCH/base.json" "$SCRATCH/intr-last.json" > "$SCRATCH/cmp" 2> "$SCRATCH/err"
grep -q "^fetchbench compare: WARNING: $SCRATCH/intr-last.json: an interrupted run" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
grep -q "no regression (UNRELIABLE: the new run was interrupted; compared anyway)$" "$SCRATCH/cmp" || fail "verdict: $(tail -1 "$SCRATCH/cmp")"
printf '%s' '{"schema":"fetchbench/1","interrupted":"yes"}' > "$SCRATCH/intr-bad.json"
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
dup(text, '\n "tasks": [', '\n "tasks": [],\n "tasks": [', "dup-tasks")
dup(text, '"schema": "fetchbench/1",', '"schema": "fetchbench/1", "schema": "fetchbench/1",', "dup-schema")
i = rep.index('"repeats"')
j = rep.index('"wall_us":', i)
open(f"{d}/dup-repeats.json", "w").write(rep[:j] + '"wall_us": 1, ' + rep[j:])
PY
for pair in "dup-wall summary.wall_us" "dup-errors summary.errors.total" "dup-config config.tasks" \
            "dup-tasks tasks" "dup-schema schema" "dup-repeats repeats.runs[0].wall_us"; do
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
printf '{"schema": "fetchbench/1", ' > "$SCRATCH/report5g.json"; truncate -s 5G "$SCRATCH/report5g.json"
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
