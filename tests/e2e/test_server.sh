#!/bin/sh
# `fetchbench serve` against real curl: answers and status codes, capacity
# waves, clients that leave before their answer, and command-line errors.
# Timings are checked only as ratios of the delay, with wide margins.
. "$FB_ROOT/tests/e2e/lib.sh"

# status URL [CURL_ARGS...]: prints "CODE BYTES".
status() {
    url=$1; shift
    curl -s -o /dev/null -w '%{http_code} %{size_download}' "$@" "$url" || true
}

# stats: /stats into $SCRATCH/stats.json.
stats() { curl -sf "$SERVER_URL/stats?log=1" >"$SCRATCH/stats.json" || fail "GET /stats"; }
sv() { jqv "$SCRATCH/stats.json" "$1"; }

# wait_all PIDS...: wait for these clients only (a bare `wait` would also
# wait for the server).
wait_all() { for p in "$@"; do wait "$p" || true; done; }

# settle: wait until nothing is in service or queued (at most ~3 s).
settle() {
    i=0
    while :; do
        stats
        [ "$(sv .in_service)" = 0 ] && [ "$(sv .queued)" = 0 ] && return 0
        i=$((i + 1)); [ $i -lt 60 ] || fail "server did not settle: $(cat "$SCRATCH/stats.json")"
        sleep 0.05
    done
}

# restart_server ARGS...: stop the server and start a new one. start_server
# polls server.out for the URL, so the old file must go first or it could
# read the old server's port.
restart_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    rm -f "$SCRATCH/server.out"
    start_server "$@"
}

# at_least A B: A >= B for decimals.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

### Answers and status codes
start_server
expect_eq "GET /delay/0" "$(status "$SERVER_URL/delay/0")" "200 1024"
expect_eq "GET /delay/50/url/http://x/y" "$(status "$SERVER_URL/delay/50/url/http://x/y")" "200 1024"
type=$(curl -s -o /dev/null -w '%{content_type}' "$SERVER_URL/delay/0")
expect_eq "Content-Type of /delay/0" "$type" "text/html"
for path in /delay/ /delay/abc /delay/-5 /delay/5x "/delay/%2D5" "/delay/%2535" "/delay/%3"; do
    expect_eq "GET $path" "$(status "$SERVER_URL$path" | cut -d' ' -f1)" 400
done
# Any spelling of a small number is that number: leading zeros (however
# many) and percent-encoded digits. --max-time 3 fails a path read as the
# 600 s cap; no X-Delay-Capped header either.
for path in /delay/0001 /delay/00000000000000000000000000000000000000001 "/delay/%31" \
            "/delay/%30%30%35/url/x"; do
    expect_eq "GET $path" "$(status "$SERVER_URL$path" --max-time 3)" "200 1024"
    capped=$(curl -s -D - -o /dev/null --max-time 3 "$SERVER_URL$path" | grep -ci '^x-delay-capped' || true)
    expect_eq "X-Delay-Capped on $path" "$capped" 0
done
for path in / /nope /delay /delay/5/nope /stats/; do
    expect_eq "GET $path" "$(status "$SERVER_URL$path" | cut -d' ' -f1)" 404
done
for method in POST PUT DELETE OPTIONS PATCH; do
    expect_eq "$method /delay/0" "$(status "$SERVER_URL/delay/0" -X "$method" | cut -d' ' -f1)" 405
done
expect_eq "HEAD /delay/0" "$(status "$SERVER_URL/delay/0" -I | cut -d' ' -f1)" 405
long=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(status "$SERVER_URL/delay/0/url/$long" | cut -d' ' -f1)
[ "$code" = 413 ] || [ "$code" = 400 ] || fail "20 KB URI: got $code, expected 413 or 400"

stats
expect_eq "requests after the answers above" "$(sv .requests)" 11
expect_eq "completed" "$(sv .completed)" 11
expect_eq "log entries (two per answered request)" "$(sv '.in_service_log | length')" 22
curl -sf "$SERVER_URL/stats" >"$SCRATCH/plain.json"
expect_eq "/stats without ?log=1 has no log" "$(jqv "$SCRATCH/plain.json" 'has("in_service_log")')" false
expect_eq "log columns" "$(sv '.in_service_log_columns | join(",")')" "t_us,in_service,queued"
expect_eq "nothing queued in the log" "$(sv '[.in_service_log[][2]] | max')" 0

# Every answer says its wait for a slot (X-Queue-Us, once) and echoes a
# token named X-Queue-For; nothing else is echoed.
for path in /delay/0 /nope /stats /delay/abc; do
    curl -s -D - -o /dev/null -H "X-Queue-For: ab.C-9_z" "$SERVER_URL$path" | tr -d '\r' >"$SCRATCH/h"
    expect_eq "X-Queue-Us on $path" "$(grep -ci '^x-queue-us: 0$' "$SCRATCH/h")" 1
    expect_eq "X-Queue-For echoed on $path" "$(grep -ci '^x-queue-for: ab.C-9_z$' "$SCRATCH/h")" 1
done
long_token=$(head -c 65 /dev/zero | tr '\0' 'a')
for token in "a b" "a;b" "$long_token"; do
    curl -s -D "$SCRATCH/h" -o /dev/null -H "X-Queue-For: $token" "$SERVER_URL/delay/0"
    expect_eq "X-Queue-For '$token' not echoed" "$(grep -ci '^x-queue-for' "$SCRATCH/h" || true)" 0
done

# Delays above 600000 ms are capped, never rejected; the request is in
# service while the client waits, and leaves when the client does.
for big in 99999999999 99999999999999999999999999999; do
    status "$SERVER_URL/delay/$big" --max-time 0.5 >/dev/null &
    client=$!
    sleep 0.2
    stats
    expect_eq "in_service during /delay/$big" "$(sv .in_service)" 1
    wait_all $client
    settle
done
expect_eq "abandoned after the capped delays" "$(sv .abandoned)" 2

### Capacity: 5 requests of 300 ms against capacity 2 come back in 3 waves.
restart_server --capacity 2
clients=""
for i in 1 2 3 4 5; do
    curl -s -o /dev/null -D "$SCRATCH/head.$i" -w '%{http_code} %{time_total}\n' "$SERVER_URL/delay/300" \
        >"$SCRATCH/wave.$i" &
    clients="$clients $!"
done
wait_all $clients
cat "$SCRATCH"/wave.* >"$SCRATCH/waves"
expect_eq "answers with 200" "$(grep -c '^200 ' "$SCRATCH/waves")" 5
# Ideal times are 0.3, 0.3, 0.6, 0.6, 0.9 s.
sort -n -k2 "$SCRATCH/waves" | awk '{ print $2 }' >"$SCRATCH/times"
first=$(sed -n 1p "$SCRATCH/times"); third=$(sed -n 3p "$SCRATCH/times"); last=$(sed -n 5p "$SCRATCH/times")
at_least "$first" 0.25 || fail "fastest answer took ${first}s, below the 0.3 s delay"
at_least "$third" 0.5 || fail "third answer took ${third}s; capacity 2 should make it wait a wave"
at_least "$last" 0.75 || fail "slowest answer took ${last}s, expected >= 2.5 x 0.3 s"
at_least 5 "$last" || fail "slowest answer took ${last}s"
stats
expect_eq "requests" "$(sv .requests)" 5
expect_eq "max_in_service" "$(sv .max_in_service)" 2
expect_eq "max_queued" "$(sv .max_queued)" 3
expect_eq "completed" "$(sv .completed)" 5
expect_eq "most in service in the log" "$(sv '[.in_service_log[][1]] | max')" 2
expect_eq "last in service in the log" "$(sv '.in_service_log[-1][1]')" 0
expect_eq "most queued in the log" "$(sv '[.in_service_log[][2]] | max')" 3
expect_eq "last queued in the log" "$(sv '.in_service_log[-1][2]')" 0
# Each answer says how long it waited for a slot: 0, 0, one delay, one
# delay, two delays (ideally; wide margins).
cat "$SCRATCH"/head.* | tr -d '\r' | sed -n 's/^[Xx]-[Qq]ueue-[Uu]s: //p' | sort -n >"$SCRATCH/queued"
expect_eq "X-Queue-Us answers" "$(wc -l <"$SCRATCH/queued")" 5
q2=$(sed -n 2p "$SCRATCH/queued"); q3=$(sed -n 3p "$SCRATCH/queued"); q5=$(sed -n 5p "$SCRATCH/queued")
[ "$q2" -lt 100000 ] || fail "second answer queued $q2 us; capacity 2 serves two at once"
[ "$q3" -ge 250000 ] && [ "$q3" -lt 450000 ] || fail "third answer queued $q3 us, expected about one delay"
[ "$q5" -ge 500000 ] && [ "$q5" -lt 900000 ] || fail "last answer queued $q5 us, expected about two delays"

### Clients that leave while in service or queued give their slots back.
restart_server --capacity 1
clients=""
for i in 1 2 3 4; do
    status "$SERVER_URL/delay/2000" --max-time 0.4 >/dev/null &
    clients="$clients $!"
done
sleep 0.2
stats
expect_eq "in_service while 4 wait on capacity 1" "$(sv .in_service)" 1
expect_eq "queued while 4 wait on capacity 1" "$(sv .queued)" 3
wait_all $clients
settle
expect_eq "abandoned" "$(sv .abandoned)" 4
expect_eq "completed" "$(sv .completed)" 0
# Had a slot leaked, capacity 1 would leave this one waiting for ever.
expect_eq "GET /delay/0 after the abandoned ones" \
    "$(status "$SERVER_URL/delay/0" --max-time 3)" "200 1024"

### Gone, half-closed and pipelining clients (tests/slot_client.py): a
# client that leaves frees its slot at once, with or without a byte after
# its request, queued or in service; a half-closed HTTP/1.1 client gets a
# 102 and then its answer; an HTTP/1.0 one is taken for gone; a pipelined
# request waiting in the socket does not make the server spin.
for case in gone-extra-byte gone-extra-queued gone-close gone-reset \
            half-close half-close-queued http10-half-close pipelined-stays; do
    restart_server --capacity 1
    /usr/bin/python3 "$FB_ROOT/tests/slot_client.py" "$case" "$SERVER_URL" "$SERVER_PID" \
        >"$SCRATCH/slot.out" 2>&1 || fail "$(cat "$SCRATCH/slot.out")"
done

### The in_service log is a ring of the newest 65,536 changes: 33,000
# requests make 66,000, so 464 are lost and /stats says so; since=<µs>
# returns only the changes at or after it.
restart_server
/usr/bin/python3 "$FB_ROOT/tests/pipeline_load.py" "$SERVER_URL" 33000 \
    >"$SCRATCH/load.out" 2>&1 || fail "$(cat "$SCRATCH/load.out")"
stats
expect_eq "requests after the load" "$(sv .requests)" 33000
expect_eq "log entries kept" "$(sv '.in_service_log | length')" 65536
expect_eq "log entries dropped" "$(sv .in_service_log_dropped)" 464
expect_eq "log truncated (no since)" "$(sv .in_service_log_truncated)" true
expect_eq "log in time order" "$(sv '[.in_service_log[][0]] | . == sort')" true
since=$(sv '.in_service_log[100][0]')
curl -sf "$SERVER_URL/stats?log=1&since=$since" >"$SCRATCH/since.json" || fail "GET /stats?since"
expect_eq "entries at or after since" \
    "$(jqv "$SCRATCH/since.json" "[.in_service_log[] | select(.[0] >= $since)] | length")" \
    "$(jqv "$SCRATCH/since.json" '.in_service_log | length')"
at_least "$(jqv "$SCRATCH/since.json" '.in_service_log | length')" 65436 \
    || fail "since: $(jqv "$SCRATCH/since.json" '.in_service_log | length') entries"
expect_eq "since after the lost ones: not truncated" \
    "$(jqv "$SCRATCH/since.json" .in_service_log_truncated)" false
last=$(sv '.in_service_log[-1][0]')
curl -sf "$SERVER_URL/stats?log=1&since=$((last + 1))" >"$SCRATCH/since.json" || fail "GET /stats?since"
expect_eq "since after the last change" "$(jqv "$SCRATCH/since.json" '.in_service_log | length')" 0
for bad in abc -1 1.5 99999999999999999999999; do
    expect_eq "GET /stats?log=1&since=$bad" \
        "$(status "$SERVER_URL/stats?log=1&since=$bad" | cut -d' ' -f1)" 400
done

### Command line
port=${SERVER_URL##*:}
expect_exit 1 fb serve --port "$port" >/dev/null 2>"$SCRATCH/err"
expect_eq "port in use: stderr lines" "$(wc -l <"$SCRATCH/err")" 1
grep -q 'in use' "$SCRATCH/err" || fail "port in use: $(cat "$SCRATCH/err")"
expect_exit 1 fb serve --port 0 --bind 999.1.1.1 >/dev/null 2>"$SCRATCH/err"
expect_eq "bad --bind: stderr lines" "$(wc -l <"$SCRATCH/err")" 1
for args in "--capacity 0" "--capacity x" "--port 70000" "--port x" "--port -1" \
            "--frobnicate" "--port" "stray"; do
    # shellcheck disable=SC2086 # split on purpose
    expect_exit 2 fb serve $args >/dev/null 2>"$SCRATCH/err"
    expect_eq "'serve $args': stderr lines" "$(wc -l <"$SCRATCH/err")" 1
done
fb serve --capacity 0 2>"$SCRATCH/err" || true
expect_eq "--capacity 0 message" "$(cat "$SCRATCH/err")" \
    "fetchbench serve: --capacity: expected an integer from 1 to 1000000, got '0'"
fb serve --port x 2>"$SCRATCH/err" || true
grep -q -- '--port' "$SCRATCH/err" || fail "--port x: $(cat "$SCRATCH/err")"
fb serve --frobnicate 2>"$SCRATCH/err" || true
grep -q -- '--frobnicate' "$SCRATCH/err" || fail "unknown flag: $(cat "$SCRATCH/err")"
fb serve --help >"$SCRATCH/help"
grep -q 'usage: fetchbench serve' "$SCRATCH/help" || fail "--help prints no usage"

### SIGTERM ends the server with exit code 0.
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
expect_eq "exit code after SIGTERM" "$rc" 0
start_server
kill -INT "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
expect_eq "exit code after SIGINT" "$rc" 0
echo "ok"

# serve --help that cannot be written says so and fails, like the report.
set +e; "$FETCHBENCH" serve --help > /dev/full 2> "$SCRATCH/help.err"; rc=$?; set -e
expect_eq "serve --help onto /dev/full" "$rc" 1
expect_eq "one line" "$(wc -l < "$SCRATCH/help.err")" 1
