# nginx's cache in front of a `fetchbench serve`, through scripts/proxy and
# the recipes of examples/proxies/, the backend's own count the witness
# (--backend-stats).  Clients run `--mode nolock`: nginx is the only
# defence.  Skipped (exit 0) when nginx is not installed.
#
# Each recipe is a variable, so a broken mechanism can be swapped in and the
# suite must fail: NGINX_LOCK=nginx-nolock (no proxy_cache_lock),
# NGINX_STALE=nginx-lock (no use_stale updating), NGINX_NOLOCK=nginx-lock,
# NGINX_LOCKAGE=nginx-lock (lock age 5 s, not 1 s).
. "$FB_ROOT/tests/e2e/lib.sh"
LOCK=${NGINX_LOCK:-nginx-lock}
NOLOCK=${NGINX_NOLOCK:-nginx-nolock}
STALE=${NGINX_STALE:-nginx-stale}
LOCKAGE=${NGINX_LOCKAGE:-nginx-lockage}
PROXY="$FB_ROOT/scripts/proxy"
N=20

start_server
BACKEND=${SERVER_URL#http://}

# start_proxy RECIPE [TTL]: scripts/proxy in the background, its files in
# $SCRATCH/RECIPE.N (--dir: kept for the access log); sets PROXY_URL,
# PROXY_DIR, PROXY_JOB.  Exit 0 with SKIP when nginx is not installed
# (scripts/proxy exits 3).
nproxy=0
start_proxy() {
    nproxy=$((nproxy + 1))
    PROXY_DIR=$SCRATCH/$1.$nproxy
    PROXY_TTL=${2:-10} "$PROXY" "$1" --backend "$BACKEND" --dir "$PROXY_DIR" \
        > "$SCRATCH/proxy.out" 2> "$SCRATCH/proxy.err" &
    PROXY_JOB=$!
    cleanup_hooks="{ kill $PROXY_JOB && wait $PROXY_JOB; } 2>/dev/null || true; $cleanup_hooks"
    i=0
    until grep -q '^http://' "$SCRATCH/proxy.out"; do
        if ! kill -0 "$PROXY_JOB" 2>/dev/null; then
            set +e; wait "$PROXY_JOB"; rc=$?; set -e
            [ "$rc" -ne 3 ] || { echo "SKIP: $(cat "$SCRATCH/proxy.err")"; exit 0; }
            fail "$1 did not start (exit $rc): $(cat "$SCRATCH/proxy.err")"
        fi
        i=$((i + 1)); [ $i -lt 300 ] || fail "$1: no URL after 15 s"
        sleep 0.05
    done
    PROXY_URL=$(head -1 "$SCRATCH/proxy.out")
}
stop_proxy() { kill "$PROXY_JOB"; wait "$PROXY_JOB" || fail "scripts/proxy exited $? on SIGTERM"; }

# seen NAME: the backend's count of requests during the run NAME.
seen() { jqv "$SCRATCH/$1.json" '.runs[0].summary.server_requests'; }
ok_all() {
    expect_eq "$1: tasks fetched" "$(jqv "$SCRATCH/$1.json" '.runs[0].summary.outcomes.fetched')" "$N"
}
# ends NAME: "FILLER_END_MS LAST_WAITER_END_MS FIRST_WAITER_END_MS": the
# first task to end (the one nginx passed to the backend) and the others.
ends() {
    jqv "$SCRATCH/$1.json" '[.runs[0].tasks[].end_us] | sort | "\(.[0] / 1000 | floor)
        \(.[-1] / 1000 | floor) \(.[1] / 1000 | floor)"' | tr -s ' \n' '  '
}
# longest NAME: the longest task, ms.
longest() { jqv "$SCRATCH/$1.json" '[.runs[0].tasks[] | .end_us - .start_us] | max / 1000 | floor'; }
# cache_log DIR: nginx's $upstream_cache_status per request, counted.
cache_log() { grep '/delay/' "$1/access.log" | awk '{ print $NF }' | sort | uniq -c | tr -s ' \n' '  '; }

### The lock: 20 concurrent misses of a new entry, one backend request; the
# waiters are served after the fill, each by its next poll (every 500 ms).
start_proxy "$LOCK"
fb --url "$PROXY_URL/delay/300/url/lock-{key}" --backend-stats "$SERVER_URL/stats" \
    --mode nolock --tasks $N --quiet -o "$SCRATCH/lock.json" || fail "$LOCK run failed"
validate "$SCRATCH/lock.json"
ok_all lock
set -- $(ends lock)
echo "$LOCK: backend saw $(seen lock); filler ended at $1 ms, waiters $3..$2 ms;" \
    "nginx: $(cache_log "$PROXY_DIR")"
expect_eq "$LOCK: backend requests" "$(seen lock)" 1
[ "$3" -ge "$1" ] || fail "$LOCK: a waiter ended at $3 ms, before the fill at $1 ms"
[ "$2" -le $(($1 + 1500)) ] || fail "$LOCK: the last waiter ended at $2 ms, > 1.5 s after the fill ($1 ms)"
stop_proxy
echo "ok: $LOCK collapses a new entry's misses"

### No lock: every concurrent miss goes to the backend.
start_proxy "$NOLOCK"
fb --url "$PROXY_URL/delay/300/url/nolock-{key}" --backend-stats "$SERVER_URL/stats" \
    --mode nolock --tasks $N --quiet -o "$SCRATCH/nolock.json" || fail "$NOLOCK run failed"
validate "$SCRATCH/nolock.json"
ok_all nolock
echo "$NOLOCK: backend saw $(seen nolock); nginx: $(cache_log "$PROXY_DIR")"
expect_eq "$NOLOCK: backend requests" "$(seen nolock)" $N
stop_proxy
echo "ok: $NOLOCK lets every miss through"

# expired RECIPE NAME DELAY: with a 1 s TTL, one request fills the entry;
# 2.2 s later (nginx stores expiry in whole seconds and expires an entry
# only after its second: a 1 s TTL lasts 1 to 2 s) $N tasks at once.
expired() {
    start_proxy "$1" 1
    curl -sf -o /dev/null "$PROXY_URL/delay/$3/url/$2-0" || fail "$1: the fill failed"
    sleep 2.2
    fb --url "$PROXY_URL/delay/$3/url/$2-{key}" --backend-stats "$SERVER_URL/stats" \
        --mode nolock --tasks $N --quiet -o "$SCRATCH/$2.json" || fail "$1 run failed"
    validate "$SCRATCH/$2.json"
    ok_all "$2"
    # A background refresh may reach the backend after the clients are
    # answered: let it arrive before the next count.
    sleep 0.5
}

### After expiry the lock does not hold: proxy_cache_lock covers new entries
# only, so every concurrent request for the expired one goes to the backend.
expired "$LOCK" expired-lock 300
echo "$LOCK after expiry: backend saw $(seen expired-lock); nginx: $(cache_log "$PROXY_DIR")"
expect_eq "$LOCK after expiry: backend requests" "$(seen expired-lock)" $N
stop_proxy
echo "ok: $LOCK does not collapse an expired entry"

### With use_stale updating (+ background_update): one refresh, every
# client answered at once with the stale copy.
expired "$STALE" expired-stale 400
n_stale=$(grep -c -e ' STALE$' -e ' UPDATING$' "$PROXY_DIR/access.log" || true)
echo "$STALE after expiry: backend saw $(seen expired-stale), longest client $(longest expired-stale) ms;" \
    "nginx: $(cache_log "$PROXY_DIR")"
expect_eq "$STALE after expiry: backend requests" "$(seen expired-stale)" 1
[ "$(longest expired-stale)" -lt 200 ] \
    || fail "$STALE after expiry: a client waited $(longest expired-stale) ms for a 400 ms backend"
[ "$n_stale" -ge $((N - 1)) ] || fail "$STALE after expiry: only $n_stale answers were STALE/UPDATING"
stop_proxy
echo "ok: $STALE serves an expired entry stale while one request refreshes it"

### A backend slower than proxy_cache_lock_age (1 s in nginx-lockage) lets
# one more request through per lock age: 1.8 s of delay, the lock handed on
# once (between 1.0 and 1.5 s: at a waiter's poll).
start_proxy "$LOCKAGE"
fb --url "$PROXY_URL/delay/1800/url/lockage-{key}" --backend-stats "$SERVER_URL/stats" \
    --mode nolock --tasks $N --quiet -o "$SCRATCH/lockage.json" || fail "$LOCKAGE run failed"
validate "$SCRATCH/lockage.json"
ok_all lockage
echo "$LOCKAGE (1.8 s backend): backend saw $(seen lockage); nginx: $(cache_log "$PROXY_DIR")"
[ "$(seen lockage)" -ge 2 ] || fail "$LOCKAGE: backend saw $(seen lockage) requests, expected 2 or more"
stop_proxy
echo "ok: $LOCKAGE lets a second request through"

### scripts/proxy itself.
# An unknown recipe: one line, exit 2.
expect_exit 2 "$PROXY" nginx-nosuch --backend "$BACKEND" 2> "$SCRATCH/err"
expect_eq "unknown recipe: stderr lines" "$(wc -l < "$SCRATCH/err")" 1
grep -q "unknown recipe 'nginx-nosuch'" "$SCRATCH/err" || fail "unknown recipe: $(cat "$SCRATCH/err")"
# A port in use (the backend's): one line, exit 1.
expect_exit 1 "$PROXY" "$LOCK" --backend "$BACKEND" --port "${BACKEND##*:}" 2> "$SCRATCH/err"
expect_eq "port in use: stderr lines" "$(wc -l < "$SCRATCH/err")" 1
grep -q "in use" "$SCRATCH/err" || fail "port in use: $(cat "$SCRATCH/err")"
# A missing binary: one line naming the package, exit 3.
expect_exit 3 env NGINX=nginx-not-installed "$PROXY" "$LOCK" --backend "$BACKEND" 2> "$SCRATCH/err"
expect_eq "missing binary: stderr lines" "$(wc -l < "$SCRATCH/err")" 1
grep -q "nginx-light" "$SCRATCH/err" || fail "missing binary: $(cat "$SCRATCH/err")"
echo "ok: usage errors"

# group_alive PGID: a process of the group still runs (not a zombie).
group_alive() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}
# exits_with CODE PID: PID (a job of this shell) ends within 10 s, with CODE.
exits_with() {
    i=0
    while kill -0 "$2" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "scripts/proxy still runs 10 s later"
        sleep 0.05
    done
    expect_exit "$1" wait "$2"
}
# SIGTERM stops nginx's whole process group and removes the temp dir.
mkdir "$SCRATCH/tmp"
TMPDIR=$SCRATCH/tmp "$PROXY" "$LOCK" --backend "$BACKEND" > "$SCRATCH/t.out" 2> "$SCRATCH/t.err" &
job=$!
cleanup_hooks="{ kill $job && wait $job; } 2>/dev/null || true; $cleanup_hooks"
await_url "$SCRATCH/t.out" "$SCRATCH/t.err" > /dev/null
master=$(cat "$SCRATCH"/tmp/proxy-*/nginx.pid) || fail "no nginx.pid in the temp dir"
# Should scripts/proxy fail to stop it, the test does, at its exit.
cleanup_hooks="$cleanup_hooks kill -KILL -$master 2>/dev/null || true;"
group_alive "$master" || fail "nginx's group $master is not running"
kill -TERM "$job"
exits_with 0 "$job"
! group_alive "$master" || fail "nginx's group $master still runs after SIGTERM: $(ps -g "$master" -o pid,stat,args)"
expect_eq "temp dirs left" "$(ls "$SCRATCH/tmp" | wc -l)" 0
echo "ok: SIGTERM stops nginx and removes the temp dir"

# The end of stdin (a pipe or FIFO) stops it too.
mkfifo "$SCRATCH/in"
TMPDIR=$SCRATCH/tmp "$PROXY" "$LOCK" --backend "$BACKEND" < "$SCRATCH/in" > "$SCRATCH/i.out" 2> "$SCRATCH/i.err" &
job=$!
cleanup_hooks="{ kill $job && wait $job; } 2>/dev/null || true; $cleanup_hooks"
exec 7> "$SCRATCH/in"
await_url "$SCRATCH/i.out" "$SCRATCH/i.err" > /dev/null
master=$(cat "$SCRATCH"/tmp/proxy-*/nginx.pid) || fail "no nginx.pid in the temp dir"
# Should scripts/proxy fail to stop it, the test does, at its exit.
cleanup_hooks="$cleanup_hooks kill -KILL -$master 2>/dev/null || true;"
exec 7>&-
exits_with 0 "$job"
! group_alive "$master" || fail "nginx's group $master still runs after stdin closed"
expect_eq "temp dirs left" "$(ls "$SCRATCH/tmp" | wc -l)" 0
echo "ok: the end of stdin stops nginx"

# A runner killed outright (SIGKILL: no trap runs) leaves nothing behind
# either: its guard stops nginx and removes the temp dir within a second.
TMPDIR=$SCRATCH/tmp "$PROXY" "$LOCK" --backend "$BACKEND" > "$SCRATCH/k.out" 2> "$SCRATCH/k.err" &
job=$!
cleanup_hooks="{ kill $job && wait $job; } 2>/dev/null || true; $cleanup_hooks"
await_url "$SCRATCH/k.out" "$SCRATCH/k.err" > /dev/null
master=$(cat "$SCRATCH"/tmp/proxy-*/nginx.pid) || fail "no nginx.pid in the temp dir"
cleanup_hooks="$cleanup_hooks kill -KILL -$master 2>/dev/null || true;"
kill -KILL "$job"
wait "$job" 2>/dev/null || true
i=0
while group_alive "$master" || [ -n "$(ls "$SCRATCH/tmp")" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "5 s after SIGKILL: nginx's group still runs or the temp dir is left"
    sleep 0.05
done
echo "ok: a runner killed by SIGKILL leaves no nginx behind"
