# Spans sit where a second witness puts them: the resolver thread (recorded by
# the pthread_create interposer), the server's admission (its own log), the
# order of libcurl's phases. Orders and wide ratios, never tight timings.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# span J TASK STATE start|end: when one span of one task starts or ends.
span() {
    case $4 in start) i=1 ;; end) i=2 ;; *) fail "span: $4" ;; esac
    rv "$1" "[.tasks[$2].spans[] | select(.[0] == \"$3\")][0][$i]"
}

# At 300,000 tasks libcurl starts the holder's transfer one long loop turn
# after it was asked for. Its phases count from there: the name lookup
# starts with the resolver thread, and 1 KB arrives in far less than the
# 50 ms delay (the whole turn used to be charged to dns and to receive).
j="$SCRATCH/big.json"
fb --tasks 300000 --mode lock --delay-ms 50 --quiet --proc-sample-ms 0 > "$j"
# The invariants only: the schema check of 300,000 tasks takes a minute.
/usr/bin/python3 "$FB_ROOT/tests/check_report.py" "$j" || fail "$j breaks an invariant"
if [ "$(jqv "$j" .config.host_resolved)" = true ]; then
    dns=$(span "$j" 0 dns start)
    thread=$(rv "$j" '.threads.lifetimes[0].start_us')
    gap=$((thread - dns))
    [ "$gap" -lt 10000 ] && [ "$gap" -gt -10000 ] \
        || fail "the dns span starts $gap us away from its resolver thread"
fi
receive=$(( $(span "$j" 0 receive end) - $(span "$j" 0 receive start) ))
[ "$receive" -lt 10000 ] || fail "receiving 1 KB took $receive us of a 50 ms fetch"
request=$(span "$j" 0 connect end)
admitted=$(rv "$j" '.server.in_service_samples[] | select(.[1] == 1) | .[0]' | head -1)
[ "$((admitted - request))" -lt 10000 ] || fail "the server saw the request $((admitted - request)) us after it was sent"
queued=$(( $(span "$j" 0 queued end) - $(span "$j" 0 queued start) ))
[ "$queued" -gt 0 ] || fail "the wait for libcurl's start is not shown as queued"

# --max-connections: reused connections report a name lookup but no connect
# time; no span may end before it starts, and phases follow each other.
j="$SCRATCH/reuse.json"
fb --tasks 100 --mode nolock --max-connections 1 --delay-ms 1 --quiet > "$j"
validate "$j"
expect_eq "spans ending before they start" \
    "$(rv "$j" '[.tasks[] | select(any(.spans[]; .[2] < .[1]))] | length')" 0
expect_eq "phases out of order" "$(rv "$j" '[.tasks[] | [.spans[] | select(.[0] | IN("queued","dns","connect","request","server_queue","in_service","receive"))]
    | select(length > 1) | select([range(1; length) as $i | .[$i][1] == .[$i - 1][2]] | all | not)] | length')" 0
expect_eq "one connection" "$(rv "$j" .summary.peak_connections)" 1

# A failed lookup: libcurl does not update a failed transfer's total time,
# so its phases are anchored at libcurl's first call. The dns span must
# still cover its resolver thread's whole life.
j="$SCRATCH/noresolve.json"
# In lock mode the three lookups follow each other: one thread, one span.
set +e; fb --tasks 3 --mode lock --quiet --url http://no-such-host.invalid/ > "$j"; set -e
validate "$j"
expect_eq "dns spans covering their resolver thread" "$(rv "$j" '
    [.threads.lifetimes[] as $l | .tasks[] | .spans[] | select(.[0] == "dns")
     | select(.[1] <= $l.start_us and .[2] >= $l.end_us)] | length')" 3
