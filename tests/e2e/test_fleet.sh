#!/bin/sh
# --processes P: P client processes against one server the parent started,
# one report. A lock in one process protects one process: P requests with
# the in-process lock, P x N without; every process's runs and tasks are
# there, each tagged with its client; a group's ^C reaches every client and
# each still hands its run back; a client killed outright costs its run only.
. "$(dirname "$0")/lib.sh"

# The fleet contrast: the server's own count says 4 (lock), 80 (nolock).
fb --processes 4 --tasks 20 --mode lock,nolock --delay-ms 200 --quiet > "$SCRATCH/f.json"
validate "$SCRATCH/f.json" fetchbench/2
expect_eq "runs: 4 clients per mode" "$(jqv "$SCRATCH/f.json" '[.runs[] | "\(.mode):\(.client)"] | join(",")')" \
    "lock:0,lock:1,lock:2,lock:3,nolock:0,nolock:1,nolock:2,nolock:3"
expect_eq "lock: 80 tasks" "$(jqv "$SCRATCH/f.json" '[.runs[] | select(.mode == "lock") | .tasks[]] | length')" 80
expect_eq "every task names its run's client" \
    "$(jqv "$SCRATCH/f.json" '[.runs[] | .client as $c | .tasks[] | select(.client != $c)] | length')" 0
expect_eq "lock: the server saw one per process" "$(jqv "$SCRATCH/f.json" '.fleet.groups[0].summary.server_requests')" 4
expect_eq "lock: the fleet's upstream requests" "$(jqv "$SCRATCH/f.json" '.fleet.groups[0].summary.upstream_requests')" 4
expect_eq "lock: per client" "$(jqv "$SCRATCH/f.json" '[.fleet.groups[0].per_client[].upstream_requests] | join(",")')" "1,1,1,1"
# The waiters' latency over the fleet, from the tasks that say waiter.
expect_eq "lock: the fleet's waiters" "$(jqv "$SCRATCH/f.json" '.fleet.groups[0].summary.waiters')" 76
expect_eq "lock: the fleet's slowest waiter is its clients' slowest" \
    "$(jqv "$SCRATCH/f.json" '.fleet.groups[0].summary.waiter_latency_us.max')" \
    "$(jqv "$SCRATCH/f.json" '[.runs[] | select(.mode == "lock") | .summary.waiter_latency_us.max] | max')"
expect_eq "nolock: no waiters, no waiters' latency" \
    "$(jqv "$SCRATCH/f.json" '[.fleet.groups[1].summary | .waiters, .waiter_latency_us] | join(",")')" "0,"
expect_eq "nolock: the server saw every task" "$(jqv "$SCRATCH/f.json" '.fleet.groups[1].summary.server_requests')" 80
expect_eq "nolock: upstream" "$(jqv "$SCRATCH/f.json" '.fleet.groups[1].summary.upstream_requests')" 80
expect_eq "the fleet's tasks" "$(jqv "$SCRATCH/f.json" '[.fleet.groups[].summary.tasks] | join(",")')" "80,80"
expect_eq "config.processes" "$(jqv "$SCRATCH/f.json" .config.processes)" 4

# --expect judges the fleet's aggregate, not one client's run.
expect_exit 0 fb --processes 4 --tasks 20 --delay-ms 100 --quiet --expect upstream_requests==4 \
    --expect server_requests==4 -o "$SCRATCH/e.json"
validate "$SCRATCH/e.json"
expect_exit 3 fb --processes 4 --tasks 20 --delay-ms 100 --quiet --expect upstream_requests==1 -o "$SCRATCH/e1.json"

# Process p draws its workload with seed + p: client 0 plays the
# single-process plan, the others their own.
fb --processes 2 --tasks 20 --keys 5 --rate 500 --seed 7 --delay-ms 100 --quiet > "$SCRATCH/s.json"
validate "$SCRATCH/s.json"
fb --tasks 20 --keys 5 --rate 500 --seed 7 --delay-ms 100 --quiet > "$SCRATCH/s7.json"
fb --tasks 20 --keys 5 --rate 500 --seed 8 --delay-ms 100 --quiet > "$SCRATCH/s8.json"
plan='[.runs[0].tasks[] | [.key, .arrival_us]]'
expect_eq "client 0 plays seed 7" "$(jq -c '[.runs[0].tasks[] | [.key, .arrival_us]]' "$SCRATCH/s.json")" \
    "$(jq -c "$plan" "$SCRATCH/s7.json")"
expect_eq "client 1 plays seed 8" "$(jq -c '[.runs[1].tasks[] | [.key, .arrival_us]]' "$SCRATCH/s.json")" \
    "$(jq -c "$plan" "$SCRATCH/s8.json")"

# --processes 1 is the report of no --processes: the same keys, no fleet.
fb --processes 1 --tasks 5 --delay-ms 100 --quiet > "$SCRATCH/p1.json"
fb --tasks 5 --delay-ms 100 --quiet > "$SCRATCH/p0.json"
validate "$SCRATCH/p1.json"
keys='[paths | map(if type == "number" then 0 else . end) | join(".")] | unique'
expect_eq "--processes 1: the same keys" "$(jq -c "$keys" "$SCRATCH/p1.json")" "$(jq -c "$keys" "$SCRATCH/p0.json")"
expect_eq "--processes 1: no fleet" "$(jqv "$SCRATCH/p1.json" 'has("fleet")')" false

# Bad values: one line, exit 2.
expect_exit 2 fb --processes 0
expect_exit 2 fb --processes 65
expect_exit 2 fb --run-id 'a b'
expect_exit 2 fb --processes 2 --trace "$SCRATCH/t.json"

# A terminal's ^C to the process group: every client hands back its run,
# cut short; the report is whole and interrupted, exit 130.
d="$SCRATCH/group"; mkdir -p "$d"
# setsid forks when its caller leads a group: the pid comes from the shell
# that becomes fetchbench.
setsid sh -c 'echo $$ > "$1/pid"; shift; exec "$@"' sh "$d" $TEST_PREFIX "$FETCHBENCH" --processes 3 --tasks 10 \
    --mode lock,nolock --delay-ms 20000 --quiet -o "$d/r.json" &
waiter=$!
i=0
until [ -s "$d/pid" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "fetchbench did not start"; sleep 0.05
done
leader=$(cat "$d/pid")
i=0
until [ "$(children_of $leader 2>/dev/null | wc -l)" -ge 4 ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the clients did not start"; sleep 0.05
done
sleep 0.5
kill -INT -$leader
set +e; wait $waiter; rc=$?; set -e
expect_eq "exit code after the group's SIGINT" "$rc" 130
validate "$d/r.json"
expect_eq "interrupted" "$(jqv "$d/r.json" .interrupted)" true
expect_eq "every client's run, interrupted" \
    "$(jqv "$d/r.json" '[.runs[] | "\(.client):\(.interrupted)"] | join(",")')" "0:true,1:true,2:true"
expect_eq "nothing lost" "$(jqv "$d/r.json" .fleet.lost_clients)" 0

# SIGINT to the parent alone (kill, not a terminal): it passes the signal
# on to its clients, which still hand their runs back.
d="$SCRATCH/parent"; mkdir -p "$d"
$TEST_PREFIX "$FETCHBENCH" --processes 2 --tasks 10 --delay-ms 20000 --quiet -o "$d/r.json" &
pid=$!
i=0
until [ "$(children_of $pid 2>/dev/null | wc -l)" -ge 3 ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the clients did not start"; sleep 0.05
done
sleep 0.5
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "exit code after the parent's SIGINT" "$rc" 130
validate "$d/r.json"
expect_eq "both clients' runs, interrupted" \
    "$(jqv "$d/r.json" '[.runs[] | "\(.client):\(.interrupted)"] | join(",")')" "0:true,1:true"

# A client killed outright: the others' runs, said on stderr and in the
# report, exit 1; no later round starts.
d="$SCRATCH/kill"; mkdir -p "$d"
$TEST_PREFIX "$FETCHBENCH" --processes 3 --tasks 10 --mode lock,nolock --delay-ms 3000 --quiet -o "$d/r.json" 2> "$d/err" &
pid=$!
i=0
until [ "$(children_of $pid 2>/dev/null | wc -l)" -ge 4 ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the clients did not start"; sleep 0.05
done
sleep 0.3
# The newest child is the last client forked (the server came first).
victim=$(children_of $pid | sort -n | tail -1)
kill -KILL "$victim"
set +e; wait $pid; rc=$?; set -e
expect_eq "exit code with a client lost" "$rc" 1
validate "$d/r.json"
expect_eq "the others' runs" "$(jqv "$d/r.json" '[.runs[] | "\(.mode):\(.client)"] | join(",")')" "lock:0,lock:1"
expect_eq "the lost client named" "$(jqv "$d/r.json" '.fleet.groups[0].lost | join(",")')" 2
expect_eq "lost_clients" "$(jqv "$d/r.json" .fleet.lost_clients)" 1
grep -q "client 2 (pid $victim) died by signal 9" "$d/err" || fail "stderr does not name the lost client: $(cat "$d/err")"
# plot-fleet: the requests the backend saw against the processes, a line per
# mode, from a fleet report and a single-process one (P = 1).
fb --tasks 20 --mode lock,nolock --delay-ms 100 --quiet > "$SCRATCH/one.json"
PY=/usr/bin/python3
$PY "$FB_ROOT/scripts/plot-fleet" "$SCRATCH/one.json" "$SCRATCH/f.json" -o "$SCRATCH/fleet.svg" \
    || fail "plot-fleet failed"
grep -q '>requests the backend saw<' "$SCRATCH/fleet.svg" || fail "fleet.svg: no requests panel"
for m in 'lock (mem)' 'nolock (mem)'; do
    grep -q ">$m<" "$SCRATCH/fleet.svg" || fail "fleet.svg: no line for $m"
done
echo '{"not": "a report"}' > "$SCRATCH/bad.json"
expect_exit 2 $PY "$FB_ROOT/scripts/plot-fleet" "$SCRATCH/bad.json" -o "$SCRATCH/bad.svg"
[ ! -e "$SCRATCH/bad.svg" ] || fail "plot-fleet left a file for a bad report"
echo "test_fleet: ok"
