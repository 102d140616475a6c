# Fetches that fail: every task's outcome and error stage recorded, the JSON
# valid, exit 1; in lock mode a failure releases the lock and the next waiter
# tries the fetch itself.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# A port nothing listens on (bind one, then close it).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

expect_exit 1 fb --tasks 5 --mode lock --url "http://127.0.0.1:$port/delay/0" --quiet > "$SCRATCH/refused.json"
validate "$SCRATCH/refused.json"
j=$SCRATCH/refused.json
expect_eq "each waiter tried in turn" "$(rv $j .summary.upstream_requests)" 5
expect_eq "connect errors" "$(rv $j .summary.errors.connect)" 5
expect_eq "error outcomes" "$(rv $j '[.tasks[] | select(.outcome == "error" and .error.stage == "connect")] | length')" 5
expect_eq "no server stats for a URL" "$(rv $j .summary.server_requests)" null
# Each task's fetch starts after the previous one's failure released the lock.
order=$(rv $j '[.tasks[] | .spans[] | select(.[0] == "lock_held") | .[1]] | . == sort')
expect_eq "retries in FIFO order" "$order" true

expect_exit 1 fb --tasks 4 --mode nolock --url "http://127.0.0.1:$port/" --quiet > "$SCRATCH/refused-nolock.json"
validate "$SCRATCH/refused-nolock.json"
expect_eq "nolock connect errors" "$(rv "$SCRATCH/refused-nolock.json" .summary.errors.connect)" 4

# A name that does not resolve (.invalid is reserved never to).
expect_exit 1 fb --tasks 2 --mode nolock --url "http://no-such-host.invalid/" --quiet > "$SCRATCH/nxdomain.json"
validate "$SCRATCH/nxdomain.json"
expect_eq "resolve errors" "$(rv "$SCRATCH/nxdomain.json" .summary.errors.resolve)" 2

# Slower than --timeout-ms: a timeout, and in lock mode the next waiter tries.
start_server
expect_exit 1 fb --tasks 3 --mode lock --url "$SERVER_URL/delay/2000" --timeout-ms 100 --quiet > "$SCRATCH/timeout.json"
validate "$SCRATCH/timeout.json"
expect_eq "timeouts" "$(rv "$SCRATCH/timeout.json" .summary.errors.timeout)" 3

# HTTP errors are errors too.
expect_exit 1 fb --tasks 2 --mode lock --url "$SERVER_URL/nothing-here" --quiet > "$SCRATCH/404.json"
validate "$SCRATCH/404.json"
expect_eq "http status errors" "$(rv "$SCRATCH/404.json" .summary.errors.http_status)" 2
expect_eq "status recorded" "$(rv "$SCRATCH/404.json" '.tasks[0].error.http_status')" 404

# A body larger than --max-body is cut off and counted.
expect_exit 1 fb --tasks 1 --url "$SERVER_URL/delay/0" --max-body 100 --quiet > "$SCRATCH/big.json"
validate "$SCRATCH/big.json"
expect_eq "body too large" "$(rv "$SCRATCH/big.json" .summary.errors.body_too_large)" 1

# A server that resets mid-body, closes early, or answers 5xx.
start_fault_server
expect_exit 1 fb --tasks 3 --mode lock --url "$FAULT_URL/reset" --quiet > "$SCRATCH/reset.json"
validate "$SCRATCH/reset.json"
expect_eq "reset mid-body: read errors" "$(rv "$SCRATCH/reset.json" .summary.errors.read)" 3
expect_exit 1 fb --tasks 2 --mode nolock --url "$FAULT_URL/close" --quiet > "$SCRATCH/close.json"
expect_eq "closed mid-body: read errors" "$(rv "$SCRATCH/close.json" .summary.errors.read)" 2
expect_exit 1 fb --tasks 4 --mode lock --url "$FAULT_URL/status/503" --quiet > "$SCRATCH/503.json"
validate "$SCRATCH/503.json"
expect_eq "5xx: http status errors" "$(rv "$SCRATCH/503.json" .summary.errors.http_status)" 4
expect_eq "5xx: each waiter tried" "$(rv "$SCRATCH/503.json" .summary.upstream_requests)" 4
expect_eq "5xx: status kept" "$(rv "$SCRATCH/503.json" '[.tasks[].error.http_status] | unique')" "[
  503
]"
expect_exit 1 fb --tasks 2 --url "$FAULT_URL/hang" --timeout-ms 200 --quiet > "$SCRATCH/hang.json"
expect_eq "a server that never answers: timeouts" "$(rv "$SCRATCH/hang.json" .summary.errors.timeout)" 2
# 64 MiB against the default 16 MiB limit: cut off, not held in memory.
expect_exit 1 fb --tasks 1 --url "$FAULT_URL/big/67108864" --quiet > "$SCRATCH/huge.json"
expect_eq "huge body" "$(rv "$SCRATCH/huge.json" .summary.errors.body_too_large)" 1
expect_exit 0 fb --tasks 1 --url "$FAULT_URL/big/1000000" --quiet > "$SCRATCH/mb.json"

# The embedded server dies mid-run: the run completes, every task recorded.
"$FETCHBENCH" --tasks 6 --mode nolock --delay-ms 3000 --quiet > "$SCRATCH/died.json" &
fbpid=$!
sleep 0.7
child=$(children_of $fbpid)
[ -n "$child" ] || fail "no embedded server child"
kill -9 $child
set +e; wait $fbpid; rc=$?; set -e
expect_eq "exit after the server died" "$rc" 1
validate "$SCRATCH/died.json"
expect_eq "died: all tasks ended in error" "$(rv "$SCRATCH/died.json" '[.tasks[] | select(.outcome == "error")] | length')" 6
expect_eq "died: no server stats" "$(rv "$SCRATCH/died.json" .server)" null
