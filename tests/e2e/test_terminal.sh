# A terminal is not a pipe: with stdout on a terminal (a real pty from
# script(1)) and no --output, the JSON goes to a new file in the current
# directory, named on stderr beside the summary; piped or with --output,
# stdout gets the JSON as ever.
. "$FB_ROOT/tests/e2e/lib.sh"
command -v script > /dev/null || { echo "no script(1): skipped"; exit 0; }

# tty CMD...: runs the words (quoted for sh) on a pty, in $SCRATCH/cwd; the
# terminal's bytes go to $SCRATCH/tty.
mkdir "$SCRATCH/cwd"
tty() {
    cmd=""
    for w in "$@"; do cmd="$cmd '$w'"; done
    (cd "$SCRATCH/cwd" && script -qfec "stty cols 40; exec $TEST_PREFIX $cmd" /dev/null > "$SCRATCH/tty")
    # Its lines: each carriage return ends one, escapes taken out.
    tr '\r' '\n' < "$SCRATCH/tty" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -v '^$' > "$SCRATCH/lines" || true
}
reports() { (cd "$SCRATCH/cwd" && ls fetchbench-*.json 2> /dev/null) || true; }

tty "$FETCHBENCH" --tasks 5 --delay-ms 600 --seed 7
! grep -q '"schema"' "$SCRATCH/tty" || fail "JSON on the terminal"
name=$(reports)
expect_eq "one report file" "$(echo "$name" | wc -l)" 1
echo "$name" | grep -Eq '^fetchbench-[0-9]{8}-[0-9]{6}\.json$' || fail "file name: $name"
grep -qx "fetchbench: report written to $name" "$SCRATCH/lines" || fail "name not said: $(cat -v "$SCRATCH/tty")"
grep -q "^fetchbench: 5 tasks, mode lock" "$SCRATCH/lines" || fail "no summary: $(cat -v "$SCRATCH/tty")"
grep -q "0/5 tasks done" "$SCRATCH/tty" || fail "no progress line"
validate "$SCRATCH/cwd/$name" fetchbench/2
expect_eq "its runs" "$(jqv "$SCRATCH/cwd/$name" '[.runs[].summary.upstream_requests] | join(",")')" 1
expect_eq "its seed" "$(jqv "$SCRATCH/cwd/$name" '.config.workload.seed')" 7
# The progress line never reaches the 40th column: each redraw, escapes
# taken out, is at most 39 characters.
/usr/bin/python3 - "$SCRATCH/tty" <<'PY' || fail "progress wider than the terminal"
import re, sys
text = open(sys.argv[1], encoding="utf-8", newline="").read()
draws = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", d) for d in text.split("\r\x1b[K") if d.startswith("\x1b[2m[")]
assert draws, "no progress drawn"
wide = [d for d in draws if len(d) > 39]
assert not wide, wide
PY

# Never over an existing file: the names of the next seconds are taken, so
# the report gets -1 whenever it lands.
rm -f "$SCRATCH/cwd"/fetchbench-*.json
now=$(date +%s)
for i in 0 1 2 3 4 5 6 7 8 9; do
    echo keep > "$SCRATCH/cwd/fetchbench-$(date -d "@$((now + i))" +%Y%m%d-%H%M%S).json"
done
tty "$FETCHBENCH" --tasks 2 --delay-ms 10 --quiet
new=$(reports | grep -- '-1\.json$' || true)
expect_eq "a -1 file" "$(echo "$new" | grep -c .)" 1
expect_eq "--quiet says only the name" "$(cat "$SCRATCH/lines")" "fetchbench: report written to $new"
validate "$SCRATCH/cwd/$new" fetchbench/2
expect_eq "the taken names kept" "$(cat "$SCRATCH/cwd"/fetchbench-*[0-9][0-9].json | sort -u)" keep

# A run that cannot start leaves no file behind (its name was taken first).
rm -f "$SCRATCH/cwd"/fetchbench-*.json
expect_exit 0 tty "$FETCHBENCH" --url 'http://127.0.0.1:1/ x'
grep -q "^fetchbench: --url: not a valid URL" "$SCRATCH/lines" || fail "$(cat -v "$SCRATCH/tty")"
expect_eq "files left" "$(reports)" ""

# With --output, or "-o -" (stdout asked for by name): as ever, no file.
tty "$FETCHBENCH" --tasks 2 --delay-ms 10 -o "$SCRATCH/out.json"
validate "$SCRATCH/out.json" fetchbench/2
! grep -q "report written" "$SCRATCH/tty" || fail "named a file with --output"
tty "$FETCHBENCH" --tasks 2 --delay-ms 10 --quiet -o -
tr -d '\r' < "$SCRATCH/tty" > "$SCRATCH/dash.json"
validate "$SCRATCH/dash.json" fetchbench/2
expect_eq "files with -o" "$(reports)" ""

# Piped: the JSON on stdout, no file, no name, the summary as before.
(cd "$SCRATCH/cwd" && fb --tasks 5 --delay-ms 20 --seed 7 2> "$SCRATCH/err" | cat > "$SCRATCH/piped.json")
validate "$SCRATCH/piped.json" fetchbench/2
expect_eq "piped runs" "$(jqv "$SCRATCH/piped.json" '[.runs[].summary.upstream_requests] | join(",")')" 1
expect_eq "files when piped" "$(reports)" ""
! grep -q "report written" "$SCRATCH/err" || fail "named a file when piped"
grep -q "^fetchbench: 5 tasks, mode lock" "$SCRATCH/err" || fail "no summary when piped: $(cat "$SCRATCH/err")"
# The same report either way, but for times, ports and thread ids: the same
# keys in the same order at every level.
(cd "$SCRATCH/cwd" && fb --tasks 5 --delay-ms 20 --seed 7 --quiet -o "$SCRATCH/file.json")
keys='[paths | map(tostring) | join(".")] | map(gsub("[0-9]+"; "N")) | unique | join(" ")'
expect_eq "the same shape piped and to a file" "$(jq -r "$keys" "$SCRATCH/piped.json")" "$(jq -r "$keys" "$SCRATCH/file.json")"
