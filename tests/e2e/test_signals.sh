# Signals as they really arrive: to the whole process group (a terminal's
# ^C), at every moment of the process's life, twice, and with SIGINT ignored
# by the shell that started us. The contract each time: a valid report that
# says it was interrupted (with every run done so far), exit 130/143, no
# temporary file left, no server left behind.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# no_temporaries DIR: only the named outputs are in DIR.
no_temporaries() {
    left=$(ls -A "$1" | grep -v -e '\.json$' || true)
    [ -z "$left" ] || fail "temporary files left in $1: $left"
}

# await_start PID: waits until PID is fetchbench (not the shell about to exec
# it, which may catch SIGINT itself) and has installed its SIGINT handler,
# the first thing its main does — or 20 ms have passed since the exec. Before
# the handler a background job's SIGINT is ignored by the kernel: nothing
# can see it.
await_start() {
    i=0
    until [ "$(cat "/proc/$1/comm" 2>/dev/null)" = fetchbench ]; do
        i=$((i + 1)); [ $i -lt 5000 ] || fail "pid $1 never started"; sleep 0.001
    done
    i=0
    while [ $i -lt 20 ]; do
        mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$mask" ] && [ $(( 0x$mask & 2 )) -ne 0 ] && return 0
        i=$((i + 1)); sleep 0.001
    done
}

# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

interrupt() { # SIGNAL EXPECTED_EXIT MODE
    d="$SCRATCH/$1"; mkdir -p "$d"
    "$FETCHBENCH" --tasks 10 --mode "$3" --delay-ms 20000 --quiet --output "$d/r.json" \
        --trace "$d/t.json" &
    pid=$!
    sleep 0.5
    kill -"$1" $pid
    t0=$(date +%s%N)
    set +e; wait $pid; rc=$?; set -e
    ms=$(ms_since "$t0")
    expect_eq "exit code after SIG$1" "$rc" "$2"
    [ "$ms" -lt 3000 ] || fail "took $ms ms to stop after SIG$1"
    validate "$d/r.json"
    expect_eq "interrupted" "$(jqv "$d/r.json" .interrupted)" true
    expect_eq "all cancelled" "$(rv "$d/r.json" '[.tasks[] | select(.outcome == "cancelled")] | length')" 10
    expect_eq "the run says it was cut short" "$(rv "$d/r.json" .interrupted)" true
    jq -e . "$d/t.json" > /dev/null || fail "trace after SIG$1 is not JSON"
    [ -z "$(children_of $pid 2>/dev/null)" ] || fail "left a child behind"
    no_temporaries "$d"
}
interrupt INT 130 nolock
interrupt TERM 143 lock
# Tasks cut short while they waited for the holder still waited.
expect_eq "lock: the 9 cancelled waiters are waiters" "$(rv "$SCRATCH/TERM/r.json" .summary.waiters)" 9

# The lock holder's fetch was in flight: its record says how far it got, and
# the waiters' lock_wait and the holder's lock_held end at the interrupt.
r="$SCRATCH/TERM/r.json"
expect_eq "holder was fetching" "$(rv "$r" '[.tasks[0].spans[] | select(.[0] | IN("request", "in_service"))] | length')" 1
expect_eq "holder's lock_held kept" "$(rv "$r" '[.tasks[0].spans[] | select(.[0] == "lock_held")] | length')" 1
expect_eq "every waiter's lock_wait kept, to the interrupt" \
    "$(rv "$r" '[.tasks[1:][] | . as $t | select(any(.spans[]; .[0] == "lock_wait" and .[2] == $t.end_us))] | length')" 9
# A flight's followers cut short: cancelled, still waiters, their state freed.
interrupt TERM 143 singleflight
expect_eq "singleflight: the 9 cancelled followers are waiters" "$(rv "$SCRATCH/TERM/r.json" .summary.waiters)" 9

# Arrivals spread over time (--rate): a task that had not arrived when the
# signal came is listed all the same, cancelled, without spans, at the run's
# end; those that had arrived come first (arrival order) and keep theirs.
d="$SCRATCH/arrivals"; mkdir -p "$d"
"$FETCHBENCH" --tasks 100 --rate 50 --mode nolock --delay-ms 20000 --quiet --output "$d/r.json" &
pid=$!
i=0
until [ -n "$(children_of $pid 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -lt 400 ] || fail "no server child"; sleep 0.05
done
sleep 0.8
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "exit code, arrivals cut short" "$rc" 130
validate "$d/r.json"
expect_eq "every planned task listed" "$(rv "$d/r.json" '[.tasks | to_entries[] | select(.key == .value.id)] | length')" 100
arrived=$(rv "$d/r.json" '[.tasks[] | select(.spans != [])] | length')
# 50 a second for ~0.8 s: about 40 (not 100: the run was cut short).
[ "$arrived" -ge 1 ] && [ "$arrived" -le 90 ] || fail "$arrived of 100 tasks arrived in about 0.8 s"
expect_eq "the arrived ones first" "$(rv "$d/r.json" '[.tasks[] | .spans != []] | . == sort_by(not)')" true
expect_eq "never arrived: cancelled at the end, without spans" \
    "$(rv "$d/r.json" '.summary.wall_us as $w | [.tasks[] | select(.spans == [])
        | select(.outcome == "cancelled" and .start_us == $w and .end_us == $w and (has("error") | not))] | length')" \
    $((100 - arrived))
expect_eq "arrived: cancelled in flight" \
    "$(rv "$d/r.json" '[.tasks[] | select(.spans != [] and .outcome == "cancelled")] | length')" "$arrived"

# A terminal's ^C: SIGINT to the whole process group, the embedded server
# child included. It must not die of it: the parent still reads its counts.
d="$SCRATCH/group"; mkdir -p "$d"
setsid "$FETCHBENCH" --tasks 10 --mode nolock --delay-ms 20000 --quiet --output "$d/r.json" &
leader=$!
i=0
until [ -n "$(children_of $leader 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "no server child"; sleep 0.05
done
sleep 1
kill -INT -$leader
set +e; wait $leader; rc=$?; set -e
expect_eq "exit code after the group's SIGINT" "$rc" 130
validate "$d/r.json"
expect_eq "interrupted" "$(jqv "$d/r.json" .interrupted)" true
expect_eq "all cancelled" "$(rv "$d/r.json" '[.tasks[] | select(.outcome == "cancelled")] | length')" 10
expect_eq "the server's counts kept" "$(rv "$d/r.json" .summary.server_requests)" 10
expect_eq "the server saw them in service" "$(rv "$d/r.json" .server.max_in_service)" 10
[ -z "$(children_of $leader 2>/dev/null)" ] || fail "left a child behind"

# A signal at any moment: a sweep from the first instant to near the end,
# across start-up, the server's start, three runs and the gaps between them.
# The runs take at least 0.6 s, so every signal lands in the process's life;
# the clock starts when the handler is installed, the first thing main does.
# Every time: exit 130, a valid report marked interrupted, no temporary.
d="$SCRATCH/sweep"; mkdir -p "$d"
for at in 0 0.001 0.002 0.004 0.007 0.01 0.015 0.02 0.03 0.04 0.05 0.07 0.1 0.13 0.16 0.19 \
          0.21 0.23 0.26 0.3 0.35 0.4 0.41 0.43 0.46 0.5 0.55; do
    rm -f "$d/r.json" "$d/t.json"
    "$FETCHBENCH" --tasks 5 --delay-ms 200 --repeat 3 --quiet --output "$d/r.json" --trace "$d/t.json" &
    pid=$!
    await_start $pid
    sleep "$at"
    kill -INT $pid
    set +e; wait $pid; rc=$?; set -e
    expect_eq "exit code, SIGINT at $at s" "$rc" 130
    [ -f "$d/r.json" ] || fail "no report, SIGINT at $at s"
    validate "$d/r.json"
    expect_eq "interrupted, SIGINT at $at s" "$(jqv "$d/r.json" .interrupted)" true
    # Every run done so far and the one cut short (if the signal came
    # during a run: then it is the last), each listing all 5 planned tasks.
    runs=$(jqv "$d/r.json" '.runs | length')
    [ "$runs" -ge 1 ] && [ "$runs" -le 3 ] || fail "runs: $runs at $at s"
    expect_eq "tasks per run, SIGINT at $at s" "$(jqv "$d/r.json" '[.runs[].tasks | length] | unique | tostring')" '[5]'
    expect_eq "runs cut short before the last, SIGINT at $at s" \
        "$(jqv "$d/r.json" '[.runs[:-1][] | select(.interrupted)] | length')" 0
    jq -e . "$d/t.json" > /dev/null || fail "trace after SIGINT at $at s is not JSON"
    no_temporaries "$d"
done

# A second SIGINT ends the process at once, even when the shell started us
# with SIGINT ignored (as `sh -c 'cmd &'` does) and even while the report is
# blocked on a reader that does not read. The first SIGINT only marks it.
d="$SCRATCH/twice"; mkdir -p "$d"
mkfifo "$d/pipe"
sh -c 'trap "" INT; exec "$0" --tasks 100000 --delay-ms 0 --quiet --trace "$1/t.json" > "$1/pipe"' \
    "$FETCHBENCH" "$d" &
pid=$!
exec 7<"$d/pipe"          # a reader that never reads: the report blocks
i=0
while [ "$(head -c 1 <&7 | wc -c)" -eq 0 ]; do
    i=$((i + 1)); [ $i -lt 400 ] || fail "no report started"; sleep 0.05
done
sleep 0.5
kill -INT $pid
sleep 0.5
kill -0 $pid 2>/dev/null || fail "the first SIGINT ended the process: it must write the report"
kill -INT $pid
t0=$(date +%s%N)
set +e; wait $pid; rc=$?; set -e
ms=$(ms_since "$t0")
exec 7<&-
expect_eq "exit code after the second SIGINT" "$rc" 130
[ "$ms" -lt 2000 ] || fail "the second SIGINT took $ms ms"
[ ! -e "$d/t.json" ] || fail "the trace was written although the process was killed"
left=$(ls -A "$d" | grep -v -x pipe || true)
[ -z "$left" ] || fail "temporary files left after the second SIGINT: $left"

# Interrupted while most fetches still wait for a connection slot: those show
# only their wait, the admitted ones how far libcurl got.
(
    ulimit -n 200
    "$FETCHBENCH" --tasks 500 --mode nolock --delay-ms 20000 --quiet --output "$SCRATCH/slots.json" 2>/dev/null &
    pid=$!
    sleep 0.6
    kill -INT $pid
    set +e; wait $pid; rc=$?; set -e
    expect_eq "exit code" "$rc" 130
)
validate "$SCRATCH/slots.json"
waiting=$(rv "$SCRATCH/slots.json" '[.tasks[] | select(.spans[-1][0] == "queued")] | length')
admitted=$(rv "$SCRATCH/slots.json" '[.tasks[] | select(.spans[-1][0] | IN("dns", "connect", "request", "server_queue", "in_service"))] | length')
[ "$waiting" -gt 0 ] || fail "no fetch shown waiting for a slot"
[ "$admitted" -gt 0 ] || fail "no fetch shown in libcurl's hands"
expect_eq "every task is one or the other" "$((waiting + admitted))" 500
