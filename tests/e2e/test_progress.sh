# The progress line: on a terminal only, silent with --quiet and when stderr
# is not a terminal, without colour under NO_COLOR. `script` gives a pty.
. "$FB_ROOT/tests/e2e/lib.sh"
command -v script > /dev/null || { echo "no script(1): skipped"; exit 0; }

script -qec "$FETCHBENCH --tasks 5 --delay-ms 600 -o $SCRATCH/a.json" /dev/null > "$SCRATCH/tty"
grep -q "0/5 tasks done" "$SCRATCH/tty" || fail "no progress on a terminal: $(cat -v "$SCRATCH/tty")"
grep -q "$(printf '\033\[2m')" "$SCRATCH/tty" || fail "no colour on a terminal"
NO_COLOR=1 script -qec "$FETCHBENCH --tasks 5 --delay-ms 600 -o $SCRATCH/b.json" /dev/null > "$SCRATCH/nocolor"
grep -q "0/5 tasks done" "$SCRATCH/nocolor" || fail "no progress with NO_COLOR"
! grep -q "$(printf '\033\[2m')" "$SCRATCH/nocolor" || fail "colour despite NO_COLOR"
script -qec "$FETCHBENCH --tasks 5 --delay-ms 600 --quiet -o $SCRATCH/c.json" /dev/null > "$SCRATCH/quiet"
expect_eq "bytes on a terminal with --quiet" "$(wc -c < "$SCRATCH/quiet")" 0
fb --tasks 5 --delay-ms 600 -o "$SCRATCH/d.json" 2> "$SCRATCH/pipe"
! grep -q "tasks done" "$SCRATCH/pipe" || fail "progress on a pipe"
