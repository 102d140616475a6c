# Bad input: one line on stderr naming the flag, exit 2, no output file.
. "$FB_ROOT/tests/e2e/lib.sh"

bad() {
    # (Not expect_exit: its FAIL line would go into the file.)
    set +e; fb "$@" > "$SCRATCH/out" 2> "$SCRATCH/err"; rc=$?; set -e
    expect_eq "exit code for '$*' ($(head -c 300 "$SCRATCH/err"))" "$rc" 2
    lines=$(wc -l < "$SCRATCH/err")
    expect_eq "stderr lines for '$*'" "$lines" 1
    expect_eq "stdout bytes for '$*'" "$(wc -c < "$SCRATCH/out")" 0
}

bad --tasks abc;            grep -q -- '--tasks' "$SCRATCH/err" || fail "flag not named"
bad --tasks -5
bad --tasks 0
bad --tasks 99999999999999; grep -q -- "99999999999999" "$SCRATCH/err" || fail "value not named"
bad --tasks
bad --mode fast;            grep -q "unknown mode 'fast'" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
bad --delay-ms 1.5
bad --delay-ms 600001
bad --capacity 0
bad --timeout-ms 0
bad --max-body 0
bad --bogus;                grep -q -- "--bogus" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
bad -x
bad extra-argument
bad --url http://127.0.0.1:1/ --delay-ms 5
bad --url http://127.0.0.1:1/ --capacity 5
bad --url 'not a url'
bad --url ftp://127.0.0.1/file;  grep -q "unsupported scheme" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
bad --output "$SCRATCH/missing/dir/out.json" --tasks 1 --delay-ms 0
[ ! -e "$SCRATCH/missing" ] || fail "created the missing directory"
bad --output ""

expect_exit 0 fb --help > "$SCRATCH/help"
grep -q "Exit codes" "$SCRATCH/help" || fail "--help does not document exit codes"
# Each subcommand, a line each, and where their options are.
grep -q "^Subcommands (fetchbench SUBCOMMAND --help for their options):$" "$SCRATCH/help" || fail "no subcommands"
for sub in serve compare report; do
    grep -q "^  $sub " "$SCRATCH/help" || fail "--help does not list $sub"
done
for sub in serve compare; do
    expect_exit 0 fb $sub --help > "$SCRATCH/subhelp"
    grep -qi "^usage: fetchbench $sub " "$SCRATCH/subhelp" || fail "$sub --help: $(head -3 "$SCRATCH/subhelp")"
done
for flag in --cacert --insecure --warmup; do
    grep -q -- "^      $flag " "$SCRATCH/help" || fail "--help lacks $flag"
done
expect_eq "TLS options' purpose" "$(grep -c 'for HTTPS targets with their own certificates' "$SCRATCH/help")" 2

# --cacert must name a readable file, checked before any run; --insecure
# warns once (not with --quiet); --warmup 0..1000.
bad --cacert "$SCRATCH/no-such.pem";  grep -q -- "--cacert: cannot read '$SCRATCH/no-such.pem'" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
bad --cacert ""
bad --warmup -1
bad --warmup 1001
bad --warmup
echo "not checked until a handshake" > "$SCRATCH/ca.pem"
fb --cacert "$SCRATCH/ca.pem" --tasks 1 --delay-ms 0 --quiet > "$SCRATCH/ca.json"
validate "$SCRATCH/ca.json" fetchbench/2
fb --insecure --tasks 1 --delay-ms 0 > /dev/null 2> "$SCRATCH/err"
expect_eq "--insecure warning" "$(grep -c 'insecure' "$SCRATCH/err")" 1
grep -qx "fetchbench: --insecure: HTTPS certificates and host names are not verified" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
fb --insecure --quiet --tasks 1 --delay-ms 0 > /dev/null 2> "$SCRATCH/err"
expect_eq "--insecure --quiet" "$(cat "$SCRATCH/err")" ""
expect_exit 0 fb --version > "$SCRATCH/version"
grep -q "^fetchbench [0-9]" "$SCRATCH/version" || fail "--version: $(cat "$SCRATCH/version")"

# A report that cannot be written is an error, not a silent success.
expect_exit 1 fb --tasks 3 --delay-ms 0 --quiet > /dev/full 2> "$SCRATCH/err"
grep -q "writing stdout failed: No space left on device" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
expect_eq "stderr lines for a full stdout" "$(wc -l < "$SCRATCH/err")" 1
# So is --help or --version that cannot be written (a full disk, a closed stdout).
for flag in --help --version; do
    expect_exit 1 fb $flag > /dev/full 2> "$SCRATCH/err"
    expect_eq "stderr lines for $flag > /dev/full" "$(wc -l < "$SCRATCH/err")" 1
    grep -q -- "$flag: writing stdout failed: No space left on device" "$SCRATCH/err" \
        || fail "$(cat "$SCRATCH/err")"
    expect_exit 1 fb $flag >&- 2> "$SCRATCH/err"
    grep -q -- "$flag: writing stdout failed" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
done
