# Hostile and unusual input: URLs with any byte and with credentials, empty
# answers, TLS failures, failures in one run of many, exhausted descriptors
# and threads. Each case either works truthfully or is refused with one line.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }
start_server
start_fault_server

# utf8_json FILE: FILE is valid UTF-8 and valid JSON.
utf8_json() {
    /usr/bin/python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1" \
        || fail "$1 is not UTF-8 JSON"
}

# Credentials never reach the report, the trace, stderr or a plot.
fb --tasks 3 --url "http://alice:s3cr3t-pw@127.0.0.1:${SERVER_URL##*:}/delay/10" \
    --output "$SCRATCH/cred.json" --trace "$SCRATCH/cred.trace.json" 2> "$SCRATCH/cred.err"
validate "$SCRATCH/cred.json"
expect_eq "redacted url" "$(jqv "$SCRATCH/cred.json" .config.url)" "http://***@127.0.0.1:${SERVER_URL##*:}/delay/10"
expect_eq "the fetch still used them" "$(rv "$SCRATCH/cred.json" .summary.errors.total)" 0
/usr/bin/python3 "$FB_ROOT/scripts/plot-timeline" "$SCRATCH/cred.json" -o "$SCRATCH/cred.svg"
for f in cred.json cred.trace.json cred.err cred.svg; do
    ! grep -q -e s3cr3t -e alice "$SCRATCH/$f" || fail "the credentials leaked into $f"
done
# A password alone, and a user alone, are credentials too.
fb --tasks 1 -q --url "http://:s3cr3t-pw@127.0.0.1:9/" > "$SCRATCH/pw.json" || true
expect_eq "password only" "$(jqv "$SCRATCH/pw.json" .config.url)" "http://***@127.0.0.1:9/"

# Any byte in a URL: a UTF-8 JSON report, or exit 2 with one printable line.
for u in "$(printf 'http://127.0.0.1:9/a\001b')" "$(printf 'http://127.0.0.1:9/a\377b')" \
         "$(printf 'http://127.0.0.1:9/\355\240\200')" "$(printf 'http://127.0.0.1:9/\300\257')" \
         "$(printf 'http://127.0.0.1:9/a\033[31mred')"; do
    set +e; fb --tasks 1 -q --url "$u" > "$SCRATCH/byte.json" 2> "$SCRATCH/byte.err"; rc=$?; set -e
    expect_eq "exit code for a URL with a bad byte" "$rc" 2
    expect_eq "one line" "$(wc -l < "$SCRATCH/byte.err")" 1
    ! LC_ALL=C grep -q "$(printf '[\001-\037\177-\377]')" "$SCRATCH/byte.err" \
        || fail "the message carries the raw byte: $(od -c "$SCRATCH/byte.err" | head -3)"
    [ ! -s "$SCRATCH/byte.json" ] || fail "a report was written for a refused URL"
done
u="$(printf 'http://127.0.0.1:9/\303\251t\303\251/%%24x%%24?q=\342\202\254')"
set +e; fb --tasks 1 -q --url "$u" > "$SCRATCH/utf8.json"; rc=$?; set -e
expect_eq "a UTF-8 URL runs (and fails to connect)" "$rc" 1
utf8_json "$SCRATCH/utf8.json"
validate "$SCRATCH/utf8.json"

# An empty answer is a value: in lock mode the first task fetches it and the
# others find it in the cache.
for path in /nocontent /big/0; do
    fb --tasks 10 --mode lock -q --url "$FAULT_URL$path" > "$SCRATCH/empty.json"
    validate "$SCRATCH/empty.json"
    expect_eq "$path: one upstream request" "$(rv "$SCRATCH/empty.json" .summary.upstream_requests)" 1
    expect_eq "$path: nine hits" "$(rv "$SCRATCH/empty.json" .summary.cache_hits)" 9
done

# TLS failures have their own stage: a handshake with a plain HTTP server,
# and a certificate nobody vouches for.
set +e; fb --tasks 2 -q --url "https://127.0.0.1:${SERVER_URL##*:}/delay/1" > "$SCRATCH/tls.json" 2>/dev/null; rc=$?; set -e
expect_eq "exit code" "$rc" 1
validate "$SCRATCH/tls.json"
expect_eq "handshake failures" "$(rv "$SCRATCH/tls.json" .summary.errors.tls)" 2
expect_eq "stage" "$(rv "$SCRATCH/tls.json" '.tasks[0].error.stage')" tls
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" \
    -days 1 -subj /CN=localhost 2>/dev/null
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -quiet -www -accept "127.0.0.1:$port" -cert "$SCRATCH/cert.pem" -key "$SCRATCH/key.pem" \
    > /dev/null 2>&1 &
cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
i=0; until curl -sk "https://127.0.0.1:$port/" > /dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "openssl s_server did not start"; sleep 0.05; done
set +e; fb --tasks 2 --mode nolock --url "https://127.0.0.1:$port/" > "$SCRATCH/cert.json" 2> "$SCRATCH/cert.err"; rc=$?; set -e
expect_eq "exit code" "$rc" 1
expect_eq "certificate failures" "$(rv "$SCRATCH/cert.json" .summary.errors.tls)" 2

# The summary names what went wrong, grouped: "2 × <message> (stage)".
grep -q "^  2 × .*certificate.* (tls)$" "$SCRATCH/cert.err" \
    || fail "no grouped error message on stderr: $(cat "$SCRATCH/cert.err")"

# --repeat: a failure in any run fails the whole series, not only in the last.
set +e; fb --tasks 1 --repeat 3 -q --url "$FAULT_URL/flaky/repeat" > "$SCRATCH/flaky.json"; rc=$?; set -e
expect_eq "runs" "$(jqv "$SCRATCH/flaky.json" '.runs | length')" 3
expect_eq "runs counted per mode" "$(jqv "$SCRATCH/flaky.json" '.repeats[0].count')" 3
expect_eq "errors per run" "$(jqv "$SCRATCH/flaky.json" '[.runs[].summary.errors.total]' | tr -d ' \n')" '[1,0,0]'
# fetchbench/2 keeps every run's tasks, not only the last run's.
expect_eq "outcomes per run" "$(jqv "$SCRATCH/flaky.json" '[.runs[].tasks[0].outcome]' | tr -d ' \n')" \
    '["error","fetched","fetched"]'
expect_eq "exit code when only the first of three runs failed" "$rc" 1

# Descriptors: --max-connections above what the open-file limit allows
# queues (config.fetch_cap) instead of failing with EMFILE, and says so once.
(
    ulimit -n 200
    fb --tasks 300 --mode nolock --max-connections 500 --delay-ms 50 \
        > "$SCRATCH/fds.json" 2> "$SCRATCH/fds.err"
) || fail "300 fetches under 200 descriptors failed: $(tail -3 "$SCRATCH/fds.err")"
validate "$SCRATCH/fds.json"
expect_eq "no errors" "$(rv "$SCRATCH/fds.json" .summary.errors.total)" 0
# (valgrind keeps a few descriptors for itself: the limit may read lower.)
limit=$(jqv "$SCRATCH/fds.json" .config.fd_limit)
[ "$limit" -le 200 ] && [ "$limit" -gt 150 ] || fail "the limit recorded: $limit"
cap=$(( (limit - 64) / 3 ))
expect_eq "the cap recorded" "$(jqv "$SCRATCH/fds.json" .config.fetch_cap)" "$cap"
[ "$(rv "$SCRATCH/fds.json" .summary.peak_connections)" -le "$cap" ] || fail "more connections than the cap"
expect_eq "told once" "$(grep -c "open-file limit ($limit) let at most $cap fetches" "$SCRATCH/fds.err")" 1

# Threads: a resolver thread that cannot start is not a thread created.
# (The embedded server's URL names this machine when that resolves to
# loopback: then each fetch needs a resolver thread. ASan cannot run with
# such a stack limit.)
if [ -z "${FB_SANITIZED:-}" ] && getent hosts "$(hostname)" | grep -q '^127\.'; then
    (
        ulimit -s 100000000     # a 100 GB stack: no thread can be mapped
        set +e; fb --tasks 3 --mode nolock --delay-ms 10 -q > "$SCRATCH/nothreads.json"; set -e
    )
    validate "$SCRATCH/nothreads.json"
    expect_eq "threads created" "$(rv "$SCRATCH/nothreads.json" .summary.threads_created)" 0
    expect_eq "threads failed" "$(rv "$SCRATCH/nothreads.json" .summary.threads_failed)" 3
    expect_eq "peak threads" "$(rv "$SCRATCH/nothreads.json" .summary.peak_threads)" 1
fi
