# The pictures of issue 13 on real runs: the lock run's hand-off cascade gets
# a close-up of its own with one arrow per hand-off (19 for 20 tasks), the
# capacity-8 no-lock run's server lane draws the requests queued at the
# server, a sub-millisecond run's time axis is in µs or ms (not "0.000 s"),
# the legend lists only the states the run has, and --sweep draws runs of
# two delays as two lines.
# The hand-offs and the server's queue are fetchbench's own (waited_on,
# server_queue spans, server.queued_samples), never made up here.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
TIMELINE=$FB_ROOT/scripts/plot-timeline
COMPARE=$FB_ROOT/scripts/plot-compare
$PY -c 'import matplotlib, numpy' 2>/dev/null \
    || { echo "skip: $PY lacks matplotlib (run scripts/setup)"; exit 0; }

# ids SVG PREFIX: how many elements have an id starting with PREFIX.
ids() { grep -o "id=\"$2[^\"]*\"" "$1" | wc -l | tr -d ' '; }

# --- the hand-off cascade ---------------------------------------------------
fb --tasks 20 --mode lock --delay-ms 200 --quiet >"$SCRATCH/lock.json"
validate "$SCRATCH/lock.json"
expect_eq "hand-offs in lock.json" \
    "$(jqv "$SCRATCH/lock.json" '[.runs[0].tasks[] | select(.waited_on.kind == "handoff")] | length')" 19
"$TIMELINE" "$SCRATCH/lock.json" -o "$SCRATCH/lock.svg"
"$TIMELINE" "$SCRATCH/lock.json" -o "$SCRATCH/lock.png"
[ "$(ids "$SCRATCH/lock.svg" closeup-hand-offs)" = 1 ] || fail "lock.svg: no hand-off close-up"
grep -q '>hand-offs: [0-9.]*–[0-9.]* [µm]s<' "$SCRATCH/lock.svg" \
    || fail "lock.svg: the hand-off close-up's title does not give its range"
grep -q '>start: 0' "$SCRATCH/lock.svg" || fail "lock.svg: no close-up of the start"
expect_eq "hand-off arrows in lock.svg" "$(ids "$SCRATCH/lock.svg" link-handoff-)" 19
grep -q '>lock handed over (release → grant)<' "$SCRATCH/lock.svg" \
    || fail "lock.svg: the hand-off arrows are not in the legend"
! grep -q '>result shared' "$SCRATCH/lock.svg" || fail "lock.svg: a link kind it lacks is in the legend"
# each row's total wait and outcome, right of the rows
expect_eq "row labels in lock.svg" "$(ids "$SCRATCH/lock.svg" row-label-)" 20
grep -q '>[0-9.]* ms wait · cache hit<' "$SCRATCH/lock.svg" || fail "lock.svg: no waiter's label"
echo "ok: the lock run's hand-off close-up with 19 arrows"

# --- the server's queue -----------------------------------------------------
fb --tasks 20 --mode nolock --delay-ms 150 --capacity 8 --quiet >"$SCRATCH/nolock.json"
validate "$SCRATCH/nolock.json"
expect_eq "the server's queue in nolock.json" \
    "$(jqv "$SCRATCH/nolock.json" '[.runs[0].server.queued_samples[][1]] | max > 0')" true
expect_eq "server_queue spans in nolock.json" \
    "$(jqv "$SCRATCH/nolock.json" '[.runs[0].tasks[].spans[] | select(.[0] == "server_queue")] | length > 0')" true
"$TIMELINE" "$SCRATCH/nolock.json" -o "$SCRATCH/nolock.svg"
"$TIMELINE" "$SCRATCH/nolock.json" -o "$SCRATCH/nolock.png"
[ "$(ids "$SCRATCH/nolock.svg" server-queued)" -ge 1 ] || fail "nolock.svg: no queued series"
grep -q '>queued (on top)<' "$SCRATCH/nolock.svg" || fail "nolock.svg: the queued series is not labelled"
grep -q '>server queue (waiting for a slot)<' "$SCRATCH/nolock.svg" \
    || fail "nolock.svg: no server_queue state in the legend"
# the legend lists only the states present: no lock, no cache hit here
for s in 'lock wait' 'lock held' 'cache hit'; do
    ! grep -q ">$s<" "$SCRATCH/nolock.svg" || fail "nolock.svg: '$s' in the legend"
done
! grep -q '>server queue' "$SCRATCH/lock.svg" || fail "lock.svg: server queue in the legend"
[ "$(ids "$SCRATCH/nolock.svg" link-)" = 0 ] || fail "nolock.svg: links drawn for a run without"
# compare: both runs' thread and server lanes
"$COMPARE" "$SCRATCH/lock.json" "$SCRATCH/nolock.json" -o "$SCRATCH/compare.svg"
expect_eq "creation lanes in compare.svg" "$(ids "$SCRATCH/compare.svg" thread-creation-note)" 2
[ "$(ids "$SCRATCH/compare.svg" server-queued)" -ge 1 ] || fail "compare.svg: no queued series"
echo "ok: the server lane's queued series"

# --- a sub-millisecond run: µs or ms, never "0.000 s" ------------------------
jq '.runs[0] |= (.summary.wall_us = 400 | .tasks |= map(.end_us = ([.end_us, 400] | min)
    | .spans |= map([.[0], ([.[1], 380] | min), ([.[2], 400] | min)]))
    | .threads.lifetimes |= map(.start_us = 10 | .end_us = 60)
    | .threads.samples = [[0, 1], [10, 2], [60, 1]] | .server.in_service_samples = [[50, 1], [390, 0]])
    | del(.runs[0].server.queued_samples)' "$SCRATCH/nolock.json" >"$SCRATCH/short.json"
"$TIMELINE" "$SCRATCH/short.json" -o "$SCRATCH/short.svg"
grep -q '>time since start (µs)<' "$SCRATCH/short.svg" || fail "short.svg: the axis is not in µs"
! grep -q 'time since start (s)<' "$SCRATCH/short.svg" || fail "short.svg: a seconds axis"
! grep -q '0\.000 s' "$SCRATCH/short.svg" || fail "short.svg: '0.000 s' in the text"
grep -q 'wall 0.4 ms' "$SCRATCH/short.svg" || fail "short.svg: the title's wall is not in ms"
echo "ok: a 0.4 ms run in µs"

# --- --sweep: two delays are two lines ----------------------------------------
for d in 20 60; do
    for n in 1 4; do
        fb --tasks $n --mode nolock --delay-ms $d --quiet >"$SCRATCH/sweep-$d-$n.json"
    done
done
"$COMPARE" --sweep "$SCRATCH"/sweep-*.json -o "$SCRATCH/sweep.svg"
"$COMPARE" --sweep "$SCRATCH"/sweep-*.json -o "$SCRATCH/sweep.png"
# three metrics, a line per delay in each
expect_eq "sweep lines" "$(ids "$SCRATCH/sweep.svg" sweep-line)" 6
grep -q '>nolock, delay 20 ms<' "$SCRATCH/sweep.svg" || fail "sweep.svg: the lines are not labelled"
# one task count per delay: a labelled point each, never a line joining them
"$COMPARE" --sweep "$SCRATCH/sweep-20-1.json" "$SCRATCH/sweep-60-4.json" -o "$SCRATCH/points.svg"
expect_eq "sweep points" "$(ids "$SCRATCH/points.svg" sweep-line)" 6
grep -q '>nolock, delay 60 ms<' "$SCRATCH/points.svg" || fail "points.svg: the points are not labelled"
echo "ok: --sweep splits by delay"
