# xfetch (probabilistic early recomputation) against nolock on the same
# seeded workload: one key, steady Poisson arrivals, a TTL. Counts only,
# with wide margins. XFETCH_MODE=nolock runs the suite with nolock in
# xfetch's place, and it must fail (the proof that it tests something).
. "$FB_ROOT/tests/e2e/lib.sh"
MODE=${XFETCH_MODE:-xfetch}

# fetches.py REPORT: per run, from the tasks' spans, "F MISSES OVERLAP
# EARLY": F the end of the first fetch stored (the first `fetched` task),
# MISSES the fetches after F by tasks that found the entry expired (not in
# an early_refresh), OVERLAP the most fetches of the key in flight at once
# after F, EARLY the tasks that refreshed early.
cat > "$SCRATCH/fetches.py" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
fetch = {s["name"] for s in rep["vocabulary"]["states"] if s["fetch"]}
for run in rep["runs"]:
    ends = [t["end_us"] for t in run["tasks"] if t["outcome"] == "fetched"]
    first = min(ends)
    ivs, early = [], 0
    for t in run["tasks"]:
        spans = t.get("spans", [])
        is_early = any(s[0] == "early_refresh" for s in spans)
        early += is_early
        cur = None
        for name, a, b in spans:
            if name not in fetch:
                continue
            if cur is None or name == "queued" or a != cur[1]:
                if cur:
                    ivs.append(cur)
                cur = [a, b, is_early]
            else:
                cur[1] = b
        if cur:
            ivs.append(cur)
    after = [iv for iv in ivs if iv[0] >= first]
    edges = sorted([(a, 1) for a, _, _ in after] + [(b, -1) for _, b, _ in after])
    n = top = 0
    for _, d in edges:
        n += d
        top = max(top, n)
    print(first, sum(1 for iv in after if not iv[2]), top, early)
EOF
facts() { /usr/bin/python3 "$SCRATCH/fetches.py" "$1"; }

### Early refresh: at each expiry nolock's crowd misses and fetches at once;
# xfetch has usually refreshed the key before, so (after the first fill,
# which both stampede) few tasks find it expired and few fetches overlap.
work="--keys 1 --rate 400 --duration 2 --ttl-ms 300 --delay-ms 100 --seed 7 --quiet"
fb $work --mode "$MODE" --trace "$SCRATCH/x.trace.json" > "$SCRATCH/x.json" || fail "$MODE run failed"
fb $work --mode nolock > "$SCRATCH/n.json" || fail "nolock run failed"
validate "$SCRATCH/x.json"
validate "$SCRATCH/n.json"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/x.trace.json" "$SCRATCH/x.json" || fail "$MODE trace"
expect_eq "same plan" "$(jq -c '.runs[0].tasks | map(.arrival_us)' "$SCRATCH/x.json")" \
    "$(jq -c '.runs[0].tasks | map(.arrival_us)' "$SCRATCH/n.json")"
set -- $(facts "$SCRATCH/x.json"); x_miss=$2 x_top=$3 x_early=$4
set -- $(facts "$SCRATCH/n.json"); n_miss=$2 n_top=$3
echo "after the first fill: $MODE misses $x_miss, at once $x_top, early $x_early; nolock misses $n_miss, at once $n_top"
[ "$n_miss" -ge 40 ] && [ "$n_top" -ge 10 ] || fail "nolock did not stampede ($n_miss misses, $n_top at once): the workload is wrong"
early=$(jqv "$SCRATCH/x.json" '.runs[0].summary.counters.early_refreshes // 0')
[ "$early" -gt 0 ] || fail "no early refresh counted"
expect_eq "tasks in early_refresh = counter" "$x_early" "$early"
[ $((x_miss * 4)) -le "$n_miss" ] || fail "$MODE: $x_miss tasks found the entry expired, nolock $n_miss: not 4x fewer"
[ $((x_top * 2)) -le "$n_top" ] || fail "$MODE: $x_top fetches at once, nolock $n_top: not 2x fewer"
# Every early refresh fetched and stored (no faults): fetched = all fetches.
expect_eq "fetched = upstream" "$(jqv "$SCRATCH/x.json" '.runs[0].summary | .outcomes.fetched == .upstream_requests')" true
expect_eq "no errors" "$(jqv "$SCRATCH/x.json" '.runs[0].summary.errors.total')" 0
echo "ok: early refresh"

### beta 0 never recomputes early: xfetch takes nolock's path step for step
# (no draw). The counts agree only roughly: how many tasks fall into each
# expiry's stampede depends on how long that run's refill took.
work0="--keys 1 --rate 400 --duration 1.5 --ttl-ms 300 --delay-ms 100 --seed 7 --beta 0 --quiet"
fb $work0 --mode "$MODE" > "$SCRATCH/x0.json" || fail "$MODE --beta 0 failed"
fb $work0 --mode nolock > "$SCRATCH/n0.json" || fail "nolock --beta 0 failed"
validate "$SCRATCH/x0.json"
expect_eq "early refreshes at beta 0" "$(jqv "$SCRATCH/x0.json" '.runs[0].summary.counters.early_refreshes')" 0
x_up=$(jqv "$SCRATCH/x0.json" '.runs[0].summary.upstream_requests')
n_up=$(jqv "$SCRATCH/n0.json" '.runs[0].summary.upstream_requests')
echo "beta 0: upstream $MODE $x_up, nolock $n_up"
[ $((x_up * 4)) -ge $((n_up * 3)) ] && [ $((x_up * 3)) -le $((n_up * 4)) ] \
    || fail "beta 0: $x_up upstream requests, nolock $n_up: not within 25%"
echo "ok: beta 0"

### No TTL: a value never expires, so nothing is ever early; one fill per
# stampede, then hits (the hit path draws nothing).
fb --keys 3 --tasks 60 --rate 2000 --delay-ms 50 --seed 3 --mode "$MODE" --quiet > "$SCRATCH/forever.json" \
    || fail "no-TTL run failed"
validate "$SCRATCH/forever.json"
expect_eq "no early refresh without a TTL" \
    "$(jqv "$SCRATCH/forever.json" '.runs[0].summary.counters.early_refreshes')" 0
echo "ok: no TTL"
