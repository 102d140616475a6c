# --warmup W: W runs of each mode first, interleaved like --repeat, not in
# the report (runs, repeats, verdicts) -- but the server saw them. A
# fetchbench serve that outlives the runs counts every request.
. "$FB_ROOT/tests/e2e/lib.sh"
export LC_ALL=C.UTF-8 # ± and … (the C locale's ASCII is checked apart)

start_server
url="$SERVER_URL/delay/50/url/{key}"
stats() { curl -s "$SERVER_URL/stats" | jq -r .requests; }

before=$(stats)
expect_exit 0 fb --url "$url" --backend-stats "$SERVER_URL/stats" --tasks 3 --mode lock,nolock --warmup 2 \
    --expect 'upstream_requests>=1' > "$SCRATCH/w.json" 2> "$SCRATCH/err"
validate "$SCRATCH/w.json" fetchbench/2
expect_eq "config.warmup" "$(jqv "$SCRATCH/w.json" .config.warmup)" 2
expect_eq "recorded runs" "$(jqv "$SCRATCH/w.json" '[.runs[] | "\(.mode)/\(.repeat)"] | join(",")')" "lock/0,nolock/0"
expect_eq "each run's own server count" "$(jqv "$SCRATCH/w.json" '[.runs[].summary.server_requests] | join(",")')" "1,3"
expect_eq "no repeats" "$(jqv "$SCRATCH/w.json" '.repeats // "none"')" none
expect_eq "verdicts: recorded runs only" "$(jqv "$SCRATCH/w.json" '.expectations | length')" 2
# 2 warm-up rounds of lock (1) and nolock (3), then the recorded ones.
expect_eq "the server saw the warm-up" "$(($(stats) - before))" $((2 * (1 + 3) + 1 + 3))
expect_eq "said once" "$(grep -c 'warm-up' "$SCRATCH/err")" 1
grep -qx "fetchbench: warm-up: 2 runs of each mode, not recorded" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
expect_eq "summaries: recorded runs only" "$(grep -c '^fetchbench: 3 tasks, mode' "$SCRATCH/err")" 2
grep -q "warm-up" "$SCRATCH/err" && [ "$(grep -n 'warm-up' "$SCRATCH/err" | cut -d: -f1)" -lt \
    "$(grep -n '^fetchbench: 3 tasks' "$SCRATCH/err" | head -1 | cut -d: -f1)" ] || fail "warm-up said late"

# With --repeat: the warm-up comes before the repeats, which are all kept;
# one run of warm-up is singular; --quiet says nothing.
before=$(stats)
fb --url "$url" --backend-stats "$SERVER_URL/stats" --tasks 2 --mode nolock --warmup 1 --repeat 3 \
    > "$SCRATCH/r.json" 2> "$SCRATCH/err"
validate "$SCRATCH/r.json" fetchbench/2
expect_eq "repeats kept" "$(jqv "$SCRATCH/r.json" '[.runs[].repeat] | join(",")')" "0,1,2"
expect_eq "server saw" "$(($(stats) - before))" 8
grep -qx "fetchbench: warm-up: 1 run of each mode, not recorded" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
fb --tasks 2 --delay-ms 10 --warmup 1 --quiet > "$SCRATCH/q.json" 2> "$SCRATCH/err"
expect_eq "--quiet" "$(cat "$SCRATCH/err")" ""
expect_eq "embedded: one run" "$(jqv "$SCRATCH/q.json" '.runs | length')" 1
expect_eq "default warmup" "$(fb --tasks 1 --delay-ms 0 --quiet | jq .config.warmup)" 0
expect_exit 2 fb --warmup 1001 --tasks 1 > /dev/null 2>&1
expect_exit 2 fb --warmup x --tasks 1 > /dev/null 2>&1

# --repeat ends with hyperfine's block per mode: mean ± σ and range of the
# wall time, then the counts, each with the report's median.
fb --tasks 4 --delay-ms 20 --repeat 3 --mode lock,nolock > "$SCRATCH/rep.json" 2> "$SCRATCH/err"
for mode in lock nolock; do
    grep -qx "fetchbench: $mode over 3 runs" "$SCRATCH/err" || fail "no block for $mode: $(cat "$SCRATCH/err")"
done
sed -n '/^fetchbench: lock over 3 runs$/,/^fetchbench: nolock over/p' "$SCRATCH/err" > "$SCRATCH/lock"
grep -Eq '^  Time \(mean ± σ\): +[0-9.]+ ms ± +[0-9.]+ ms +median [0-9.]+ ms$' "$SCRATCH/lock" || fail "$(cat "$SCRATCH/lock")"
grep -Eq '^  Range \(min … max\): +[0-9.]+ ms … +[0-9.]+ ms$' "$SCRATCH/lock" || fail "$(cat "$SCRATCH/lock")"
grep -qx "  upstream requests  1 ± 0  (1 … 1)  median 1" "$SCRATCH/lock" || fail "$(cat "$SCRATCH/lock")"
grep -qx "  cache hits         3 ± 0  (3 … 3)  median 3" "$SCRATCH/lock" || fail "$(cat "$SCRATCH/lock")"
grep -qx "  upstream requests  4 ± 0  (4 … 4)  median 4" "$SCRATCH/err" || fail "nolock: $(cat "$SCRATCH/err")"
# The numbers are the runs': mean and median of the wall, in ms.
/usr/bin/python3 - "$SCRATCH/rep.json" "$SCRATCH/lock" <<'PY' || fail "the block's numbers are not the runs'"
import json, re, statistics, sys
walls = [r["summary"]["wall_us"] / 1e3 for r in json.load(open(sys.argv[1]))["runs"] if r["mode"] == "lock"]
m = re.search(r"Time \(mean ± σ\): +([0-9.]+) ms ± +([0-9.]+) ms +median ([0-9.]+) ms", open(sys.argv[2]).read())
mean, sd, med = map(float, m.groups())
assert abs(mean - statistics.mean(walls)) < 0.001, (mean, walls)
assert abs(sd - statistics.stdev(walls)) < 0.001, (sd, walls)
assert abs(med - sorted(walls)[1]) < 0.001, (med, walls)
PY
env LC_ALL=C $TEST_PREFIX "$FETCHBENCH" --tasks 2 --delay-ms 10 --repeat 2 > /dev/null 2> "$SCRATCH/err"
grep -Eq '^  Time \(mean \+/- sd\): ' "$SCRATCH/err" || fail "ASCII: $(cat "$SCRATCH/err")"
grep -qx "  upstream requests  1 +/- 0  (1 ... 1)  median 1" "$SCRATCH/err" || fail "ASCII: $(cat "$SCRATCH/err")"
