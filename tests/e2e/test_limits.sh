# Resource limits: more sockets than the open-file limit allows, huge N.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# nolock with 5,000 tasks under a soft limit of 1024: fetchbench raises the
# soft limit to the hard one and says so.
(ulimit -Sn 1024; fb --tasks 5000 --mode nolock --delay-ms 100 --capacity 5000 > "$SCRATCH/soft.json" 2> "$SCRATCH/soft.err")
# (valgrind keeps descriptors and a limit of its own: only the counts hold there.)
[ -n "$TEST_PREFIX" ] || grep -q "raised the open-file limit from 1024" "$SCRATCH/soft.err" \
    || fail "no word of the raise: $(cat "$SCRATCH/soft.err")"
expect_eq "soft limit: all fetched" "$(rv "$SCRATCH/soft.json" '[.tasks[] | select(.outcome == "fetched")] | length')" 5000
expect_eq "soft limit: no errors" "$(rv "$SCRATCH/soft.json" .summary.errors.total)" 0

# Beyond the hard limit, fetches queue for a slot instead of failing.
(ulimit -n 1024; fb --tasks 5000 --mode nolock --delay-ms 100 --capacity 5000 --quiet > "$SCRATCH/hard.json")
j=$SCRATCH/hard.json
validate "$j"
expect_eq "hard limit: all fetched" "$(rv $j '[.tasks[] | select(.outcome == "fetched")] | length')" 5000
expect_eq "hard limit: no errors" "$(rv $j .summary.errors.total)" 0
peak=$(rv $j .summary.peak_connections)
[ "$peak" -lt 1024 ] || fail "peak connections $peak not below the limit"
queued=$(rv $j '[.tasks[] | select(any(.spans[]; .[0] == "queued"))] | length')
[ "$queued" -gt 0 ] || fail "no fetch waited for a slot"

# A lock run of 200,000 tasks: one fetch, the rest hit, nothing lost.
fb --tasks 200000 --mode lock --delay-ms 10 --quiet > "$SCRATCH/big.json"
expect_eq "200k: one request" "$(rv "$SCRATCH/big.json" .summary.upstream_requests)" 1
expect_eq "200k: hits" "$(rv "$SCRATCH/big.json" .summary.cache_hits)" 199999
expect_eq "200k: tasks listed" "$(rv "$SCRATCH/big.json" '.tasks | length')" 200000

# Too many tasks for memory is an error, not a crash. (Sanitizers reserve
# terabytes of address space, so a -v limit says nothing about them.)
[ -n "${FB_SANITIZED:-}" ] && exit 0
(ulimit -v 400000; expect_exit 1 fb --tasks 100000000 --delay-ms 0 --quiet > /dev/null 2> "$SCRATCH/oom.err")
grep -q "out of memory" "$SCRATCH/oom.err" || fail "$(cat "$SCRATCH/oom.err")"
