# Who waited on whom, against the embedded server (real loopback HTTP):
# each task's waited_on link, recorded where it happens (a lock's release
# handing it over, a flight's end, a stored value read by a poller), its
# wait_us, and the resolver threads tied to the tasks that started them.
# check_report's rules for links refuse each broken report in
# tests/schema_negative/links/.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
NEG=$FB_ROOT/tests/schema_negative/links

# chains FILE: per run, the hand-off chains as "a>b>c" lines, each chain
# in the order of its tasks' lock_held starts, checked to be one unbroken
# chain per lock: every link's source held the lock just before its target.
chains() {
    $PY - "$1" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
tasks = run["tasks"]
nxt, prev = {}, {}
for t in tasks:
    w = t.get("waited_on")
    if w is None:
        continue
    if w["kind"] != "handoff":
        sys.exit(f"task {t['id']}: a {w['kind']} link in a lock run")
    if w["task"] in nxt:
        sys.exit(f"task {w['task']} hands over twice")
    nxt[w["task"]] = t["id"]
    prev[t["id"]] = w["task"]
held = {t["id"]: min(b for s, b, _ in t["spans"] if s == "lock_held") for t in tasks}
for head in sorted(set(nxt) - set(prev)):
    chain, k = [head], head
    while k in nxt:
        k = nxt[k]
        chain.append(k)
    # grant order: each task took the lock at or after its predecessor
    if [held[k] for k in chain] != sorted(held[k] for k in chain):
        sys.exit(f"chain {chain} is not in grant order")
    if any(tasks[k]["key"] != tasks[head]["key"] for k in chain):
        sys.exit(f"chain {chain} mixes keys")
    print(">".join(map(str, chain)))
EOF
}

# lock: 19 hand-offs for 20 tasks, one chain 0>1>...>19 (FIFO).
fb --tasks 20 --mode lock --delay-ms 200 --quiet >"$SCRATCH/lock.json"
validate "$SCRATCH/lock.json"
expect_eq "lock: links" "$(jqv "$SCRATCH/lock.json" '[.runs[0].tasks[] | select(.waited_on)] | length')" 19
expect_eq "lock: hand-offs counted" "$(jqv "$SCRATCH/lock.json" '.runs[0].summary.counters.lock_handoffs')" 19
chains "$SCRATCH/lock.json" >"$SCRATCH/lock.chains" || fail "lock: $(cat "$SCRATCH/lock.chains")"
expect_eq "lock: one chain in FIFO order" "$(cat "$SCRATCH/lock.chains")" \
    "$(seq -s '>' 0 19)"
# each hand-off comes at its releaser's end (it releases, then finishes)
expect_eq "lock: hand-off at the releaser's end" "$(jqv "$SCRATCH/lock.json" \
    '.runs[0] | .tasks as $t | [.tasks[] | select(.waited_on) | select(.waited_on.at_us != $t[.waited_on.task].end_us)] | length')" 0
# wait_us: the waiters' lock_wait, about the fetch (200 ms), at least 150 ms
expect_eq "lock: waiters' wait_us" "$(jqv "$SCRATCH/lock.json" \
    '[.runs[0].tasks[1:][] | select(.wait_us < 150000)] | length')" 0
echo "ok: lock: 19 hand-offs, one chain 0>1>...>19"

# keylock with 2 keys: one chain per key, over all the key's tasks.
fb --tasks 12 --keys 2 --mode keylock --delay-ms 150 --quiet >"$SCRATCH/keylock.json"
validate "$SCRATCH/keylock.json"
chains "$SCRATCH/keylock.json" >"$SCRATCH/keylock.chains" || fail "keylock: $(cat "$SCRATCH/keylock.chains")"
expect_eq "keylock: chains" "$(wc -l <"$SCRATCH/keylock.chains" | tr -d ' ')" 2
for k in 0 1; do
    n=$(jqv "$SCRATCH/keylock.json" "[.runs[0].tasks[] | select(.key == $k)] | length")
    [ "$n" -ge 2 ] || fail "keylock: key $k has $n tasks: the seed no longer gives both keys two"
    first=$(jqv "$SCRATCH/keylock.json" "[.runs[0].tasks[] | select(.key == $k)][0].id")
    line=$(grep "^$first>" "$SCRATCH/keylock.chains") || fail "keylock: no chain starts at task $first (key $k)"
    expect_eq "keylock: key $k's chain length" "$(echo "$line" | tr '>' '\n' | wc -l | tr -d ' ')" "$n"
done
echo "ok: keylock: two chains, one per key"

# singleflight: every follower links `result` to the one fetcher.
fb --tasks 10 --mode singleflight --delay-ms 150 --quiet >"$SCRATCH/sf.json"
validate "$SCRATCH/sf.json"
expect_eq "singleflight: fetchers" "$(jqv "$SCRATCH/sf.json" '[.runs[0].tasks[] | select(.outcome == "fetched") | .id]' | tr -d ' \n')" "[0]"
expect_eq "singleflight: followers' links" "$(jqv "$SCRATCH/sf.json" \
    '[.runs[0].tasks[1:][] | .waited_on | select(.task == 0 and .kind == "result")] | length')" 9
expect_eq "singleflight: the fetcher has none" "$(jqv "$SCRATCH/sf.json" '.runs[0].tasks[0] | has("waited_on")')" false
echo "ok: singleflight: 9 followers linked to the leader"

# lease: pollers link `value` to the holder, at the time it stored.
fb --tasks 8 --mode lease --delay-ms 120 --lease-ms 2000 --retry-ms 30 --quiet >"$SCRATCH/lease.json"
validate "$SCRATCH/lease.json"
expect_eq "lease: holder" "$(jqv "$SCRATCH/lease.json" '[.runs[0].tasks[] | select(.outcome == "fetched") | .id]' | tr -d ' \n')" "[0]"
expect_eq "lease: pollers' links" "$(jqv "$SCRATCH/lease.json" \
    '[.runs[0].tasks[1:][] | .waited_on | select(.task == 0 and .kind == "value")] | length')" 7
# stored at the holder's end; read up to a poll (30 ms) later
expect_eq "lease: stored at the holder's end" "$(jqv "$SCRATCH/lease.json" \
    '.runs[0] | .tasks[0].end_us as $e | [.tasks[1:][] | select(.waited_on.at_us != $e)] | length')" 0
echo "ok: lease: 7 pollers linked to the holder"

# nolock: nobody waits on anybody.
fb --tasks 8 --mode nolock --delay-ms 100 --quiet >"$SCRATCH/nolock.json"
validate "$SCRATCH/nolock.json"
expect_eq "nolock: links" "$(jqv "$SCRATCH/nolock.json" '[.runs[0].tasks[] | select(has("waited_on"))] | length')" 0
echo "ok: nolock: no links"

# Threads tied to tasks. The embedded server's URL names the machine's
# host name when it resolves to loopback: libcurl resolves it on a thread
# (an IP literal or "localhost" need none).
j=$SCRATCH/nolock.json
if [ "$(jqv "$j" .config.host_resolved)" = true ]; then
    created=$(jqv "$j" .runs[0].summary.threads_created)
    [ "$created" -ge 8 ] || fail "nolock: $created threads for 8 fresh sessions"
    expect_eq "nolock: lifetimes without a task" "$(jqv "$j" '[.runs[0].threads.lifetimes[] | select(.task == null)] | length')" 0
    expect_eq "nolock: tasks named by threads" \
        "$(jqv "$j" '[.runs[0].threads.lifetimes[].task] | unique' | tr -d ' \n')" \
        "$(jqv "$j" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "dns")) | .id] | unique' | tr -d ' \n')"
    # under lock only task 0 fetches: the one thread is its
    expect_eq "lock: the thread's task" "$(jqv "$SCRATCH/lock.json" '[.runs[0].threads.lifetimes[].task]' | tr -d ' \n')" "[0]"
    echo "ok: threads: each resolver thread names the task that fetched"
else
    echo "note: $(hostname) does not resolve to loopback: no resolver threads to tie to tasks"
fi
# An IP literal starts no thread: nothing to name.
fb --tasks 3 --mode nolock --url "http://127.0.0.1:9/x" --timeout-ms 500 --quiet >"$SCRATCH/ip.json" || true
expect_eq "IP literal: lifetimes" "$(jqv "$SCRATCH/ip.json" '.runs[0].threads.lifetimes | length')" 0

# check_report refuses each broken report: exit 1, one line, the rule's words.
$PY "$NEG/make_cases.py" --check || fail "tests/schema_negative/links is stale"
neg_schema waited-on-extra-key.json "runs/0/tasks/1/waited_on: Additional properties are not allowed ('note'"
neg_schema lifetime-task-negative.json "runs/0/threads/lifetimes/0/task: -1 is less than the minimum of 0"
neg_invariant link-kind-unknown.json "run 0 (lock): task 1: waited_on kind 'nudge' is not in vocabulary.links"
neg_invariant link-to-itself.json "run 0 (lock): task 2 waited on itself"
neg_invariant link-task-missing.json "run 0 (lock): task 1 waited on task 9, but the run has 4 tasks"
neg_invariant link-outside-other.json "run 1 (singleflight): task 1 waited on task 0 (result) at 20580, outside that task [0, 20579]"
neg_invariant link-after-end.json "run 2 (lease): task 1 waited on task 3 (value) at 25462, after its own end 25453"
neg_invariant handoff-after-grant.json "run 0 (lock): task 0 was handed the lock by task 1 at 20000, but has no lock_held span starting at or after it"
neg_invariant handoff-twice.json "run 0 (lock): task 1 handed a lock over 2 times (the last to task 3), but held one 1 times: hand-offs form chains"
neg_invariant wait-us-miscounted.json "run 0 (lock): task 1: wait_us is 24074, but its wait spans add up to 24073"
neg_invariant lifetime-task-missing.json "run 0 (lock): threads.lifetimes[0].task is 4, but the run has 4 tasks"
expect_all_refused
echo "ok: links"
