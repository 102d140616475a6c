# Hints, once each on stderr, never with --quiet: an IP literal or localhost
# in --url has no resolver thread (threads_created 0); a target that answers
# like a fetchbench serve (X-Queue-Us) has its own counts at /stats.
. "$FB_ROOT/tests/e2e/lib.sh"

start_server
port=${SERVER_URL##*:}
resolver="fetchbench: hint: libcurl resolves 127.0.0.1 without a resolver thread, so threads_created will be 0"
serve="fetchbench: hint: the URL is a fetchbench serve: --backend-stats $SERVER_URL/stats gives the server's own counts"

# Two modes, two repeats and a warm-up: each hint once.
fb --url "$SERVER_URL/delay/20/url/{key}" --tasks 3 --mode lock,nolock --repeat 2 --warmup 1 \
    > "$SCRATCH/a.json" 2> "$SCRATCH/err"
expect_eq "hints" "$(grep 'hint:' "$SCRATCH/err")" "$resolver
$serve"
expect_eq "threads_created, as the hint says" "$(jqv "$SCRATCH/a.json" '[.runs[].summary.threads_created] | unique | join(",")')" 0
# Before the first run's summary: said about what the runs show.
[ "$(grep -n 'hint:' "$SCRATCH/err" | tail -1 | cut -d: -f1)" -lt "$(grep -n '^fetchbench: 3 tasks' "$SCRATCH/err" | head -1 | cut -d: -f1)" ] \
    || fail "hints after the summary: $(cat "$SCRATCH/err")"

fb --url "$SERVER_URL/delay/20/url/{key}" --tasks 3 --quiet > /dev/null 2> "$SCRATCH/err"
expect_eq "--quiet" "$(cat "$SCRATCH/err")" ""

# localhost too; with --backend-stats the serve hint has been taken.
fb --url "http://localhost:$port/delay/20/url/{key}" --backend-stats "$SERVER_URL/stats" --tasks 2 \
    > /dev/null 2> "$SCRATCH/err"
expect_eq "localhost, --backend-stats given" "$(grep 'hint:' "$SCRATCH/err")" \
    "fetchbench: hint: libcurl resolves localhost without a resolver thread, so threads_created will be 0"

# A server that is not a fetchbench serve: no serve hint.
start_fault_server
fb --url "$FAULT_URL/status/200" --tasks 2 > /dev/null 2> "$SCRATCH/err"
expect_eq "not a serve" "$(grep 'hint:' "$SCRATCH/err")" "$(echo "$resolver")"

# The embedded server (its host name goes through the resolver): no hint.
fb --tasks 2 --delay-ms 10 > /dev/null 2> "$SCRATCH/err"
expect_eq "embedded" "$(grep -c 'hint:' "$SCRATCH/err")" 0
# A name that goes through the resolver: this machine's, when it is loopback.
host=$(hostname)
if getent hosts "$host" | grep -q '^127\.'; then
    fb --url "http://$host:$port/delay/20/url/{key}" --tasks 2 > "$SCRATCH/h.json" 2> "$SCRATCH/err"
    expect_eq "a resolved name" "$(grep 'hint:' "$SCRATCH/err")" \
        "fetchbench: hint: the URL is a fetchbench serve: --backend-stats http://$host:$port/stats gives the server's own counts"
fi
