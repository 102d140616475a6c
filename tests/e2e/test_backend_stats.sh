#!/bin/sh
# --backend-stats: with --url pointing elsewhere (a proxy, or the backend
# itself here), the report's server counts are the backend's own, per run,
# as deltas of a server that outlives the runs.
. "$(dirname "$0")/lib.sh"

$TEST_PREFIX "$FETCHBENCH" serve --port 0 > "$SCRATCH/url" 2> "$SCRATCH/serve.err" &
serve=$!
trap 'kill $serve 2>/dev/null' EXIT
i=0
until [ -s "$SCRATCH/url" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "fetchbench serve did not start: $(cat "$SCRATCH/serve.err")"; sleep 0.05
done
base=$(head -1 "$SCRATCH/url")

# Per run, interleaved: the backend's count grows 10, 1, 10, 1; each run
# reports its own part, and the load comes from the backend's log.
fb --url "${base}delay/100/url/{key}" --backend-stats "${base}stats" --mode nolock,lock --repeat 2 \
    --tasks 10 --quiet > "$SCRATCH/r.json"
validate "$SCRATCH/r.json"
expect_eq "server requests per run" "$(jqv "$SCRATCH/r.json" '[.runs[].summary.server_requests] | join(",")')" "10,1,10,1"
expect_eq "the backend's peak per run" "$(jqv "$SCRATCH/r.json" '[.runs[].server.max_in_service] | join(",")')" "10,1,10,1"
expect_eq "load from the backend's log" "$(jqv "$SCRATCH/r.json" '[.runs[].load.source] | unique | join(",")')" "server"
expect_eq "config names it" "$(jqv "$SCRATCH/r.json" .config.backend_stats)" "${base}stats"
expect_eq "the backend's own total" "$(curl -s "${base}stats" | jq .requests)" 22

# The backend's queue, from its log: a capacity-2 backend queues 3 of 5
# requests in each run; each run's peak is its own, not the backend's since
# it started, and its answers split the request phase.
$TEST_PREFIX "$FETCHBENCH" serve --port 0 --capacity 2 > "$SCRATCH/url2" 2> "$SCRATCH/serve2.err" &
serve2=$!
trap 'kill $serve $serve2 2>/dev/null' EXIT
i=0
until [ -s "$SCRATCH/url2" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "fetchbench serve did not start: $(cat "$SCRATCH/serve2.err")"; sleep 0.05
done
base2=$(head -1 "$SCRATCH/url2")
fb --url "${base2}delay/100/url/{key}" --backend-stats "${base2}stats" --mode nolock,lock --repeat 2 \
    --tasks 5 --quiet > "$SCRATCH/q.json"
validate "$SCRATCH/q.json"
expect_eq "queued_samples peak per run" \
    "$(jqv "$SCRATCH/q.json" '[.runs[] | [.server.queued_samples[][1]] | max] | join(",")')" "3,0,3,0"
expect_eq "max_queued per run, from the log" "$(jqv "$SCRATCH/q.json" '[.runs[].server.max_queued] | join(",")')" "3,0,3,0"
expect_eq "queued_samples end at 0" "$(jqv "$SCRATCH/q.json" '[.runs[].server.queued_samples[-1][1]] | unique | join(",")')" 0
expect_eq "the backend's answers split the request phase" \
    "$(jqv "$SCRATCH/q.json" '[.runs[].tasks[].spans[][0]] | [index("request"), (index("server_queue") != null), (index("in_service") != null)] | map(tostring) | join(",")')" "null,true,true"

# Credentials in it are shown as ***.
host=${base#http://}
fb --url "${base}delay/1" --backend-stats "http://u:secret@${host}stats" --tasks 1 --quiet > "$SCRATCH/cred.json"
grep -q secret "$SCRATCH/cred.json" && fail "the password reached the report"
expect_eq "redacted" "$(jqv "$SCRATCH/cred.json" .config.backend_stats)" "http://***@${host}stats"

# Not a fetchbench serve: one line, exit 1, the report written, server null.
expect_exit 1 fb --url "${base}delay/1" --backend-stats "${base}delay/1" --tasks 2 --quiet \
    --output "$SCRATCH/bad.json" 2> "$SCRATCH/err"
expect_eq "one line" "$(wc -l < "$SCRATCH/err")" 1
grep -q "no fetchbench serve /stats answered there" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
validate "$SCRATCH/bad.json"
expect_eq "server null" "$(jqv "$SCRATCH/bad.json" '.runs[0].server')" null
expect_eq "server_requests null" "$(jqv "$SCRATCH/bad.json" '.runs[0].summary.server_requests')" null

# Usage: without --url, a bad scheme.
expect_exit 2 fb --backend-stats "${base}stats" --tasks 1 --quiet > /dev/null 2> "$SCRATCH/err"
grep -q "for --url targets" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
expect_exit 2 fb --url "${base}delay/1" --backend-stats "ftp://127.0.0.1/stats" --tasks 1 --quiet \
    > /dev/null 2> "$SCRATCH/err"
grep -q "unsupported scheme 'ftp'" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
echo "backend-stats: ok"
