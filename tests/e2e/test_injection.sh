# Failures the embedded server injects (--fail-rate, --fail-first,
# --reset-rate, --hang-rate, --jitter-ms), met by the real client: each fate
# lands in its error stage, lock's waiters retry after a failed first fetch,
# the seed replays the same faults, hung requests keep their slots, and
# /stats counts what was injected.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# fates FILE: each run's fates of its first 25 requests to reach the server
# (the error's stage, or fetched), one line per run. Cache hits are left
# out: which tasks hit depends on the workload, which the seed changes too.
fates() {
    jq -r '.runs[] | [.tasks[] | select(.outcome != "cache_hit") | .error.stage // .outcome][:25]
           | join(" ")' "$1"
}

# --- fail: every request answered 503 after its delay.
j=$SCRATCH/fail.json
expect_exit 1 fb --mode nolock --tasks 20 --delay-ms 100 --fail-rate 1 --quiet > "$j"
validate "$j"
expect_eq "fail: every outcome an error" "$(rv "$j" '[.tasks[] | select(.outcome == "error")] | length')" 20
expect_eq "fail: http_status errors" "$(rv "$j" .summary.errors.http_status)" 20
expect_eq "fail: the status is 503" "$(rv "$j" '[.tasks[].error.http_status] | unique | join(",")')" 503
expect_eq "fail: each reached the server" "$(rv "$j" .summary.server_requests)" 20
expect_eq "fail: the server's count" "$(rv "$j" '.server.faults | [.failed, .reset, .hung] | join(",")')" 20,0,0
# It took its delay first: no answer came before it.
expect_eq "fail: after the delay" "$(rv "$j" '[.tasks[] | .end_us - .start_us] | min >= 100000')" true

# --- reset: headers and half the page, then the connection closes.
j=$SCRATCH/reset.json
expect_exit 1 fb --mode nolock --tasks 20 --delay-ms 100 --reset-rate 1 --quiet > "$j"
validate "$j"
expect_eq "reset: read errors" "$(rv "$j" .summary.errors.read)" 20
expect_eq "reset: no other error" "$(rv "$j" .summary.errors.total)" 20
expect_eq "reset: the server's count" "$(rv "$j" '.server.faults | [.failed, .reset, .hung] | join(",")')" 0,20,0

# --- hang: no answer; the client's timeout ends each task.
j=$SCRATCH/hang.json
expect_exit 1 fb --mode nolock --tasks 20 --delay-ms 100 --hang-rate 1 --timeout-ms 300 --quiet > "$j"
validate "$j"
expect_eq "hang: timeouts" "$(rv "$j" .summary.errors.timeout)" 20
expect_eq "hang: no other error" "$(rv "$j" .summary.errors.total)" 20
expect_eq "hang: the server's count" "$(rv "$j" '.server.faults | [.failed, .reset, .hung] | join(",")')" 0,0,20

# --- fail-first under lock: the first fetch fails, the lock goes to the next
# waiter, whose fetch fills the cache for everyone after it.
j=$SCRATCH/fail-first.json
expect_exit 1 fb --mode lock --tasks 10 --delay-ms 100 --fail-first 1 --quiet > "$j"
validate "$j"
expect_eq "fail-first: one error" "$(rv "$j" .summary.errors.total)" 1
expect_eq "fail-first: it is the 503" "$(rv "$j" '[.tasks[] | select(.outcome == "error") | .error.http_status] | join(",")')" 503
expect_eq "fail-first: one fetched" "$(rv "$j" '[.tasks[] | select(.outcome == "fetched")] | length')" 1
expect_eq "fail-first: the rest hit the cache" "$(rv "$j" '[.tasks[] | select(.outcome == "cache_hit")] | length')" 8
expect_eq "fail-first: two requests reached the server" "$(rv "$j" .summary.server_requests)" 2
expect_eq "fail-first: the server's count" "$(rv "$j" .server.faults.failed)" 1
# The fetch that succeeded began once the failed one had given the lock up.
held() { rv "$j" "[.tasks[] | select(.outcome == \"$1\") | .spans[] | select(.[0] == \"lock_held\")][0] | .[$2]"; }
[ "$(held fetched 1)" -ge "$(held error 2)" ] || fail "fail-first: the retry overlapped the failed fetch"

# --- the seed: the same faults in the same order of arrival in every run.
# lock makes the requests reach the server one at a time in arrival order
# (under nolock two arrivals 1 ms apart can swap on the way); arrivals are
# 20 ms apart and keys many, so nearly every task fetches.
replay() {
    fb --mode lock --tasks 30 --rate 50 --delay-ms 1 --keys 1000 --timeout-ms 300 \
        --fail-rate 0.3 --reset-rate 0.2 --hang-rate 0.1 --seed "$1" --repeat 2 --quiet > "$2" || true
    validate "$2"
}
replay 1 "$SCRATCH/seed1.json"
replay 2 "$SCRATCH/seed2.json"
a1=$(fates "$SCRATCH/seed1.json" | sed -n 1p); b1=$(fates "$SCRATCH/seed1.json" | sed -n 2p)
a2=$(fates "$SCRATCH/seed2.json" | sed -n 1p)
echo "seed 1: $a1"; echo "seed 2: $a2"
# Not a trivial pattern: several fates, so that the comparisons say something.
kinds=$(echo "$a1" | tr ' ' '\n' | sort -u | wc -l)
[ "$kinds" -ge 3 ] || fail "seed: only $kinds kinds of fate in '$a1'"
expect_eq "seed: the same fates in both runs" "$b1" "$a1"
expect_eq "seed: the same counts in both runs" \
    "$(jq -c '[.runs[].server.faults] | (unique | length == 1) and .[0].failed > 0 and .[0].reset > 0' \
        "$SCRATCH/seed1.json")" true
[ "$a1" != "$a2" ] || fail "seed: seeds 1 and 2 gave the same fates '$a1'"

# --- jitter: delays drawn from [0, 200] ms, not all 100.
j=$SCRATCH/jitter.json
fb --mode nolock --tasks 20 --delay-ms 100 --jitter-ms 100 --quiet > "$j"
validate "$j"
# 20 draws all within 100 ms of each other: about 1 in 25,000.
spread=$(rv "$j" '[.tasks[] | .end_us - .start_us] | (max - min) / 1000 | floor')
[ "$spread" -ge 100 ] || fail "jitter: latencies spread over only $spread ms"

# --- serve: bad fault flags are usage errors, one line each.
for bad in "--fail-rate 2" "--reset-rate -0.1" "--hang-rate x" "--fail-first -1" \
           "--jitter-ms 600001" "--seed 9007199254740992" "--fail-rate 0.6 --hang-rate 0.5"; do
    # A flag taken by mistake would serve forever: timeout turns that into 124.
    set +e
    # shellcheck disable=SC2086
    timeout 20 $TEST_PREFIX "$FETCHBENCH" serve --port 0 $bad > /dev/null 2> "$SCRATCH/bad.err"
    rc=$?
    set -e
    expect_eq "serve $bad: exit code" "$rc" 2
    expect_eq "serve $bad: one line" "$(wc -l < "$SCRATCH/bad.err")" 1
    grep -q '^fetchbench serve: --' "$SCRATCH/bad.err" || fail "serve $bad: $(cat "$SCRATCH/bad.err")"
done
fb serve --help | grep -q -- '--fail-first N' || fail "serve --help does not list --fail-first"

# --- serve --fail-rate 1: 503s marked X-Fault: fail, counted in /stats.
start_server --fail-rate 1
for i in 1 2 3; do
    got=$(curl -s -D "$SCRATCH/h" -o /dev/null -w '%{http_code}' "$SERVER_URL/delay/50/url/k$i")
    expect_eq "serve fail: status" "$got" 503
    grep -qi '^x-fault: fail' "$SCRATCH/h" || fail "serve fail: no X-Fault header: $(cat "$SCRATCH/h")"
done
curl -sf "$SERVER_URL/stats" > "$SCRATCH/stats.json" || fail "GET /stats"
expect_eq "stats: failed" "$(jqv "$SCRATCH/stats.json" .failed)" 3
expect_eq "stats: reset" "$(jqv "$SCRATCH/stats.json" .reset)" 0
expect_eq "stats: hung" "$(jqv "$SCRATCH/stats.json" .hung)" 0
expect_eq "stats: completed" "$(jqv "$SCRATCH/stats.json" .completed)" 0
kill "$SERVER_PID"

# --- serve --reset-rate 1: a partial body (curl: 18, partial file).
start_server --reset-rate 1
set +e
got=$(curl -s -D "$SCRATCH/h" -o "$SCRATCH/body" -w '%{http_code}' "$SERVER_URL/delay/0")
rc=$?
set -e
expect_eq "serve reset: curl's exit code" "$rc" 18
expect_eq "serve reset: status line sent" "$got" 200
expect_eq "serve reset: half the page" "$(wc -c < "$SCRATCH/body")" 512
grep -qi '^content-length: 1024' "$SCRATCH/h" || fail "serve reset: not the whole page's length"
grep -qi '^x-fault: reset' "$SCRATCH/h" || fail "serve reset: no X-Fault header"
curl -sf "$SERVER_URL/stats" > "$SCRATCH/stats.json" || fail "GET /stats"
expect_eq "stats: reset" "$(jqv "$SCRATCH/stats.json" .reset)" 1
kill "$SERVER_PID"

# --- serve --fail-first 2: per key, what follows /url/.
start_server --fail-first 2
codes=""
for k in a b a a b b c; do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/delay/0/url/$k")"
done
expect_eq "serve fail-first: codes of a b a a b b c" "$codes" " 503 503 503 200 503 200 503"
kill "$SERVER_PID"

# --- capacity 2, every request hangs: the two in service keep their slots
# while the client waits, so the two behind them never get in.
start_server --capacity 2 --hang-rate 1
j=$SCRATCH/hold.json
expect_exit 1 fb --mode nolock --tasks 4 --url "$SERVER_URL/delay/100/url/{key}" --timeout-ms 600 --quiet > "$j"
validate "$j"
expect_eq "hold: every task timed out" "$(rv "$j" .summary.errors.timeout)" 4
curl -sf "$SERVER_URL/stats" > "$SCRATCH/stats.json" || fail "GET /stats"
expect_eq "hold: two hung" "$(jqv "$SCRATCH/stats.json" .hung)" 2
expect_eq "hold: at most two in service" "$(jqv "$SCRATCH/stats.json" .max_in_service)" 2
expect_eq "hold: two queued behind them" "$(jqv "$SCRATCH/stats.json" .max_queued)" 2
expect_eq "hold: all four abandoned" "$(jqv "$SCRATCH/stats.json" .abandoned)" 4
expect_eq "hold: nothing left in service" "$(jqv "$SCRATCH/stats.json" .in_service)" 0
kill "$SERVER_PID"
