# The experiment end to end against the embedded server: counts and orders,
# never absolute times.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first (here: only) run.
rv() { jq -r ".runs[0] | $2" "$1"; }

# nolock: a stampede. Every task misses and fetches; every fetch resolves the
# host name on its own resolver thread.
fb --tasks 20 --mode nolock --delay-ms 200 --quiet > "$SCRATCH/nolock.json"
validate "$SCRATCH/nolock.json"
j=$SCRATCH/nolock.json
expect_eq "nolock server requests" "$(rv $j .summary.server_requests)" 20
expect_eq "nolock upstream requests" "$(rv $j .summary.upstream_requests)" 20
expect_eq "nolock fetched tasks" "$(rv $j '[.tasks[] | select(.outcome == "fetched")] | length')" 20
expect_eq "nolock cache misses" "$(rv $j .summary.cache_misses)" 20
expect_eq "nolock errors" "$(rv $j .summary.errors.total)" 0
# One mode, once: one run, every task listed in arrival order with its key.
# Without workload flags: one key, all tasks arrive at once, seed 1.
expect_eq "runs" "$(jqv $j '[.runs[] | [.mode, .repeat]]' | tr -d ' \n')" '[["nolock",0]]'
expect_eq "config.modes" "$(jqv $j '.config.modes' | tr -d ' \n')" '["nolock"]'
expect_eq "default workload" "$(jqv $j '.config.workload | [.seed, .keys, .zipf, .arrival, .rate_per_s, .duration_ms, .ttl_ms]' | tr -d ' \n')" \
    '[1,1,null,"gather",null,null,null]'
expect_eq "ids are indices, one key, all at t0" \
    "$(rv $j '[.tasks | to_entries[] | select(.key != .value.id or .value.key != 0 or .value.arrival_us != 0)] | length')" 0
expect_eq "summary.tasks" "$(rv $j .summary.tasks)" 20
expect_eq "outcomes" "$(rv $j '.summary.outcomes | [.fetched, .cache_hit, ([.[]] | add)]' | tr -d ' \n')" '[20,0,20]'
expect_eq "per key" "$(rv $j '.keys | [.tasks, .upstream_requests]' | tr -d ' \n')" '[[20],[20]]'
# Where the machine's name does not resolve to a loopback address,
# fetchbench falls back to localhost, which libcurl answers without a thread.
resolved_host=$(jqv $j .config.host_resolved)
if [ "$resolved_host" = true ]; then
    [ "$(jqv $j .config.host)" = "$(hostname)" ] || fail "host is not the machine's name"
    min_threads=1 lock_threads=1
else
    echo "note: $(hostname) does not resolve to loopback; fell back to $(jqv $j .config.host)"
    expect_eq "fallback host" "$(jqv $j .config.host)" localhost
    min_threads=0 lock_threads=0
fi
resolved=$(rv $j '[.tasks[] | select(any(.spans[]; .[0] == "dns" and .[2] > .[1]))] | length')
created=$(rv $j .summary.threads_created)
[ "$created" -ge "$resolved" ] || fail "threads created $created < fetches that resolved $resolved"
[ "$created" -ge "$min_threads" ] || fail "no resolver thread recorded"
expect_eq "thread lifetimes listed" "$(rv $j '.threads.lifetimes | length')" "$created"
expect_eq "thread samples end at the baseline" "$(rv $j '.threads.samples[-1][1]')" "$(rv $j .threads.baseline)"
peak=$(rv $j '[.threads.samples[][1]] | max')
expect_eq "peak threads is the samples' max" "$(rv $j .summary.peak_threads)" "$peak"
expect_eq "one connection per fetch" "$(rv $j .summary.peak_connections)" 20

# lock: one fetch; the rest wait, then hit the cache.
fb --tasks 20 --mode lock --delay-ms 200 --quiet > "$SCRATCH/lock.json"
validate "$SCRATCH/lock.json"
j=$SCRATCH/lock.json
expect_eq "lock server requests" "$(rv $j .summary.server_requests)" 1
expect_eq "lock upstream requests" "$(rv $j .summary.upstream_requests)" 1
expect_eq "lock cache hits" "$(rv $j .summary.cache_hits)" 19
expect_eq "lock: task 0 fetched" "$(rv $j '.tasks[0].outcome')" fetched
expect_eq "lock: the others hit" "$(rv $j '[.tasks[1:][] | select(.outcome == "cache_hit")] | length')" 19
expect_eq "lock: one resolver thread" "$(rv $j .summary.threads_created)" "$lock_threads"
# The lock is handed from task 0 to each waiter in turn.
expect_eq "lock hand-offs" "$(rv $j .summary.counters.lock_handoffs)" 19
# Every other task's wait for the lock ends after task 0's fetch ends...
fetch_end=$(rv $j '[.tasks[0].spans[] | select(.[0] == "receive")][0][2]')
early=$(rv $j "[.tasks[1:][] | .spans[] | select(.[0] == \"lock_wait\" and .[2] < $fetch_end)] | length")
expect_eq "lock waits that ended before the fetch did" "$early" 0
# ...and the waiters get the lock in spawn order (FIFO).
order=$(rv $j '[.tasks[] | .spans[] | select(.[0] == "lock_held") | .[1]] | . == sort')
expect_eq "lock granted in FIFO order" "$order" true

# The contrast: against a backend serving 8 at a time, 20 unlocked fetches
# take three waves; the locked run takes one.
fb --tasks 20 --mode nolock --capacity 8 --delay-ms 300 --quiet > "$SCRATCH/n8.json"
fb --tasks 20 --mode lock --capacity 8 --delay-ms 300 --quiet > "$SCRATCH/l8.json"
validate "$SCRATCH/n8.json"
validate "$SCRATCH/l8.json"
n=$(rv "$SCRATCH/n8.json" .summary.wall_us)
l=$(rv "$SCRATCH/l8.json" .summary.wall_us)
[ "$n" -ge $((l * 5 / 2)) ] || fail "nolock wall $n us is not 2.5x lock wall $l us"
expect_eq "capacity 8: server never served more" "$(rv "$SCRATCH/n8.json" .server.max_in_service)" 8
expect_eq "capacity 8: the rest queued" "$(rv "$SCRATCH/n8.json" .server.max_queued)" 12

# One task is the lock's trivial case.
fb --tasks 1 --mode lock --delay-ms 0 --quiet > "$SCRATCH/one.json"
validate "$SCRATCH/one.json"
expect_eq "one task fetches" "$(rv "$SCRATCH/one.json" '.tasks[0].outcome')" fetched

# --output writes the file atomically: nothing else is left beside it.
mkdir "$SCRATCH/out"
fb --tasks 3 --delay-ms 0 --quiet --output "$SCRATCH/out/run.json" > "$SCRATCH/stdout"
validate "$SCRATCH/out/run.json"
expect_eq "stdout with --output" "$(wc -c < "$SCRATCH/stdout")" 0
expect_eq "files in the output directory" "$(ls "$SCRATCH/out" | wc -l)" 1

# The human summary goes to stderr, and --quiet silences it.
fb --tasks 2 --delay-ms 0 > /dev/null 2> "$SCRATCH/err"
grep -q "upstream requests 1" "$SCRATCH/err" || fail "no summary on stderr: $(cat "$SCRATCH/err")"
fb --tasks 2 --delay-ms 0 --quiet > /dev/null 2> "$SCRATCH/err"
expect_eq "stderr with --quiet" "$(wc -c < "$SCRATCH/err")" 0

# An IP literal never goes through the resolver: no thread at all.
start_server
fb --tasks 5 --mode nolock --url "$SERVER_URL/delay/0" --quiet > "$SCRATCH/ip.json"
expect_eq "IP literal: not resolved" "$(jqv "$SCRATCH/ip.json" .config.host_resolved)" false
expect_eq "IP literal: no thread" "$(rv "$SCRATCH/ip.json" .summary.threads_created)" 0
expect_eq "IP literal: 5 requests" "$(rv "$SCRATCH/ip.json" .summary.upstream_requests)" 5

# The /proc cross-check: sampled by default, off with --proc-sample-ms 0.
n=$(rv "$SCRATCH/n8.json" '.threads.proc_samples | length')
[ "$n" -ge 2 ] || fail "only $n /proc samples in a 900 ms run"
expect_eq "samples see the main thread" "$(rv "$SCRATCH/n8.json" '[.threads.proc_samples[][1] | select(. < 1)] | length')" 0
fb --tasks 2 --delay-ms 50 --proc-sample-ms 0 --quiet > "$SCRATCH/nosample.json"
expect_eq "no samples when off" "$(rv "$SCRATCH/nosample.json" '.threads | has("proc_samples")')" false
