#!/bin/sh
# Redis faults that leave the connection open and silent, or die with a full
# pipeline window: a client cut off from Redis by a network partition (its
# own network namespace, the link taken down: packets dropped, no reset), a
# Redis stopped (SIGSTOP) with thousands of commands out and more queued
# inside fetchbench, and a Redis killed with the window full. TCP says
# nothing in the first two; only the store's watchdog (a second with
# commands out and no reply) can notice. In all three every task still ends
# with an outcome (fetched without the store), store_errors counts the
# failures, and the run ends in seconds instead of hanging.
. "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/setup)"

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# CLOCK_MONOTONIC in µs: the clock of the report's start_monotonic_us.
mono_us() { /usr/bin/python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)'; }
now_s() { date +%s; }

# start_redis [EXTRA_BIND]: a redis-server of the test's own on 127.0.0.1
# (and EXTRA_BIND); sets RPORT, RPID, RURL. Resumed before it is killed: a
# stopped process dies of SIGKILL anyway, but a test failing between STOP
# and CONT must not leave one behind.
start_redis() {
    RPORT=$(free_port)
    rdir=$SCRATCH/redis-$RPORT
    mkdir -p "$rdir"
    redis-server --port "$RPORT" --bind "127.0.0.1${1:+ $1}" --protected-mode no --save '' --appendonly no \
        --dir "$rdir" --logfile "$rdir/log" --daemonize no &
    RPID=$!
    cleanup_hooks="$cleanup_hooks kill -CONT $RPID 2>/dev/null || true; kill -9 $RPID 2>/dev/null || true;"
    i=0
    until redis-cli -p "$RPORT" PING 2>/dev/null | grep -q PONG; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "redis-server did not start: $(cat "$rdir/log")"; sleep 0.05
    done
    RURL="redis://127.0.0.1:$RPORT"
}
rcli() { redis-cli -p "$RPORT" "$@"; }
outcomes() { jqv "$1" '[.runs[0].tasks[].outcome] | group_by(.) | map("\(.[0])=\(length)") | join(",")'; }
# calls NAME: how many NAME commands Redis ran since the last CONFIG RESETSTAT.
calls() { rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\).*/\1/p"; }

# 1. A network partition. The client runs in a network namespace of its own,
# joined to the host by a veth pair; Redis listens on the host end. Taking
# the host end down drops every packet both ways without a reset (there is
# no firewall tool on a bare Debian to do it otherwise): the client's TCP
# retransmits into the void and hears nothing for minutes. rlock, 20 tasks
# on one key, a 1.5 s fetch: the holder fetches, the 19 waiters re-check
# the lock every 100-200 ms; the link is cut while they wait.
partition() {
    ns=fbp$$ host_if=fbh$$ ns_if=fbn$$
    if ! ip netns add "$ns" 2>/dev/null; then
        echo "SKIP: network namespaces not allowed here" >&2
        return 0
    fi
    cleanup_hooks="$cleanup_hooks ip netns del $ns 2>/dev/null || true; ip link del $host_if 2>/dev/null || true;"
    # A /30 of 10.213.0.0/16 no interface of this machine uses.
    x=$(( $$ % 250 ))
    while ip -4 addr | grep -q "inet 10\.213\.$x\."; do x=$(( (x + 1) % 250 )); done
    host_ip=10.213.$x.1
    ip link add "$host_if" type veth peer name "$ns_if"
    ip link set "$ns_if" netns "$ns"
    ip addr add "$host_ip/30" dev "$host_if"
    ip link set "$host_if" up
    ip netns exec "$ns" ip addr add "10.213.$x.2/30" dev "$ns_if"
    ip netns exec "$ns" ip link set "$ns_if" up
    # The embedded delay server (a child of the client) listens inside, on lo.
    ip netns exec "$ns" ip link set lo up
    start_redis "$host_ip"
    ip netns exec "$ns" redis-cli -h "$host_ip" -p "$RPORT" PING | grep -q PONG \
        || fail "partition: Redis unreachable from the namespace before the cut"

    # timeout bounds a hang (a broken watchdog) and kills the client with it.
    timeout 60 ip netns exec "$ns" $TEST_PREFIX "$FETCHBENCH" --run-id part-$$ --mode rlock --tasks 20 --keys 1 \
        --delay-ms 1500 --store "redis://$host_ip:$RPORT" --quiet > "$SCRATCH/part.json" 2> "$SCRATCH/part.err" &
    run=$!
    cleanup_hooks="$cleanup_hooks kill $run 2>/dev/null || true;"
    # Cut only once the holder has the lock: the waiters are then waiting.
    i=0
    until [ -n "$(rcli --scan --pattern "fb:part-$$:*:lock:*")" ]; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "partition: the holder never took the lock: $(cat "$SCRATCH/part.err")"
        sleep 0.05
    done
    sleep 0.2
    cut_us=$(mono_us)
    ip link set "$host_if" down
    cut_s=$(now_s)
    set +e
    wait "$run"
    rc=$?
    set -e
    expect_eq "partition: exit (every task succeeded)" "$rc" 0
    [ $(( $(now_s) - cut_s )) -lt 30 ] || fail "partition: the run took more than 30 s after the cut"
    validate "$SCRATCH/part.json"
    j=$SCRATCH/part.json
    expect_eq "partition: no task left without an outcome" "$(jqv "$j" '.runs[0].summary.outcomes.cancelled')" 0
    # Documented (docs/strategies.md, Faults): a lock that fails is fetched
    # without the lock. The holder fetched under its lock before the cut;
    # its store and unlock fail afterwards, but its fetch did not.
    expect_eq "partition: outcomes" "$(outcomes "$j")" "fetched=20"
    expect_eq "partition: the waiters' locks failed" "$(jqv "$j" '.runs[0].summary.counters.store_errors')" 19
    expect_eq "partition: the backend saw" "$(jqv "$j" '.runs[0].summary.upstream_requests')" 20
    # Who noticed: a waiter's lock_wait ends at its lock's error. Not TCP
    # (minutes of retransmissions): the watchdog, after a second of silence.
    first=$(jqv "$j" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "lock_held") | not)
        | .spans[] | select(.[0] == "lock_wait") | .[2]] | min')
    start=$(jqv "$j" '.runs[0].start_monotonic_us')
    stall_ms=$(( (start + first - cut_us) / 1000 ))
    echo "measure: partition: cut to the first store error: $stall_ms ms"
    [ "$stall_ms" -ge 900 ] || fail "partition: a store error $stall_ms ms after the cut: before the watchdog's second"
    [ "$stall_ms" -lt 10000 ] || fail "partition: $stall_ms ms from the cut to the first store error"
    ip link del "$host_if" # both ends: the pair goes at once, not when the namespace is reaped
    ip netns del "$ns"
    kill -9 "$RPID"
}
partition

# stalled_run NAME: an rlock run of 12000 hits arriving at 8000/s (1.5 s of
# arrivals) on a key filled first under the same run id, in the background
# (RUN: its pid); returns once Redis has answered its first GETs. Arrivals
# spread over 1.5 s make the timing deterministic without a tight sleep:
# whenever Redis stops after the run's first GETs, arrivals keep coming, and
# each second of silence puts thousands of GETs behind it, more than the
# 2048-command window, so the rest queue inside fetchbench.
stalled_run() {
    fb --run-id "$1-$$" --mode rlock --tasks 1 --keys 1 --delay-ms 100 --store "$RURL" --quiet > /dev/null
    rcli CONFIG RESETSTAT > /dev/null
    timeout 60 $TEST_PREFIX "$FETCHBENCH" --run-id "$1-$$" --mode rlock --tasks 12000 --rate 8000 --keys 1 \
        --delay-ms 100 --store "$RURL" --quiet > "$SCRATCH/$1.json" 2> "$SCRATCH/$1.err" &
    RUN=$!
    cleanup_hooks="$cleanup_hooks kill $RUN 2>/dev/null || true;"
    i=0
    until [ "$(calls get)" -gt 20 ] 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 1000 ] || fail "$1: the run sent no GET: $(cat "$SCRATCH/$1.err")"
        sleep 0.01
    done
}

# check_stalled NAME RC: the run ended on its own, every task with an outcome,
# more GETs stuck than the window holds.
check_stalled() {
    j=$SCRATCH/$1.json
    expect_eq "$1: exit (every task succeeded)" "$2" 0
    validate "$j"
    expect_eq "$1: tasks" "$(jqv "$j" '.runs[0].tasks | length')" 12000
    expect_eq "$1: no task left without an outcome" "$(jqv "$j" '.runs[0].summary.outcomes.cancelled')" 0
    expect_eq "$1: every task fetched or hit" "$(jqv "$j" '[.runs[0].summary.outcomes | .fetched, .cache_hit] | add')" 12000
    expect_eq "$1: fetched without the store" "$(jqv "$j" '.runs[0].summary.counters.store_errors > 0')" true
    # A GET that waited on the stopped Redis shows as a long cache check
    # (a hit's is µs): more of them than the window, so some were queued.
    stuck=$(jqv "$j" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "cache_check" and .[2] - .[1] > 50000))] | length')
    echo "measure: $1: $stuck GETs waited on the silent Redis"
    [ "$stuck" -gt 2048 ] || fail "$1: only $stuck GETs were stuck: the window never filled"
}

# 2. Redis stops (SIGSTOP): the connection stays open, nothing answers. The
# watchdog gives it up after a second of silence; the GETs on the wire and
# the ones queued behind the window all fail, their tasks fetch without the
# store. Bounded far above the watchdog's second, far below the hang the
# watchdog prevents (timeout's 60 s).
start_redis
stalled_run stopped
kill -STOP "$RPID"
stop_s=$(now_s)
set +e
wait "$RUN"
rc=$?
set -e
took=$(( $(now_s) - stop_s ))
kill -CONT "$RPID"
[ "$took" -lt 30 ] || fail "stopped: the run took $took s after Redis stopped"
check_stalled stopped "$rc"
# Nothing answered, so each stuck GET waited out the watchdog's second.
expect_eq "stopped: the stuck GETs waited for the watchdog" \
    "$(jqv "$SCRATCH/stopped.json" '[.runs[0].tasks[].spans[] | select(.[0] == "cache_check") | .[2] - .[1]] | max >= 900000')" true

# 3. Redis killed with the window full: stopped first, so the GETs pile up
# (on the wire and queued), then SIGKILL before the watchdog's second. The
# connection closes; hiredis answers what it holds with NULL, and the
# queued commands, which hiredis never saw, must be answered too: the first
# NULL answer pumps the queue into a context that refuses new commands, and
# pump() answers each refused one with NULL itself.
stalled_run killed
kill -STOP "$RPID"
sleep 0.6
kill -9 "$RPID"
set +e
wait "$RUN"
rc=$?
set -e
check_stalled killed "$rc"

echo "test_redis_faults: ok"
