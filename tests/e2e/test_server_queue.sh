#!/bin/sh
# The server's queue, truthfully: fetchbench serve says in X-Queue-Us how
# long each request waited for a capacity slot, the client splits the fetch's
# request phase into server_queue and in_service, and each run's server
# object has queued_samples. A backend that does not say (or a cache that
# replays another request's answer) leaves the phase whole: request.
. "$(dirname "$0")/lib.sh"

D=300          # ms
DU=$((D * 1000))

# spans STATE FILE RUN: every span of STATE in run RUN, as "task start end".
spans() { jq -r --arg s "$1" ".runs[$3].tasks[] | .id as \$id | .spans[] | select(.[0] == \$s) | \"\(\$id) \(.[1]) \(.[2])\"" "$2"; }
# count STATE FILE RUN: how many spans of STATE run RUN has.
count() { jq --arg s "$1" "[.runs[$3].tasks[].spans[] | select(.[0] == \$s)] | length" "$2"; }

### The headline scenario: 20 tasks, capacity 8, three waves of 8, 8 and 4.
fb --mode nolock,lock --tasks 20 --capacity 8 --delay-ms $D --quiet >"$SCRATCH/r.json"
validate "$SCRATCH/r.json" fetchbench/2
r="$SCRATCH/r.json"
expect_eq "vocabulary: server_queue waits, is a fetch phase" \
    "$(jqv "$r" '.vocabulary.states[] | select(.name == "server_queue") | [.wait, .fetch] | join(",")')" "true,true"
expect_eq "vocabulary: in_service is a fetch phase, not a wait" \
    "$(jqv "$r" '.vocabulary.states[] | select(.name == "in_service") | [.wait, .fetch] | join(",")')" "false,true"
# Every fetch is split; the 8 served at once have no server_queue span
# (the server said 0), the 12 others waited.
expect_eq "nolock: every fetch split" "$(count server_queue "$r" 0),$(count in_service "$r" 0),$(count request "$r" 0)" "12,20,0"
# The two halves meet, and in_service ends where receive begins.
expect_eq "nolock: server_queue ends where in_service starts" \
    "$(jqv "$r" '[.runs[0].tasks[].spans | (map(.[0]) | index("server_queue")) as $i | select($i) | .[$i][2] == .[$i + 1][1] and .[$i + 1][0] == "in_service" and .[$i + 2][0] == "receive"] | all')" true
# The last 4 served (by the end of their in_service) waited two delays in
# the server's queue, then one in service.
jq -r '[.runs[0].tasks[] | {q: (.spans[] | select(.[0] == "server_queue") | .[2] - .[1]),
        s: (.spans[] | select(.[0] == "in_service")), }] | sort_by(.s[2]) | .[-4:][]
        | "\(.q) \(.s[2] - .s[1])"' "$r" >"$SCRATCH/third"
expect_eq "third wave" "$(wc -l <"$SCRATCH/third")" 4
while read -r q s; do
    [ "$q" -ge $((DU * 18 / 10)) ] || fail "third wave: server_queue $q us < 1.8 x $DU"
    [ "$s" -ge $((DU * 8 / 10)) ] && [ "$s" -le $((DU * 16 / 10)) ] \
        || fail "third wave: in_service $s us outside 0.8..1.6 x $DU"
done <"$SCRATCH/third"
# The first wave did not queue: the first 8 served have no server_queue.
expect_eq "first wave: not queued" "$(jqv "$r" '[.runs[0].tasks[] | select(any(.spans[]; .[0] == "in_service"))
    | {q: any(.spans[]; .[0] == "server_queue"), s: (.spans[] | select(.[0] == "in_service") | .[2])}]
    | sort_by(.s) | [.[:8][] | select(.q)] | length')" 0
expect_eq "nolock: queued_samples peak at 12" "$(jqv "$r" '[.runs[0].server.queued_samples[][1]] | max')" 12
expect_eq "nolock: queued_samples end at 0" "$(jqv "$r" '.runs[0].server.queued_samples[-1][1]')" 0
expect_eq "nolock: queued_samples are changes" \
    "$(jqv "$r" '.runs[0].server.queued_samples as $q | [range(1; $q | length) | $q[.][1] != $q[. - 1][1]] | all')" true
expect_eq "nolock: in_service_samples are changes" \
    "$(jqv "$r" '.runs[0].server.in_service_samples as $q | [range(1; $q | length) | $q[.][1] != $q[. - 1][1]] | all')" true
expect_eq "nolock: max_queued" "$(jqv "$r" .runs[0].server.max_queued)" 12
# server_queue is a wait: it is in each task's wait_us and in wait_ms.
expect_eq "nolock: the summary's wait_us.server_queue is the spans' sum" \
    "$(jqv "$r" '.runs[0] | .summary.wait_us.server_queue == ([.tasks[].spans[] | select(.[0] == "server_queue") | .[2] - .[1]] | add)')" true
expect_eq "nolock: a fetch phase makes no waiter" "$(jqv "$r" .runs[0].summary.waiters)" 0
# lock: one fetch, served at once; the queue stayed empty.
expect_eq "lock: one fetch, split, not queued" "$(count server_queue "$r" 1),$(count in_service "$r" 1),$(count request "$r" 1)" "0,1,0"
spans in_service "$r" 1 | while read -r id a b; do
    [ $((b - a)) -ge $((DU * 8 / 10)) ] || fail "lock: in_service $((b - a)) us"
done
expect_eq "lock: queued_samples 0 throughout" "$(jqv "$r" '[.runs[1].server.queued_samples[][1]] | unique | join(",")')" 0

### Injected faults: a 503 and a reset queued and held their slot like any
# other answer, and say so; a hung request is never answered and its phase
# stays whole, ending at the client's timeout. Capacity 1, 3 tasks of
# 100 ms: the last waited two delays.
for fault in fail reset; do
    expect_exit 1 fb --mode nolock --tasks 3 --capacity 1 --delay-ms 100 --$fault-rate 1 --quiet \
        --output "$SCRATCH/$fault.json"
    validate "$SCRATCH/$fault.json"
    expect_eq "$fault: every fetch failed" "$(jqv "$SCRATCH/$fault.json" .runs[0].summary.errors.total)" 3
    expect_eq "$fault: every fetch split" "$(count server_queue "$SCRATCH/$fault.json" 0),$(count in_service "$SCRATCH/$fault.json" 0),$(count request "$SCRATCH/$fault.json" 0)" "2,3,0"
    longest=$(jq '[.runs[0].tasks[].spans[] | select(.[0] == "server_queue") | .[2] - .[1]] | max' "$SCRATCH/$fault.json")
    [ "$longest" -ge 180000 ] || fail "$fault: the last one queued $longest us, expected >= 2 x 100 ms"
done
expect_exit 1 fb --mode nolock --tasks 2 --capacity 1 --delay-ms 100 --hang-rate 1 --timeout-ms 400 \
    --quiet --output "$SCRATCH/hang.json"
validate "$SCRATCH/hang.json"
h="$SCRATCH/hang.json"
expect_eq "hang: timed out" "$(jqv "$h" .runs[0].summary.errors.timeout)" 2
expect_eq "hang: no split, no receive" \
    "$(count server_queue "$h" 0),$(count in_service "$h" 0),$(count request "$h" 0),$(count receive "$h" 0)" "0,0,2,0"
expect_eq "hang: request runs to the task's end" \
    "$(jqv "$h" '[.runs[0].tasks[] | .end_us as $e | .spans[-1] | .[0] == "request" and .[2] == $e] | all')" true
# The server saw the second one queue behind the first.
expect_eq "hang: queued_samples" "$(jqv "$h" '[.runs[0].server.queued_samples[][1]] | max')" 1

### A backend that does not say: the phase stays request.
start_fault_server
fb --url "$FAULT_URL/status/200" --mode nolock --tasks 3 --quiet >"$SCRATCH/plain.json"
validate "$SCRATCH/plain.json"
expect_eq "no header: request, no split" \
    "$(count request "$SCRATCH/plain.json" 0),$(count server_queue "$SCRATCH/plain.json" 0),$(count in_service "$SCRATCH/plain.json" 0)" "3,0,0"
expect_eq "no server to ask: server null" "$(jqv "$SCRATCH/plain.json" .runs[0].server)" null

### A cache in front replays the answer it kept, X-Queue-Us included, to
# every request: only the one request that reached the server is split; the
# others waited at the cache, not in the server's queue.
start_server --capacity 1
/usr/bin/python3 - "$SERVER_URL" >"$SCRATCH/cache.out" 2>"$SCRATCH/cache.err" <<'EOF' &
import http.server, sys, threading, urllib.request
backend, kept, lock = sys.argv[1], {}, threading.Lock()
class Cache(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        with lock:  # one fetch per URL; the others wait for it (a cache lock)
            if self.path not in kept:
                ask = urllib.request.Request(backend + self.path,
                                             headers={k: v for k, v in self.headers.items() if k.lower().startswith("x-")})
                with urllib.request.urlopen(ask) as a:
                    kept[self.path] = (a.status, [(k, v) for k, v in a.getheaders()
                                                  if k.lower() not in ("connection", "content-length")], a.read())
        status, headers, body = kept[self.path]
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Cache)
print("http://127.0.0.1:%d/" % s.server_port, flush=True)
s.serve_forever()
EOF
cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
CACHE_URL=$(await_url "$SCRATCH/cache.out" "$SCRATCH/cache.err") || exit 1
fb --url "$CACHE_URL/delay/200/url/{key}" --mode nolock --tasks 4 --quiet >"$SCRATCH/cache.json"
validate "$SCRATCH/cache.json"
c="$SCRATCH/cache.json"
expect_eq "cache: one split (not queued), three whole" "$(count server_queue "$c" 0),$(count in_service "$c" 0),$(count request "$c" 0)" "0,1,3"
# The replayed answers do carry the header: it is the echo that unmasks them.
curl -s -D "$SCRATCH/replay.h" -o /dev/null -H "X-Queue-For: someone-else" "$CACHE_URL/delay/200/url/0"
grep -qi '^x-queue-us: [0-9]' "$SCRATCH/replay.h" || fail "the cache's replay has no X-Queue-Us: $(cat "$SCRATCH/replay.h")"
expect_eq "the backend answered once" "$(curl -s "$SERVER_URL/stats" | jq .requests)" 1
echo "server-queue: ok"
