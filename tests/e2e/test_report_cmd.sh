#!/bin/sh
# `fetchbench report`: committed reports in, exact text out in each format
# (tests/golden), the histogram adds up to the tasks, one line per task in
# JSON Lines, CSV quoting, bad files named with exit 2, and a reader that
# leaves early costs no error.
. "$(dirname "$0")/lib.sh"
G="$FB_ROOT/tests/golden"
cd "$G"

# golden NAME ARGS...: fetchbench report ARGS must print exactly NAME.
golden() {
    name=$1; shift
    fb report "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || fail "report $*: exit $?: $(cat "$SCRATCH/err")"
    [ ! -s "$SCRATCH/err" ] || fail "report $*: stderr: $(cat "$SCRATCH/err")"
    diff -u "$name" "$SCRATCH/out" >&2 || fail "report $* differs from tests/golden/$name"
}
LC_ALL=C.UTF-8 golden repeat.text.utf8 repeat.json
LC_ALL=C golden repeat.text.ascii repeat.json
LC_ALL=C.UTF-8 golden keys-errors.text.utf8 keys.json errors.json
golden all.md --format markdown repeat.json keys.json errors.json
golden all.csv --format csv repeat.json keys.json errors.json
golden errors-keys.jsonl --format jsonl errors.json keys.json

# Not UTF-8: not one byte beyond ASCII.
if LC_ALL=C fb report repeat.json | LC_ALL=C grep -q '[^ -~]'; then fail "ASCII output has non-ASCII bytes"; fi

# stdin, named '-' or not at all, is the same report.
LC_ALL=C.UTF-8 fb report - <repeat.json >"$SCRATCH/stdin1"
LC_ALL=C.UTF-8 fb report <repeat.json >"$SCRATCH/stdin2"
cmp -s "$SCRATCH/stdin1" repeat.text.utf8 || fail "report - differs from report FILE"
cmp -s "$SCRATCH/stdin2" repeat.text.utf8 || fail "report (no FILE) differs from report FILE"

# Each run's histogram holds every task once: its counts add up to the
# run's tasks, in the report's own count.
for f in repeat.json keys.json errors.json; do
    got=$(LC_ALL=C fb report "$f" | awk '
        /^  Latency histogram \(/ { n = $3; sub(/\(/, "", n); if (want != "") print want, sum; want = n; sum = 0; next }
        want != "" && /^    .*\[ *[0-9]+\] \|/ { c = $0; sub(/^[^[]*\[ */, "", c); sub(/\].*/, "", c); sum += c; next }
        want != "" { print want, sum; want = "" }
        END { if (want != "") print want, sum }' | tr '\n' ' ')
    want=$(jq -r '[.runs[] | "\(.tasks | length) \(.tasks | length)"] | join(" ")' "$f")
    expect_eq "$f: histogram counts per run (tasks, sum of buckets)" "$got" "$want "
done

# JSON Lines: one valid object per task of every run, in order.
fb report --format jsonl repeat.json >"$SCRATCH/tasks.jsonl"
expect_eq "jsonl lines" "$(wc -l <"$SCRATCH/tasks.jsonl" | tr -d ' ')" "$(jq '[.runs[].tasks[]] | length' repeat.json)"
expect_eq "jsonl ids" "$(jq -s -c '[.[] | [.run, .id]]' "$SCRATCH/tasks.jsonl")" \
    "$(jq -c '[.runs | to_entries[] | .key as $r | .value.tasks[] | [$r, .id]]' repeat.json)"
expect_eq "jsonl waited_on of lock's run 1" \
    "$(jq -s -c '[.[] | select(.run == 2) | .waited_on.task // -1]' "$SCRATCH/tasks.jsonl")" \
    "$(jq -c '[.runs[2].tasks[] | .waited_on.task // -1]' repeat.json)"

# CSV: a file name with a comma and a quote is quoted (RFC 4180).
cp errors.json "$SCRATCH/a,b\"c.json"
(cd "$SCRATCH" && fb report --format csv 'a,b"c.json') >"$SCRATCH/q.csv"
/usr/bin/python3 - "$SCRATCH/q.csv" <<'PY' || fail "CSV quoting"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 2, rows
assert rows[0]["file"] == 'a,b"c.json' and rows[0]["mode"] == "singleflight", rows[0]
assert rows[1]["errors.http_status"] == rows[1]["errors"] == "7", rows[1]
PY

# A fresh run piped straight in.
fb --tasks 20 --mode lock --delay-ms 100 -q | LC_ALL=C fb report >"$SCRATCH/piped"
grep -q '^  Upstream requests:  1 (server saw 1)$' "$SCRATCH/piped" || fail "piped run: $(cat "$SCRATCH/piped")"

# Bad input: one line naming the file, exit 2; the good file is still shown.
printf 'not json' >"$SCRATCH/junk.json"
printf '{"schema": "other/1"}' >"$SCRATCH/other.json"
printf '{"schema": "fetchbench/2", "runs": [' >"$SCRATCH/cut.json"
for bad in "$SCRATCH/missing.json" "$SCRATCH/junk.json" "$SCRATCH/other.json" "$SCRATCH/cut.json"; do
    rc=0; fb report errors.json "$bad" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
    expect_eq "$bad: exit" "$rc" 2
    expect_eq "$bad: stderr lines" "$(wc -l <"$SCRATCH/err" | tr -d ' ')" 1
    grep -q "^fetchbench report: $bad: " "$SCRATCH/err" || fail "$bad: not named: $(cat "$SCRATCH/err")"
    grep -q '^singleflight$' "$SCRATCH/out" || fail "$bad: the good file was not shown"
done
expect_exit 2 fb report --format yaml repeat.json 2>/dev/null
expect_exit 2 fb report --bogus repeat.json 2>/dev/null

# A reader that leaves early (| head -1): a quiet exit 0, long before the
# end of a large report.
fb --tasks 20000 --mode lock --delay-ms 100 -q -o "$SCRATCH/big.json"
for fmt in jsonl text; do
    { rc=0; fb report --format $fmt "$SCRATCH/big.json" 2>"$SCRATCH/pipe.err" || rc=$?; echo $rc >"$SCRATCH/pipe.rc"; } | head -1 >/dev/null
    expect_eq "$fmt | head -1: exit" "$(cat "$SCRATCH/pipe.rc")" 0
    [ ! -s "$SCRATCH/pipe.err" ] || fail "$fmt | head -1: stderr: $(cat "$SCRATCH/pipe.err")"
done
echo "ok"
