#!/bin/sh
# --store redis: the cache and its locks in a real redis-server on loopback
# (the embedded one, or one this test starts in the scratch directory, in
# the foreground, without persistence, stopped on exit). Every strategy
# gives the same upstream counts as on the in-process store; rlock and
# rsingleflight coordinate separate invocations through it; a Redis down at
# start, killed mid-run, or a lock holder killed never hangs a run.
. "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/setup)"

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis: a redis-server of the test's own; sets RPORT, RPID, RURL.
start_redis() {
    RPORT=$(free_port)
    mkdir -p "$SCRATCH/redis"
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$SCRATCH/redis" \
        --logfile "$SCRATCH/redis/log" --daemonize no &
    RPID=$!
    cleanup_hooks="$cleanup_hooks kill -9 $RPID 2>/dev/null || true;"
    i=0
    until redis-cli -p "$RPORT" PING 2>/dev/null | grep -q PONG; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "redis-server did not start: $(cat "$SCRATCH/redis/log")"; sleep 0.05
    done
    RURL="redis://127.0.0.1:$RPORT"
}
rcli() { redis-cli -p "$RPORT" "$@"; }
outcomes() { jqv "$1" '[.runs[0].tasks[].outcome] | group_by(.) | map("\(.[0])=\(length)") | join(",")'; }

# 1. Every strategy: the same upstream requests on the embedded Redis as in
# process, for 20 tasks on one key.
for m in nolock lock keylock singleflight stale lease xfetch rlock rsingleflight; do
    fb --mode "$m" --tasks 20 --keys 1 --delay-ms 150 --quiet > "$SCRATCH/mem-$m.json"
    fb --mode "$m" --tasks 20 --keys 1 --delay-ms 150 --store redis --quiet > "$SCRATCH/redis-$m.json"
    validate "$SCRATCH/redis-$m.json"
    expect_eq "$m: upstream on redis as on mem" "$(jqv "$SCRATCH/redis-$m.json" '.runs[0].summary.upstream_requests')" \
        "$(jqv "$SCRATCH/mem-$m.json" '.runs[0].summary.upstream_requests')"
done
for m in lock keylock singleflight rlock rsingleflight; do
    expect_eq "$m on redis: one fetch" "$(jqv "$SCRATCH/redis-$m.json" '.runs[0].summary.upstream_requests')" 1
done
expect_eq "nolock on redis: a stampede" "$(jqv "$SCRATCH/redis-nolock.json" '.runs[0].summary.upstream_requests')" 20
# The embedded redis-server is gone with the run.
pgrep -x redis-server -P $$ >/dev/null && fail "an embedded redis-server outlived its run"

# 2. An address: keys under the run's prefix; rlock and rsingleflight.
start_redis
fb --mode rlock --tasks 20 --keys 1 --delay-ms 150 --store "$RURL" --quiet > "$SCRATCH/rlock.json"
validate "$SCRATCH/rlock.json"
expect_eq "rlock: outcomes" "$(outcomes "$SCRATCH/rlock.json")" "cache_hit=19,fetched=1"
expect_eq "rlock: the waiters were woken by the release" \
    "$(jqv "$SCRATCH/rlock.json" '.runs[0].summary.counters.woken_by_notification > 0')" true
# No thundering herd: a release wakes one waiter of the lock per process,
# not all of them. Each task tries once on arrival and once on its turn
# (a re-check or two of the first waiter aside): about 2 per task, where
# waking every waiter on each release costs about n^2/2 (229 for 20).
attempts=$(jqv "$SCRATCH/rlock.json" '.runs[0].summary.counters.lock_attempts')
[ "$attempts" -le 60 ] || fail "rlock: $attempts lock attempts for 20 tasks: a release woke every waiter"
# Per task: each of the 20 asked the lock (all missed at once) and carries
# its record; validate checked that the counters are their sums. The lock
# of another strategy (keylock: one per process) carries none.
expect_eq "rlock: tasks with a lock record" "$(jqv "$SCRATCH/rlock.json" '[.runs[0].tasks[] | select(.lock)] | length')" 20
expect_eq "rlock: one took it at once, the others on their turn" \
    "$(jqv "$SCRATCH/rlock.json" '[.runs[0].tasks[].lock.woken_by] | group_by(.) | map("\(.[0])=\(length)") | join(",")')" \
    "at_once=1,notification=19"
expect_eq "keylock on redis: no lock records" "$(jqv "$SCRATCH/redis-keylock.json" '[.runs[0].tasks[] | select(.lock)] | length')" 0
# A lease shorter than the fetch runs out under its live holder: the next
# waiter takes the lock on a re-check and fetches too; each unlock finds its
# lease gone, and each task says so.
fb --mode rlock --tasks 3 --keys 1 --delay-ms 300 --lease-ms 50 --store "$RURL" --quiet > "$SCRATCH/short.json"
validate "$SCRATCH/short.json"
expect_eq "short lease: every holder lost its lease" \
    "$(jqv "$SCRATCH/short.json" '[.runs[0].tasks[] | .lock.lease_expired] | all')" true
expect_eq "short lease: the later ones got it on a re-check" \
    "$(jqv "$SCRATCH/short.json" '[.runs[0].tasks[1:][] | .lock.woken_by] | unique | join(",")')" recheck
rcli --scan > "$SCRATCH/keys"
grep -q '^fb:[^:]*:r0:[a-z]*:k:0$' "$SCRATCH/keys" || fail "no value under fb:<run-id>:r0:<mode>:k:0: $(cat "$SCRATCH/keys")"
grep -v '^fb:' "$SCRATCH/keys" && fail "a key without the run prefix"
fb --mode rsingleflight --tasks 20 --keys 1 --delay-ms 150 --store "$RURL/0" --quiet > "$SCRATCH/rsf.json"
validate "$SCRATCH/rsf.json"
expect_eq "rsingleflight: outcomes" "$(outcomes "$SCRATCH/rsf.json")" "fetched=1,shared=19"
# A failed fetch is shared, not retried by each waiter.
fb --mode rsingleflight --tasks 20 --keys 1 --delay-ms 150 --fail-rate 1 --store "$RURL" --quiet \
    > "$SCRATCH/rsf-err.json" || true
validate "$SCRATCH/rsf-err.json"
expect_eq "rsingleflight: one failed fetch, shared" "$(outcomes "$SCRATCH/rsf-err.json")" "error=1,shared_error=19"
# Waiters take the result together, not the lock in turn: counted on this
# server, 200 tasks on one key cost about 2 commands each (a GET on arrival,
# a GET when the release is heard) and one SET NX for the process's whole
# burst of misses (its tries share it). Taking the lock in turn cost about 8
# a task (SET NX, GET, an unlock and its PUBLISH and DEL each) and 2 SETs.
calls() { rcli INFO commandstats | sed -n "s/^cmdstat_$1:calls=\([0-9]*\).*/\1/p"; }
rcli CONFIG RESETSTAT > /dev/null
fb --mode rsingleflight --tasks 200 --keys 1 --delay-ms 200 --store "$RURL" --quiet > "$SCRATCH/rsf-200.json"
validate "$SCRATCH/rsf-200.json"
expect_eq "rsingleflight, 200 tasks: outcomes" "$(outcomes "$SCRATCH/rsf-200.json")" "fetched=1,shared=199"
total=$(rcli INFO commandstats | grep -v '^cmdstat_\(config\|info\)' | sed -n 's/.*:calls=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
sets=$(calls set)
[ "$sets" -le 4 ] || fail "rsingleflight: $sets SET calls for 200 tasks in one process: each waiter tried the lock"
[ "$total" -le 800 ] || fail "rsingleflight: $total Redis commands for 200 tasks (over 4 a task): the waiters took the lock in turn"
expect_eq "rsingleflight, 200 tasks: the waiters were woken by the release" \
    "$(jqv "$SCRATCH/rsf-200.json" '.runs[0].summary.counters.woken_by_notification + .runs[0].summary.counters.woken_by_recheck')" 199

# 3. Two invocations, one Redis, one backend, one run id: one request.
$TEST_PREFIX "$FETCHBENCH" serve --port 0 > "$SCRATCH/url" 2> "$SCRATCH/serve.err" &
serve=$!
cleanup_hooks="$cleanup_hooks kill $serve 2>/dev/null || true;"
i=0
until [ -s "$SCRATCH/url" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "fetchbench serve did not start"; sleep 0.05
done
base=$(head -1 "$SCRATCH/url")
stats() { curl -s "${base}stats" | jq .requests; }
before=$(stats)
for p in a b; do
    fb --run-id shared-$$ --mode rlock --tasks 20 --keys 1 --store "$RURL" --quiet \
        --url "${base}delay/400/url/{key}" > "$SCRATCH/two-$p.json" &
    eval "pid_$p=\$!"
done
wait "$pid_a" || fail "invocation a failed"
wait "$pid_b" || fail "invocation b failed"
expect_eq "two invocations: the backend saw" "$(( $(stats) - before ))" 1
expect_eq "two invocations: hits" "$(jq -s '[.[].runs[0].tasks[] | select(.outcome == "cache_hit")] | length' \
    "$SCRATCH/two-a.json" "$SCRATCH/two-b.json")" 39

# 4. Redis down at start: one line, exit 1, no report.
down=$(free_port)
set +e
fb --store "redis://127.0.0.1:$down" --tasks 2 --quiet -o "$SCRATCH/down.json" 2> "$SCRATCH/down.err"
rc=$?
set -e
expect_eq "redis down: exit" "$rc" 1
expect_eq "redis down: one line" "$(wc -l < "$SCRATCH/down.err")" 1
grep -q "cannot reach Redis" "$SCRATCH/down.err" || fail "redis down: $(cat "$SCRATCH/down.err")"
[ -e "$SCRATCH/down.json" ] && fail "redis down: a report was left"

# 5. A lock holder killed: its lease runs out and a waiter of another
# invocation takes over with one more request; nobody hangs.
# holder_killed MODE RUNID OUT: an invocation of MODE takes the lock and is
# SIGKILLed while a second one (5 tasks, OUT) waits for it.
holder_killed() {
    fb --run-id "$2" --mode "$1" --tasks 1 --keys 1 --lease-ms 1000 --store "$RURL" --quiet \
        --url "${base}delay/3000/url/{key}" > /dev/null 2>&1 &
    holder=$!
    i=0
    until lock=$(rcli --scan --pattern "fb:$2:*:lock:*") && [ -n "$lock" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "$1: the holder never took the lock"; sleep 0.05
    done
    token=$(rcli GET "$lock")
    expect_eq "$1: the lock's token names the holder's process" "$(ps -o comm= -p "${token%%:*}")" \
        "$(basename "$FETCHBENCH" | cut -c1-15)"
    fb --run-id "$2" --mode "$1" --tasks 5 --keys 1 --lease-ms 1000 --store "$RURL" --quiet \
        --url "${base}delay/100/url/{key}" > "$3" &
    taker=$!
    sleep 0.3
    kill -9 "${token%%:*}"
    wait "$holder" 2>/dev/null || true
    start=$(date +%s)
    wait "$taker" || fail "$1: the taker failed"
    [ $(( $(date +%s) - start )) -lt 10 ] || fail "$1: the taker hung"
    validate "$3"
}
before=$(stats)
holder_killed rlock holder-$$ "$SCRATCH/taker.json"
expect_eq "taker: outcomes" "$(outcomes "$SCRATCH/taker.json")" "cache_hit=4,fetched=1"
expect_eq "taker: waited past the lease" "$(jqv "$SCRATCH/taker.json" '.runs[0].summary.counters.woken_by_recheck >= 1')" true
expect_eq "taker: the task that took over says it re-checked" \
    "$(jqv "$SCRATCH/taker.json" '[.runs[0].tasks[] | select(.outcome == "fetched") | .lock.woken_by] | join(",")')" recheck
expect_eq "backend: the holder's request and one more" "$(( $(stats) - before ))" 2
# The same for rsingleflight: its watchers re-check past the lease, find
# nothing stored, try the lock again; one leads, the others share.
before=$(stats)
holder_killed rsingleflight rsfholder-$$ "$SCRATCH/rsf-taker.json"
expect_eq "rsingleflight taker: outcomes" "$(outcomes "$SCRATCH/rsf-taker.json")" "fetched=1,shared=4"
expect_eq "rsingleflight taker: tried again after the watch" \
    "$(jqv "$SCRATCH/rsf-taker.json" '[.runs[0].tasks[] | select(.outcome == "fetched") | .lock.attempts >= 2] | all')" true
expect_eq "rsingleflight backend: the holder's request and one more" "$(( $(stats) - before ))" 2

# 6. Redis killed mid-run: every task still ends with an outcome.
fb --mode rlock --tasks 60 --keys 6 --rate 60 --delay-ms 100 --store "$RURL" --quiet \
    > "$SCRATCH/killed.json" &
run=$!
sleep 0.4
kill -9 "$RPID"
wait "$run" || fail "the run failed when Redis died"
validate "$SCRATCH/killed.json"
expect_eq "redis killed: no task left without an outcome" \
    "$(jqv "$SCRATCH/killed.json" '[.runs[0].tasks[] | select(.outcome == "cancelled")] | length')" 0
expect_eq "redis killed: fetched without the store" \
    "$(jqv "$SCRATCH/killed.json" '.runs[0].summary.counters.store_errors > 0')" true

# 6b. The in-process strategies on a Redis that dies while 19 tasks wait for
# the first one's lock: the store cannot give the lock, so each goes on
# without it (fetches) — no hand-off counted, no lock drawn as held.
start_redis
fb --mode lock --tasks 20 --keys 1 --delay-ms 1500 --store "$RURL" --quiet > "$SCRATCH/lock-killed.json" &
run=$!
sleep 0.5
kill -9 "$RPID"
wait "$run" || fail "the lock run failed when Redis died"
validate "$SCRATCH/lock-killed.json"
expect_eq "lock, redis killed: no hand-off without the lock" \
    "$(jqv "$SCRATCH/lock-killed.json" '.runs[0].summary.counters.lock_handoffs')" 0
expect_eq "lock, redis killed: only the first task held the lock" \
    "$(jqv "$SCRATCH/lock-killed.json" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "lock_held"))] | length')" 1
expect_eq "lock, redis killed: every task ended" \
    "$(jqv "$SCRATCH/lock-killed.json" '[.runs[0].tasks[] | select(.outcome == "cancelled")] | length')" 0

# A fleet: 4 client processes of 20 tasks each. An in-process lock protects
# one process: the backend sees one request per process. The lock in Redis
# protects the fleet: one request in all, every other task a hit (rlock) or
# the leader's shared result (rsingleflight).
FLEET_MODES=${FLEET_MODES:-rlock,rsingleflight}
fb --processes 4 --tasks 20 --mode lock --delay-ms 200 --quiet > "$SCRATCH/fleet-mem.json"
validate "$SCRATCH/fleet-mem.json"
expect_eq "fleet of 4, in-process lock: the backend saw" \
    "$(jqv "$SCRATCH/fleet-mem.json" '.fleet.groups[0].summary.server_requests')" 4
fb --processes 4 --tasks 20 --mode "$FLEET_MODES" --store redis --delay-ms 200 --quiet > "$SCRATCH/fleet-redis.json"
validate "$SCRATCH/fleet-redis.json"
expect_eq "fleet of 4 on Redis: the backend saw, per mode" \
    "$(jqv "$SCRATCH/fleet-redis.json" '[.fleet.groups[].summary.server_requests] | map(tostring) | join(",")')" "1,1"
expect_eq "fleet of 4, rlock: hits" \
    "$(jqv "$SCRATCH/fleet-redis.json" '.fleet.groups[0].summary.outcomes.cache_hit')" 79
expect_eq "fleet of 4, rsingleflight: shared" \
    "$(jqv "$SCRATCH/fleet-redis.json" '.fleet.groups[1].summary.outcomes.shared')" 79
expect_eq "fleet of 4 on Redis: one embedded redis-server for all" \
    "$(jqv "$SCRATCH/fleet-redis.json" '.config.store | test("^redis://127.0.0.1:[0-9]+/0$")')" true

# lock and keylock on Redis lock the fleet, and each client's last unlock
# goes out before it exits (they do not wait for an unlock's answer): no
# lock is left in Redis to stall the others until its lease ends.
start_redis
fb --processes 3 --tasks 10 --mode lock,keylock --delay-ms 200 --store "$RURL" --quiet > "$SCRATCH/fleet-lock.json"
validate "$SCRATCH/fleet-lock.json"
expect_eq "fleet of 3, lock and keylock on Redis: the backend saw" \
    "$(jqv "$SCRATCH/fleet-lock.json" '[.fleet.groups[].summary.server_requests] | join(",")')" "1,1"
expect_eq "fleet of 3 on Redis: no lock left behind" \
    "$( (rcli --scan --pattern 'fb:*:lock:global'; rcli --scan --pattern 'fb:*:lock:[0-9]*') | wc -l | tr -d ' ')" 0

# The report checks refuse per-task lock records that break a rule: the
# schema's, or check_report's (the run's lock counters are the tasks' sums).
NEG=$FB_ROOT/tests/schema_negative/locks
/usr/bin/python3 "$NEG/make_cases.py" --check || fail "tests/schema_negative/locks is stale"
validate "$NEG/good/locks.json"
neg_schema lock-extra-key.json "runs/0/tasks/1/lock: Additional properties are not allowed ('note'"
neg_schema lock-woken-unknown.json "runs/0/tasks/1/lock/woken_by: 'nudge' is not one of"
neg_schema lock-attempts-zero.json "runs/0/tasks/0/lock/attempts: 0 is less than the minimum of 1"
neg_invariant lock-attempts-miscounted.json "run 0 (rlock): summary.counters.lock_attempts is 7, but the tasks' lock records add up to 8"
neg_invariant lock-woken-miscounted.json "run 0 (rlock): summary.counters.woken_by_notification is 3, but the tasks' lock records add up to 2"
neg_invariant lock-store-error-miscounted.json "run 1 (rsingleflight): summary.counters.store_errors is 0, but the tasks' lock records add up to 1"
neg_invariant lock-lease-expired-miscounted.json "summary.counters.leases_expired_under_holder is 0, but the tasks' lock records add up to 1"
neg_invariant lock-in-lockless-run.json "run 0 (lock): task 0 carries a lock record, but the run counts no lock_attempts"
neg_invariant lock-lease-expired-never-got.json "run 0 (rlock): task 1: lease_expired on a lock it never got"
expect_all_refused

echo "test_redis: ok"
