# SIGINT / SIGTERM mid-run: stop within a second, write valid JSON that says
# it was interrupted, exit 130 / 143.
. "$FB_ROOT/tests/e2e/lib.sh"

interrupt() { # SIGNAL EXPECTED_EXIT MODE
    "$FETCHBENCH" --tasks 10 --mode "$3" --delay-ms 20000 --quiet --output "$SCRATCH/$1.json" \
        --trace "$SCRATCH/$1.trace.json" &
    pid=$!
    sleep 0.5
    kill -"$1" $pid
    t0=$(date +%s%N)
    set +e; wait $pid; rc=$?; set -e
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    expect_eq "exit code after SIG$1" "$rc" "$2"
    [ "$ms" -lt 1000 ] || fail "took $ms ms to stop after SIG$1"
    validate "$SCRATCH/$1.json"
    expect_eq "interrupted" "$(jqv "$SCRATCH/$1.json" .interrupted)" true
    expect_eq "all cancelled" "$(jqv "$SCRATCH/$1.json" '[.tasks[] | select(.outcome == "cancelled")] | length')" 10
    jq -e . "$SCRATCH/$1.trace.json" > /dev/null || fail "trace after SIG$1 is not JSON"
    [ -z "$(children_of $pid 2>/dev/null)" ] || fail "left a child behind"
}
interrupt INT 130 nolock
interrupt TERM 143 lock

# The lock holder's fetch was in flight: its record says how far it got.
expect_eq "holder was fetching" \
    "$(jqv "$SCRATCH/TERM.json" '[.tasks[0].spans[] | select(.state == "request")] | length')" 1

# A second SIGINT ends the process at once (default disposition).
"$FETCHBENCH" --tasks 10 --delay-ms 20000 --quiet > /dev/null &
pid=$!
sleep 0.5
kill -INT $pid; kill -INT $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "exit code after two SIGINTs" "$rc" 130

# Interrupted while most fetches still wait for a connection slot: those show
# only their wait, the admitted ones how far libcurl got.
(
    ulimit -n 200
    "$FETCHBENCH" --tasks 500 --mode nolock --delay-ms 20000 --quiet --output "$SCRATCH/slots.json" &
    pid=$!
    sleep 0.6
    kill -INT $pid
    set +e; wait $pid; rc=$?; set -e
    expect_eq "exit code" "$rc" 130
)
validate "$SCRATCH/slots.json"
waiting=$(jqv "$SCRATCH/slots.json" '[.tasks[] | select(.spans[-1].state == "queued")] | length')
admitted=$(jqv "$SCRATCH/slots.json" '[.tasks[] | select(.spans[-1].state | IN("dns", "connect", "request"))] | length')
[ "$waiting" -gt 0 ] || fail "no fetch shown waiting for a slot"
[ "$admitted" -gt 0 ] || fail "no fetch shown in libcurl's hands"
expect_eq "every task is one or the other" "$((waiting + admitted))" 500
