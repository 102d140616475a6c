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

# progress_draws FILE: each redraw of the line, escapes taken out, one per
# line of stdout (the bytes of a file from script(1)).
progress_draws() {
    /usr/bin/python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", newline="").read()
for d in text.split("\r\x1b[K"):
    d = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", d)
    if d.startswith("["):
        print(d.split("\r")[0].split("\n")[0])
PY
}
# Its width: the terminal's (TIOCGWINSZ), else COLUMNS when the terminal
# says 0; cut one column short, never wrapped.
script -qec "stty cols 30; $FETCHBENCH --tasks 5 --delay-ms 600 -o $SCRATCH/e.json" /dev/null > "$SCRATCH/narrow"
progress_draws "$SCRATCH/narrow" > "$SCRATCH/draws"
[ -s "$SCRATCH/draws" ] || fail "no progress in 30 columns"
expect_eq "draws wider than 29 columns" "$(awk 'length($0) > 29' "$SCRATCH/draws" | wc -l)" 0
expect_eq "a cut draw" "$(head -1 "$SCRATCH/draws")" "[lock] 0/5 tasks done | 4 wai"
script -qec "stty cols 0; COLUMNS=50 $FETCHBENCH --tasks 5 --delay-ms 600 -o $SCRATCH/f.json" /dev/null > "$SCRATCH/cols"
progress_draws "$SCRATCH/cols" > "$SCRATCH/draws"
expect_eq "COLUMNS=50" "$(head -1 "$SCRATCH/draws")" "[lock] 0/5 tasks done | 4 waiting | 1 upstream re"

export LC_ALL=C.UTF-8 # the dash of an unknown time left (ASCII checked apart)
# Plurals, waiters, the time left: unknown (–) until a task has finished,
# then an estimate; one task and one request are singular. Arrivals every
# 100 ms (--rate 10, seeded), each fetch 400 ms: tasks finish while others run.
script -qec "stty cols 200; $FETCHBENCH --tasks 1 --delay-ms 600 -o $SCRATCH/g.json" /dev/null > "$SCRATCH/one"
progress_draws "$SCRATCH/one" > "$SCRATCH/draws"
grep -Eqx '\[lock\] 0/1 task done \| 0 waiting \| 1 upstream request \| [0-9.]+ s \| left –' "$SCRATCH/draws" \
    || fail "singular: $(cat "$SCRATCH/draws")"
script -qec "stty cols 200; $FETCHBENCH --tasks 8 --rate 10 --delay-ms 400 --mode nolock -o $SCRATCH/h.json" /dev/null \
    > "$SCRATCH/rate"
progress_draws "$SCRATCH/rate" > "$SCRATCH/draws"
grep -Eq '^\[nolock\] [1-7]/8 tasks done \| [0-9]+ waiting \| [2-8] upstream requests \| [0-9.]+ s \| left [0-9]+\.[0-9] s$' \
    "$SCRATCH/draws" || fail "no estimate: $(cat "$SCRATCH/draws")"
grep -Eq '^\[nolock\] 0/8 tasks done .* left –$' "$SCRATCH/draws" || fail "no unknown estimate: $(cat "$SCRATCH/draws")"
LC_ALL=C script -qec "stty cols 200; $FETCHBENCH --tasks 1 --delay-ms 600 -o $SCRATCH/i.json" /dev/null > "$SCRATCH/ascii"
progress_draws "$SCRATCH/ascii" | grep -q ' left -$' || fail "no ASCII dash: $(cat -v "$SCRATCH/ascii")"
# Erased before the summary: the summary starts on a cleared line.
grep -q "$(printf '\r\033\\[Kfetchbench: 1 tasks, mode lock')" "$SCRATCH/one" \
    || fail "progress not erased: $(cat -v "$SCRATCH/one")"
