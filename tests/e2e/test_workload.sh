# The workload: keys, skew, arrivals, a duration, expiring entries, a seed,
# several strategies and repeats in one invocation. Each is checked against
# what the report itself records (keys drawn, planned arrivals, spans), with
# wide margins on anything random or timed.
. "$FB_ROOT/tests/e2e/lib.sh"

# compact: the JSON on stdin on one line, no spaces.
compact() { jq -c . | tr -d ' '; }

### Bad values: one line naming the flag, exit 2, nothing on stdout.
bad() { # FLAG ARGS...: FLAG must be named in the message
    flag=$1; shift
    set +e; fb --tasks 5 --delay-ms 0 "$@" > "$SCRATCH/out" 2> "$SCRATCH/err"; rc=$?; set -e
    expect_eq "exit code for '$*' ($(head -c 300 "$SCRATCH/err"))" "$rc" 2
    expect_eq "stderr lines for '$*'" "$(wc -l < "$SCRATCH/err")" 1
    expect_eq "stdout bytes for '$*'" "$(wc -c < "$SCRATCH/out")" 0
    grep -q -e "$flag" "$SCRATCH/err" || fail "'$*': $flag not named: $(cat "$SCRATCH/err")"
}
bad --zipf     --zipf 0
bad --zipf     --zipf -1
bad --zipf     --zipf abc
bad --zipf     --zipf nan
bad --rate     --rate -1
bad --rate     --rate 0
bad --rate     --rate abc
bad --duration --duration 1
bad --duration --duration 0 --rate 10
bad --duration --duration -1 --rate 10
# --duration decides how many tasks arrive: an explicit --tasks (bad()
# gives --tasks 5) contradicts it, like --delay-ms with --url.
bad --duration --duration 1 --rate 10
bad --keys     --keys 0
bad --keys     --keys abc
bad --keys     --keys -3
bad "unknown mode 'bogus'" --mode lock,bogus
bad --mode     --mode lock,lock
bad --mode     --mode lock,
bad --mode     --mode ''
bad --ttl-ms   --ttl-ms -1
bad --ttl-ms   --ttl-ms abc
bad --seed     --seed abc
bad --seed     --seed -1
bad --repeat   --repeat 0
bad --expect   --expect 'bogus:upstream_requests==1'
echo "ok: bad values"

### The seed decides the keys and the planned arrivals: the same in every
# run of one report and in another invocation; another seed, others.
draw() { # SEED OUT
    fb --tasks 40 --keys 8 --zipf 1.1 --rate 1000 --seed "$1" --mode lock,nolock \
        --delay-ms 5 --quiet > "$2"
    validate "$2"
}
plan() { # FILE RUN: the run's keys and arrivals
    jq -c ".runs[$2].tasks | [map(.key), map(.arrival_us)]" "$1"
}
draw 42 "$SCRATCH/s42a.json"
draw 42 "$SCRATCH/s42b.json"
draw 43 "$SCRATCH/s43.json"
expect_eq "seed recorded" "$(jqv "$SCRATCH/s42a.json" .config.workload.seed)" 42
expect_eq "modes recorded" "$(jqv "$SCRATCH/s42a.json" .config.modes | compact)" '["lock","nolock"]'
expect_eq "runs" "$(jqv "$SCRATCH/s42a.json" '[.runs[] | [.mode, .repeat]]' | compact)" \
    '[["lock",0],["nolock",0]]'
expect_eq "tasks drawn" "$(jqv "$SCRATCH/s42a.json" '.runs[0].tasks | length')" 40
expect_eq "lock and nolock share the plan" "$(plan "$SCRATCH/s42a.json" 0)" "$(plan "$SCRATCH/s42a.json" 1)"
expect_eq "same seed, another invocation" "$(plan "$SCRATCH/s42b.json" 0)" "$(plan "$SCRATCH/s42a.json" 0)"
[ "$(jq -c '.runs[0].tasks | map(.key)' "$SCRATCH/s43.json")" != \
  "$(jq -c '.runs[0].tasks | map(.key)' "$SCRATCH/s42a.json")" ] || fail "seeds 42 and 43 drew the same keys"
[ "$(jq -c '.runs[0].tasks | map(.arrival_us)' "$SCRATCH/s43.json")" != \
  "$(jq -c '.runs[0].tasks | map(.arrival_us)' "$SCRATCH/s42a.json")" ] || fail "seeds 42 and 43 drew the same arrivals"
# The plan is what ran: every key is in range, and the per-key counts add
# up to the tasks drawn.
expect_eq "keys in range" "$(jqv "$SCRATCH/s42a.json" '[.runs[].tasks[].key | select(. < 0 or . >= 8)] | length')" 0
expect_eq "per-key task counts" \
    "$(jqv "$SCRATCH/s42a.json" '.runs[0] | .keys.tasks == [range(8) as $k | [.tasks[] | select(.key == $k)] | length]')" true
echo "ok: seeds"

### Each strategy gets a fresh embedded server: against capacity 2, lock
# sends one request and nolock six, counted per run, never added up.
fb --tasks 6 --mode lock,nolock --capacity 2 --delay-ms 100 --quiet > "$SCRATCH/cap.json"
validate "$SCRATCH/cap.json"
j=$SCRATCH/cap.json
expect_eq "server requests per run" "$(jqv "$j" '[.runs[].summary.server_requests]' | compact)" '[1,6]'
expect_eq "upstream requests per run" "$(jqv "$j" '[.runs[].summary.upstream_requests]' | compact)" '[1,6]'
expect_eq "nolock: the server never served more than 2" "$(jqv "$j" '.runs[1].server.max_in_service')" 2
# The runs follow each other: the second starts after the first ended.
jq -e '.runs[1].start_monotonic_us >= .runs[0].start_monotonic_us + .runs[0].summary.wall_us' "$j" > /dev/null \
    || fail "the runs overlap: $(jq -c '[.runs[] | [.start_monotonic_us, .summary.wall_us]]' "$j")"

# --repeat interleaves (lock nolock lock nolock), keeps every run and gives
# each mode its median; an expectation with a mode prefix judges that mode,
# one without judges each.
fb --tasks 6 --mode lock,nolock --repeat 2 --capacity 2 --delay-ms 50 --quiet \
    --expect 'lock:upstream_requests==1' --expect 'nolock:server_requests==6' --expect 'errors==0' \
    > "$SCRATCH/rep.json"
validate "$SCRATCH/rep.json"
j=$SCRATCH/rep.json
expect_eq "interleaved runs" "$(jqv "$j" '[.runs[] | [.mode, .repeat]]' | compact)" \
    '[["lock",0],["nolock",0],["lock",1],["nolock",1]]'
expect_eq "every run's tasks kept" "$(jqv "$j" '[.runs[].tasks | length]' | compact)" '[6,6,6,6]'
expect_eq "server requests per run" "$(jqv "$j" '[.runs[].summary.server_requests]' | compact)" '[1,6,1,6]'
expect_eq "repeats per mode" "$(jqv "$j" '[.repeats[] | [.mode, .count, .median.upstream_requests]]' | compact)" \
    '[["lock",2,1],["nolock",2,6]]'
expect_eq "verdicts, one per expectation and mode" \
    "$(jqv "$j" '[.expectations[] | [.mode, .expect, .ok]] | sort' | compact)" \
    '[["lock","errors==0",true],["lock","lock:upstream_requests==1",true],["nolock","errors==0",true],["nolock","nolock:server_requests==6",true]]'
expect_exit 3 fb --tasks 4 --mode lock,nolock --delay-ms 20 --quiet \
    --expect 'nolock:upstream_requests==1' > "$SCRATCH/gate.json" 2> "$SCRATCH/gate.err"
expect_eq "the failed verdict" "$(jqv "$SCRATCH/gate.json" '[.expectations[] | [.mode, .actual, .ok]]' | compact)" \
    '[["nolock",4,false]]'
echo "ok: modes and repeats"

### Keys: under the lock each key drawn is fetched once, then hit.
fb --tasks 50 --keys 5 --mode lock,nolock --delay-ms 20 --quiet > "$SCRATCH/keys.json"
validate "$SCRATCH/keys.json"
j=$SCRATCH/keys.json
drawn=$(jqv "$j" '[.runs[0].tasks[].key] | unique | length')
up=$(jqv "$j" '.runs[0].summary.upstream_requests')
[ "$up" -le 5 ] || fail "lock, 5 keys: $up upstream requests"
expect_eq "lock: one fetch per key drawn" "$up" "$drawn"
expect_eq "lock: the server saw them" "$(jqv "$j" '.runs[0].summary.server_requests')" "$drawn"
expect_eq "lock: fetches per key" \
    "$(jqv "$j" '.runs[0] | .keys.upstream_requests == [.keys.tasks[] | if . > 0 then 1 else 0 end]')" true
expect_eq "lock: the rest hit" "$(jqv "$j" '.runs[0].summary.cache_hits')" $((50 - drawn))
# All at once without the lock: every task misses, whatever its key.
expect_eq "nolock: every task fetches" "$(jqv "$j" '.runs[1].summary.upstream_requests')" 50
expect_eq "nolock: fetches per key" "$(jqv "$j" '.runs[1] | .keys.upstream_requests == .keys.tasks')" true

# --url with {key}: each key fetches its own URL (seen by a server that
# records paths); without {key}, every key fetches the same URL and the
# keys differ only in the cache.
cat > "$SCRATCH/paths.py" <<'EOF_PY'
import http.server, sys
log = open(sys.argv[1], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        log.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"http://127.0.0.1:{s.server_address[1]}/", flush=True)
s.serve_forever()
EOF_PY
: > "$SCRATCH/paths.log"
/usr/bin/python3 "$SCRATCH/paths.py" "$SCRATCH/paths.log" > "$SCRATCH/paths.out" 2>&1 &
cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
PATHS_URL=$(await_url "$SCRATCH/paths.out" "$SCRATCH/paths.out") || exit 1
fb --tasks 40 --keys 4 --mode nolock --url "$PATHS_URL/k/{key}" --quiet > "$SCRATCH/url.json"
validate "$SCRATCH/url.json"
expect_eq "url recorded with its placeholder" "$(jqv "$SCRATCH/url.json" .config.url)" "$PATHS_URL/k/{key}"
want=$(jq -r '.runs[0].keys.tasks | to_entries[] | select(.value > 0) | "\(.value) /k/\(.key)"' "$SCRATCH/url.json")
got=$(sort "$SCRATCH/paths.log" | uniq -c | awk '{ print $1, $2 }' | sort -k2)
expect_eq "requests per key's URL" "$got" "$(echo "$want" | sort -k2)"
: > "$SCRATCH/paths.log"
fb --tasks 40 --keys 4 --mode lock --url "$PATHS_URL/same" --quiet > "$SCRATCH/same.json"
drawn=$(jqv "$SCRATCH/same.json" '[.runs[0].tasks[].key] | unique | length')
expect_eq "one URL for every key: one fetch per key" "$(jqv "$SCRATCH/same.json" '.runs[0].summary.upstream_requests')" "$drawn"
expect_eq "one URL for every key: what the server saw" "$(sort -u "$SCRATCH/paths.log")" "/same"
expect_eq "one URL for every key: how often" "$(wc -l < "$SCRATCH/paths.log")" "$drawn"
echo "ok: keys"

### Zipf: key 0 is the hottest, by far; uniform keys are not.
fb --tasks 2000 --keys 100 --zipf 1.2 --mode lock --delay-ms 1 --quiet --proc-sample-ms 0 > "$SCRATCH/zipf.json"
validate "$SCRATCH/zipf.json"
j=$SCRATCH/zipf.json
expect_eq "zipf recorded" "$(jqv "$j" .config.workload.zipf)" 1.2
k0=$(jqv "$j" '.runs[0].keys.tasks[0]')
k1=$(jqv "$j" '.runs[0].keys.tasks[1]')
top=$(jqv "$j" '.runs[0].keys.tasks | max')
# P(key 0) = 1 / H(100, 1.2) ~ 0.28, P(key 1) ~ 0.12: about 560 and 240.
expect_eq "key 0 the most frequent" "$k0" "$top"
[ "$k0" -ge 350 ] && [ "$k0" -le 800 ] || fail "key 0 drawn $k0 times of 2000"
[ "$k0" -ge $((k1 * 3 / 2)) ] || fail "key 0 drawn $k0 times, key 1 $k1"
expect_eq "lock: one fetch per key drawn" "$(jqv "$j" '.runs[0].summary.upstream_requests')" \
    "$(jqv "$j" '[.runs[0].keys.tasks[] | select(. > 0)] | length')"
fb --tasks 2000 --keys 100 --mode lock --delay-ms 1 --quiet --proc-sample-ms 0 > "$SCRATCH/uniform.json"
u0=$(jqv "$SCRATCH/uniform.json" '.runs[0].keys.tasks | max')
# Uniform: 20 a key on average; the most drawn of 100 is far below key 0's share.
[ "$u0" -le 60 ] || fail "uniform keys: one drawn $u0 times of 2000"
echo "ok: zipf ($k0 / $k1 / uniform max $u0)"

### Poisson arrivals: spread over about tasks / rate, gaps near their mean,
# and as irregular as exponential gaps are.
fb --tasks 400 --rate 2000 --mode lock --delay-ms 1 --quiet > "$SCRATCH/rate.json"
validate "$SCRATCH/rate.json"
j=$SCRATCH/rate.json
expect_eq "rate recorded" "$(jqv "$j" '.config.workload | [.arrival != "gather", .rate_per_s]' | compact)" '[true,2000]'
expect_eq "arrivals in order" "$(jqv "$j" '[.runs[0].tasks[].arrival_us] | . == sort')" true
last=$(jqv "$j" '.runs[0].tasks[-1].arrival_us')
# 400 gaps of mean 500 us: about 200 ms (standard deviation 10 ms).
[ "$last" -ge 100000 ] && [ "$last" -le 400000 ] || fail "last arrival at $last us"
cv=$(jqv "$j" '[.runs[0].tasks[].arrival_us] | [range(1; length) as $i | .[$i] - .[$i - 1]]
    | (add / length) as $m | ((map((. - $m) * (. - $m)) | add / length) | sqrt) / $m * 100 | floor')
[ "$cv" -ge 70 ] && [ "$cv" -le 140 ] || fail "gaps vary by $cv% of their mean (exponential: 100%)"
# Tasks start when they arrive (never before, and spread as their arrivals).
expect_eq "tasks started before their arrival" \
    "$(jqv "$j" '[.runs[0].tasks[] | select(.start_us < .arrival_us - 1000)] | length')" 0
[ "$(jqv "$j" '.runs[0].tasks[-1].start_us')" -ge 100000 ] || fail "the last task started before 100 ms"
echo "ok: arrivals (last $last us, gaps vary $cv%)"

### --duration: arrivals for that long, as many tasks as fall in it.
fb --duration 0.5 --rate 400 --mode lock,nolock --delay-ms 1 --quiet > "$SCRATCH/dur.json"
validate "$SCRATCH/dur.json"
j=$SCRATCH/dur.json
n=$(jqv "$j" .config.tasks)
# 400/s for 0.5 s: 200 expected, standard deviation 14.
[ "$n" -ge 120 ] && [ "$n" -le 300 ] || fail "--duration 0.5 --rate 400 drew $n tasks"
expect_eq "duration recorded" "$(jqv "$j" '.config.workload | [.duration_ms, .rate_per_s]' | compact)" '[500,400]'
expect_eq "tasks per run" "$(jqv "$j" '[.runs[] | (.tasks | length), .summary.tasks]' | compact)" "[$n,$n,$n,$n]"
expect_eq "arrivals inside the duration" "$(jqv "$j" '[.runs[].tasks[] | select(.arrival_us >= 500000)] | length')" 0
echo "ok: duration ($n tasks)"

### --ttl-ms: entries expire, stampedes recur; the lock keeps each to one
# fetch. From the spans: each fetch's cache check comes after the previous
# entry expired (stored at or after its receive ended), and every hit's check
# before the entry it hit expired (stored at or before its fetcher ended).
# A 1 ms margin for the clock readings in between.
fb --tasks 200 --rate 500 --ttl-ms 30 --delay-ms 20 --mode lock,nolock --quiet > "$SCRATCH/ttl.json"
validate "$SCRATCH/ttl.json"
j=$SCRATCH/ttl.json
expect_eq "ttl recorded" "$(jqv "$j" .config.workload.ttl_ms)" 30
up=$(jqv "$j" '.runs[0].summary.upstream_requests')
[ "$up" -gt 1 ] || fail "lock with a 30 ms TTL over ~400 ms: $up upstream request(s)"
expect_eq "lock: outcomes" "$(jqv "$j" '.runs[0].summary.outcomes | [.fetched, .cache_hit, .fetched + .cache_hit]' | compact)" \
    "[$up,$((200 - up)),200]"
jq -e '.runs[0].tasks
    | def at($s): first(.spans[] | select(.[0] == $s));
      [.[] | select(.outcome == "fetched") | {check: at("cache_check")[1], received: at("receive")[2], end: .end_us}]
      | sort_by(.check) as $f
    | [range(1; $f | length) as $i | select($f[$i].check < $f[$i - 1].received + 30000 - 1000)] | length == 0' "$j" > /dev/null \
    || fail "a fetch before the previous entry expired: $(jq -c '[.runs[0].tasks[] | select(.outcome == "fetched") | .spans]' "$j")"
jq -e '.runs[0].tasks
    | def at($s): first(.spans[] | select(.[0] == $s));
      ([.[] | select(.outcome == "fetched") | {received: at("receive")[2], end: .end_us}] | sort_by(.received)) as $f
    | [.[] | select(.outcome == "cache_hit") | at("cache_check")[1] as $c
       | ([$f[] | select(.received <= $c)] | last) as $entry
       | select($entry == null or $c > $entry.end + 30000 + 1000)] | length == 0' "$j" > /dev/null \
    || fail "a hit on an expired entry"
last=$(jqv "$j" '.runs[0].tasks[-1].arrival_us')
[ "$up" -le $((last / 30000 + 2)) ] || fail "$up fetches in $last us, more than one per TTL"
# Without the lock each expiry is a stampede: every task that arrives while
# the entry is being fetched again fetches too.
nup=$(jqv "$j" '.runs[1].summary.upstream_requests')
[ "$nup" -ge $((up * 2)) ] || fail "nolock: $nup upstream requests, lock: $up"
echo "ok: ttl (lock $up fetches, nolock $nup)"
