# scripts/plot-strategies and scripts/strategy-table on real reports of
# several strategies (lock, nolock and the test build's nap, --repeat 2):
# the picture is written as PNG and SVG with one titled panel per strategy
# and that run's own upstream count; the table has one row per strategy
# whose counts are the JSON's (the median of the repeats, with the range
# when the runs differ), timings with their range, CSV that parses;
# edge cases (a run without tasks, an interrupted report, eight strategies,
# a sub-millisecond run) draw cleanly; bad input is one line and exit 2.
# Issue 13 on real runs: a 4-key workload's rows grouped by key in order of
# popularity, the server's queue on the load lane, and a 20-task lock and
# singleflight report's hand-off and result arrows in their own panels.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
$PY -c 'import matplotlib, numpy' 2>/dev/null \
    || { echo "skip: $PY lacks matplotlib (run scripts/setup)"; exit 0; }
PLOT=$FB_ROOT/scripts/plot-strategies
TABLE=$FB_ROOT/scripts/strategy-table
: "${FETCHBENCH_TEST:=$(dirname "$FETCHBENCH")/fetchbench-test}"
[ -x "$FETCHBENCH_TEST" ] || fail "no test build at $FETCHBENCH_TEST (make $FETCHBENCH_TEST)"
fbt() { $TEST_PREFIX "$FETCHBENCH_TEST" "$@"; }

# clean CMD...: CMD exits 0 and writes nothing to stderr (no traceback, no
# matplotlib warning); its stdout is left in $SCRATCH/clean.out.
clean() {
    set +e; "$@" >"$SCRATCH/clean.out" 2>"$SCRATCH/clean.err"; rc=$?; set -e
    [ "$rc" -eq 0 ] || fail "'$*': exit $rc: $(cat "$SCRATCH/clean.err")"
    [ ! -s "$SCRATCH/clean.err" ] || fail "'$*' wrote to stderr: $(cat "$SCRATCH/clean.err")"
}

# expect_image FILE FORMAT: FILE is a non-trivial PNG or well-formed SVG.
expect_image() {
    [ -s "$1" ] || fail "$1 was not written"
    got=$($PY - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
data = open(sys.argv[1], "rb").read()
if data[:8] == b"\x89PNG\r\n\x1a\n":
    print("png" if len(data) > 20000 else "tiny png")
else:
    ET.fromstring(data)
    print("svg")
EOF
) || fail "$1: not an image"
    expect_eq "$1" "$got" "$2"
}

BAD=$SCRATCH/bad
mkdir "$BAD"
# expect_bad CMD...: exit 2, one line on stderr naming the script, nothing
# on stdout, nothing left in $BAD.
expect_bad() {
    set +e; "$@" >"$SCRATCH/bad.out" 2>"$SCRATCH/bad.err"; rc=$?; set -e
    err=$(cat "$SCRATCH/bad.err")
    [ "$rc" -eq 2 ] || fail "'$*': exit $rc, expected 2 (stderr: $err)"
    expect_eq "stderr lines of '$*'" "$(wc -l <"$SCRATCH/bad.err" | tr -d ' ')" 1
    case "$err" in
        plot-strategies:\ *|strategy-table:\ *) ;;
        *) fail "'$*': stderr does not start with the script's name: $err" ;;
    esac
    [ ! -s "$SCRATCH/bad.out" ] || fail "'$*' wrote to stdout"
    [ -z "$(ls -A "$BAD")" ] || fail "'$*' left files: $(ls -A "$BAD")"
    printf "ok (exit 2): %s\n" "$err"
}

# --- a real report: three strategies, two runs each ---------------------------
hot=$SCRATCH/hot.json
fbt --tasks 20 --mode lock,nolock,nap --repeat 2 --delay-ms 100 --capacity 8 -q -o "$hot"
validate "$hot"
expect_eq "modes" "$(jq -c '[.runs[].mode]' "$hot")" '["lock","nolock","nap","lock","nolock","nap"]'

clean "$PLOT" "$hot" -o "$SCRATCH/hot.png"
expect_image "$SCRATCH/hot.png" png
clean "$PLOT" "$hot" -o "$SCRATCH/hot.svg"
expect_image "$SCRATCH/hot.svg" svg
# a panel per strategy, titled with its median run's own upstream requests
# and stampede (the run of median wall time: the lower of two)
for mode in lock nolock nap; do
    fig=$(jq -r --arg m "$mode" '[.runs[] | select(.mode == $m)] | sort_by(.summary.wall_us)
        | .[0].summary | "\(.upstream_requests) upstream request\(if .upstream_requests == 1
          then "" else "s" end) · stampede \(.stampede_max)"' "$hot")
    grep -qF ">$mode · $fig · " "$SCRATCH/hot.svg" || fail "hot.svg: no panel '$mode · $fig'"
done
expect_eq "panels in hot.svg" "$(grep -c 'median of 2 runs' "$SCRATCH/hot.svg")" 3
grep -q '>backend load, every strategy<' "$SCRATCH/hot.svg" || fail "hot.svg: no load overlay"
grep -q '>time since start (ms)<' "$SCRATCH/hot.svg" || fail "hot.svg: a 0.1 s run not in ms"
grep -q '>lock wait<' "$SCRATCH/hot.svg" || fail "hot.svg: lock wait not in the legend"
grep -q '>nap (wait)<' "$SCRATCH/hot.svg" || fail "hot.svg: nap's own state not in the legend"
# --until cuts the shared axis, and each run that goes on past it says so
clean "$PLOT" "$hot" -o "$SCRATCH/cut.svg" --until 0.05
grep -q 'axis cut at 50 ms' "$SCRATCH/cut.svg" || fail "cut.svg: the cut not noted"
expect_eq "runs cut" "$(grep -c '>runs on to [0-9]* ms →<' "$SCRATCH/cut.svg")" 3
! grep -q 'axis cut' "$SCRATCH/hot.svg" || fail "hot.svg: cut with no run many times the median"
echo "ok: plot-strategies draws a panel per strategy with its own figures"

# --- the table: exact counts from the JSON -----------------------------------
# check_table FILE REPORT...: FILE (markdown) has one row per mode of each
# REPORT, in order, whose count cells are the report's figures: the median
# of the repeats (or the one run) and, when the runs differ, "(min–max)";
# timing cells the median in ms and, with repeats, a range.
check_table() {
    $PY - "$@" <<'EOF'
import json, re, sys
table, reports = sys.argv[1], sys.argv[2:]
lines = [l for l in open(table, encoding="utf-8") if l.startswith("| ")]
head = [c.strip() for c in lines[0].strip().strip("|").split("|")]
rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines[1:]]
want = []
for path in reports:
    doc = json.load(open(path))
    modes = list(dict.fromkeys(r["mode"] for r in doc["runs"]))
    for m in modes:
        runs = [r["summary"] for r in doc["runs"] if r["mode"] == m]
        if len(runs) > 1:
            rep = next(e for e in doc["repeats"] if e["mode"] == m)
            want.append((m, rep["median"], rep["min"], rep["max"], len(runs)))
        else:
            want.append((m, runs[0], runs[0], runs[0], 1))
if len(rows) != len(want):
    sys.exit(f"{len(rows)} rows, expected {len(want)}")
col = {h: i for i, h in enumerate(head)}
def path(s, p):
    for k in p.split("."):
        s = s[k]
    return s
for row, (mode, med, lo, hi, n) in zip(rows, want):
    if row[col["strategy"]] != mode:
        sys.exit(f"row {row}: expected strategy {mode}")
    for h, p in (("upstream", "upstream_requests"), ("server", "server_requests"),
                 ("stampede", "stampede_max"), ("waiters", "waiters"), ("tasks", "tasks"),
                 ("errors", "errors.total"), ("stale", "outcomes.stale")):
        exp = f"{path(med, p):,}"
        if path(lo, p) != path(hi, p):
            exp += f" ({path(lo, p):,}–{path(hi, p):,})"
        if row[col[h]] != exp:
            sys.exit(f"{mode} {h}: table says {row[col[h]]!r}, the JSON {exp!r}")
    shared = med["outcomes"]["shared"] + med["outcomes"]["shared_error"]
    if row[col["shared"]] != f"{shared:,}":
        sys.exit(f"{mode} shared: {row[col['shared']]!r}, expected {shared}")
    for h, p in (("p50 ms", "latency_us.p50"), ("p99 ms", "latency_us.p99")):
        m = re.fullmatch(r"([0-9.,]+)( \(([0-9.,]+)–([0-9.,]+)\))?", row[col[h]])
        if not m or (n > 1) != (m.group(2) is not None):
            sys.exit(f"{mode} {h}: {row[col[h]]!r} is not a time (with a range over repeats)")
        got, exp = float(m.group(1).replace(",", "")), path(med, p) / 1000
        if abs(got - exp) > 0.006 * exp:
            sys.exit(f"{mode} {h}: {got} ms, the JSON {exp} ms")
    w = row[col["waiters' p99 ms"]]
    if (med["waiter_latency_us"] is None) != (w == "–"):
        sys.exit(f"{mode}: waiters' p99 {w!r} but the JSON's is {med['waiter_latency_us']}")
EOF
}
clean "$TABLE" "$hot"
cp "$SCRATCH/clean.out" "$SCRATCH/hot.md"
cat "$SCRATCH/hot.md"
check_table "$SCRATCH/hot.md" "$hot" || fail "the table misreads hot.json"
grep -q '^| hot | lock | 20 | 1 | 1 | 1 | ' "$SCRATCH/hot.md" || fail "lock's row is not 20 tasks, 1 fetch"
grep -q '^Medians over 2 runs' "$SCRATCH/hot.md" || fail "the table does not say it shows medians"

# The check can fail: a table that took the first run in place of the
# median, or a count off by one, is caught.
jq '(.repeats[] | select(.mode == "nolock") | .median.upstream_requests) = 19
    | (.repeats[] | select(.mode == "nolock") | .min.upstream_requests) = 18' "$hot" \
    >"$SCRATCH/hot-edited.json"
clean "$TABLE" "$SCRATCH/hot-edited.json"
grep -q '^| hot-edited | nolock | 20 | 19 (18–20) | ' "$SCRATCH/clean.out" \
    || fail "the table does not take the median and range from repeats: $(cat "$SCRATCH/clean.out")"
if check_table "$SCRATCH/clean.out" "$hot" 2>/dev/null; then
    fail "check_table passed a table of other counts"
fi
echo "ok: the table's counts are the JSON's, its medians the repeats'"

# CSV: parses, one row per strategy, exact numbers, empty where none.
clean "$TABLE" --format csv --label "hot key" "$hot"
$PY - "$SCRATCH/clean.out" "$hot" <<'EOF' || fail "the CSV misreads hot.json"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
doc = json.load(open(sys.argv[2]))
reps = {e["mode"]: e for e in doc["repeats"]}
assert [r["strategy"] for r in rows] == ["lock", "nolock", "nap"], rows
for r in rows:
    e = reps[r["strategy"]]
    assert r["workload"] == "hot key" and r["runs"] == "2", r
    for k in ("upstream_requests", "stampede_max", "waiters", "server_requests"):
        for suffix, agg in (("", "median"), ("_min", "min"), ("_max", "max")):
            assert int(r[k + suffix]) == e[agg][k], (k, suffix, r[k + suffix], e[agg][k])
    assert r["p99_ms"] == f"{e['median']['latency_us']['p99'] / 1000:.3f}", r["p99_ms"]
    assert r["wall_s_max"] == f"{e['max']['wall_us'] / 1e6:.6f}", r["wall_s_max"]
    if e["median"]["waiter_latency_us"] is None:
        assert r["waiters_p99_ms"] == "", r
print("ok: CSV parses, exact")
EOF

# Several reports, labelled and not: one row per report and mode.
fbt --tasks 30 --mode nolock,lock --keys 3 --rate 300 --ttl-ms 50 --delay-ms 100 -q \
    -o "$SCRATCH/zipf.json"
validate "$SCRATCH/zipf.json"
clean "$TABLE" --label hot "$hot" "$SCRATCH/zipf.json"
check_table "$SCRATCH/clean.out" "$hot" "$SCRATCH/zipf.json" || fail "two reports misread"
expect_eq "rows of zipf" "$(grep -c '^| zipf | ' "$SCRATCH/clean.out")" 2
expect_eq "rows of hot" "$(grep -c '^| hot | ' "$SCRATCH/clean.out")" 3
echo "ok: two reports, one labelled, five rows"

# --- edge cases ------------------------------------------------------------
# A run without tasks (fetchbench never writes one, a hand-edited report may):
# an empty panel, dashes in the table.
jq '.runs[1] |= (.tasks = [] | .summary.tasks = 0 | del(.summary.latency_us)
    | .summary.waiter_latency_us = null)' "$SCRATCH/zipf.json" >"$SCRATCH/empty-run.json"
clean "$PLOT" "$SCRATCH/empty-run.json" -o "$SCRATCH/empty-run.svg"
grep -q '>no tasks in this run<' "$SCRATCH/empty-run.svg" || fail "no empty panel"
clean "$TABLE" "$SCRATCH/empty-run.json"
grep -q '^| empty-run | lock | 0 | [0-9]* | [0-9]* | [0-9]* | – | – | ' "$SCRATCH/clean.out" \
    || fail "a run without tasks: $(cat "$SCRATCH/clean.out")"

# An interrupted report: the first mode cut short, the second never run.
# (the binary itself in the background: a shell function there would be a
# subshell, and a background job of a script ignores SIGINT)
$TEST_PREFIX "$FETCHBENCH_TEST" --tasks 60 --rate 50 --mode nolock,lock --delay-ms 300 -q \
    -o "$SCRATCH/int.json" &
pid=$!
sleep 0.6
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "exit of the interrupted run" "$rc" 130
expect_eq "interrupted" "$(jqv "$SCRATCH/int.json" .interrupted)" true
clean "$PLOT" "$SCRATCH/int.json" -o "$SCRATCH/int.svg"
grep -q 'INTERRUPTED' "$SCRATCH/int.svg" || fail "int.svg: not marked interrupted"
clean "$TABLE" "$SCRATCH/int.json"
grep -q '^| int | nolock (interrupted) | 60 | ' "$SCRATCH/clean.out" || fail "not marked interrupted"
if [ "$(jq '.runs | length' "$SCRATCH/int.json")" = 1 ]; then
    grep -q '^| int | lock (not run) | – |' "$SCRATCH/clean.out" || fail "lock not named as not run"
    grep -q 'not run: lock' "$SCRATCH/int.svg" || fail "int.svg: lock not named as not run"
fi

# Eight strategies (the report's modes renamed: the scripts know no list),
# one strategy, and a sub-millisecond run on a millisecond axis.
jq '.runs as $r | .config.modes = ["s1","s2","s3","s4","s5","s6","s7","s8"]
    | .runs = [range(8) as $i | $r[$i % 2] | .mode = "s\($i + 1)"] | del(.repeats)' \
    "$SCRATCH/zipf.json" >"$SCRATCH/eight.json"
clean "$PLOT" "$SCRATCH/eight.json" -o "$SCRATCH/eight.svg"
expect_eq "panels in eight.svg" "$(grep -c '>s[1-8] · [0-9]* upstream' "$SCRATCH/eight.svg")" 8
clean "$PLOT" "$SCRATCH/eight.json" -o "$SCRATCH/eight.png"
expect_image "$SCRATCH/eight.png" png
fbt --tasks 3 --mode nolock --delay-ms 0 -q -o "$SCRATCH/fast.json"
clean "$PLOT" "$SCRATCH/fast.json" -o "$SCRATCH/fast.svg" --title 'one $x$ strategy'
grep -q '>time since start ([µm]s)<' "$SCRATCH/fast.svg" || fail "fast.svg: not in µs or ms"
grep -qF '>one $x$ strategy<' "$SCRATCH/fast.svg" || fail "fast.svg: --title not drawn as text"
echo "ok: no tasks, interrupted, eight strategies, one, sub-millisecond"

# --- issue 13: keys, who waited on whom, the server's queue -------------------
# A 4-key Zipf workload under keylock, singleflight and nolock: each panel's
# rows are grouped by key, the most asked-for key first (ties: the key asked
# for first), each key a band (id panelP-key-K) labelled "key K" and its
# task count; the load lane stacks the server's queue when the report has it.
keys=$SCRATCH/keys.json
fb --tasks 40 --keys 4 --zipf 1.2 --mode keylock,singleflight,nolock --delay-ms 150 \
    --capacity 8 -q -o "$keys"
validate "$keys"
clean "$PLOT" "$keys" -o "$SCRATCH/keys.svg"
clean "$PLOT" "$keys" -o "$SCRATCH/keys.png"
expect_image "$SCRATCH/keys.png" png
# groups KEYS_JSON I: run I's keys, the most tasks first (ties: the key of the
# lowest task id), one "key K N tasks" line each
groups() {
    jq -r --argjson i "$2" '.runs[$i] | [.tasks | sort_by(.id) | to_entries[]
        | {k: .value.key, i: .key}] | group_by(.k) | sort_by(-length, .[0].i)[]
        | "key \(.[0].k) \(length) task\(if length == 1 then "" else "s" end)"' "$1"
}
[ "$(groups "$keys" 0 | wc -l)" -ge 3 ] || fail "keys.json: fewer than 3 keys asked for"
# each panel's first label is its hot key, with its task count (thin bands
# of cold keys share one bracket, so only the first is sure to be labelled)
# (the workload is the same in every panel: so is its hot key)
hot_key=$(groups "$keys" 0 | head -1)
got=$(grep -o '>key [0-9]*<\|>[0-9,]* tasks<' "$SCRATCH/keys.svg" | tr -d '<>' | paste -d' ' - -)
expect_eq "first key label in keys.svg" "$(echo "$got" | head -1)" "$hot_key"
expect_eq "panels labelling the hot key" "$(echo "$got" | grep -c "^$hot_key\$")" 3
for i in 0 1 2; do
    expect_eq "key bands of panel $i" "$(grep -o "id=\"panel$i-key-[0-9]*\"" "$SCRATCH/keys.svg" \
        | sed 's/.*-key-//; s/"//' | tr '\n' ' ')" \
        "$(groups "$keys" $i | awk '{printf "%s ", $2}')"
done
grep -q 'rows grouped by key, the most asked-for first' "$SCRATCH/keys.svg" \
    || fail "keys.svg: the grouping is not noted"
# the server's queue: nolock's lane says its peak, from the JSON, and draws it
q=$(jq '.runs[2].server.queued_samples | map(.[1]) | max' "$keys")
[ "$q" -gt 0 ] || fail "nolock at capacity 8 queued nothing at the server"
grep -q ">server: peak 8 in service, $q queued<" "$SCRATCH/keys.svg" \
    || fail "keys.svg: nolock's lane does not give its $q queued"
# a series for each run whose server queued something, none for the others
expect_eq "queued series in keys.svg" "$(grep -c 'id="server-queued"' "$SCRATCH/keys.svg")" \
    "$(jq '[.runs[] | select((.server.queued_samples | map(.[1]) | max) > 0)] | length' "$keys")"
grep -q '>queued at the server (on top)<' "$SCRATCH/keys.svg" || fail "keys.svg: queue not in the legend"
# --group spawn keeps spawn order; a report without the queue keeps the load lane
clean "$PLOT" "$keys" -o "$SCRATCH/spawn.svg" --group spawn
! grep -q 'id="panel[0-9]-key-' "$SCRATCH/spawn.svg" || fail "spawn.svg: grouped by key"
jq 'del(.runs[].server.queued_samples)' "$keys" >"$SCRATCH/noqueue.json"
clean "$PLOT" "$SCRATCH/noqueue.json" -o "$SCRATCH/noqueue.svg"
! grep -q 'server-queued\|queued at the server' "$SCRATCH/noqueue.svg" \
    || fail "noqueue.svg: a queue drawn for a report without one"
expect_eq "load lanes in noqueue.svg" "$(grep -c '>backend: peak [0-9]* in service<' \
    "$SCRATCH/noqueue.svg")" 3
echo "ok: rows grouped by key in popularity order; the server's queue on the load lane"

# 20 tasks on one key under lock and singleflight: each panel draws its own
# arrows, 19 hand-offs and 19 shared results, named by panel; no key bands.
one=$SCRATCH/one.json
fb --tasks 20 --mode lock,singleflight --delay-ms 150 -q -o "$one"
validate "$one"
clean "$PLOT" "$one" -o "$SCRATCH/one.svg"
clean "$PLOT" "$one" -o "$SCRATCH/one.png"
for spec in "0 handoff lock" "1 result singleflight"; do
    set -- $spec
    n=$(jq --arg m "$3" --arg k "$2" '[.runs[] | select(.mode == $m) | .tasks[]
        | select(.waited_on.kind == $k)] | length' "$one")
    expect_eq "$2 links of $3 in the JSON" "$n" 19
    expect_eq "$2 arrows in panel $1 of one.svg" \
        "$(grep -c "id=\"panel$1-link-$2-[0-9]*\"" "$SCRATCH/one.svg")" 19
done
grep -q '>lock handed over (release → grant)<' "$SCRATCH/one.svg" || fail "one.svg: no hand-off legend"
grep -q '>result shared (leader → follower)<' "$SCRATCH/one.svg" || fail "one.svg: no result legend"
! grep -q 'id="panel[0-9]-key-' "$SCRATCH/one.svg" || fail "one.svg: one key grouped"
! grep -q 'queued at the server' "$SCRATCH/one.svg" || fail "one.svg: legend names a queue of 0"
# beyond 50 tasks a panel draws none, and the figure says so
jq '.runs |= map(.tasks |= (. as $t | $t + [$t[] | .id += 20 | del(.waited_on)] + [$t[] | .id += 40
    | del(.waited_on)]) | .summary.tasks = 60)' "$one" >"$SCRATCH/sixty.json"
clean "$PLOT" "$SCRATCH/sixty.json" -o "$SCRATCH/sixty.svg"
! grep -q 'id="panel[0-9]-link-' "$SCRATCH/sixty.svg" || fail "sixty.svg: arrows for 60 tasks"
grep -q 'who waited on whom drawn up to 50 tasks' "$SCRATCH/sixty.svg" \
    || fail "sixty.svg: the missing arrows are not noted"
echo "ok: each small panel's waited_on arrows, none beyond 50 tasks"

# --- bad input: one line, exit 2 --------------------------------------------
$PY "$FB_ROOT/tests/report_versions.py" --to 1 "$hot" >"$SCRATCH/v1.json"
echo '{"a": 1}' >"$SCRATCH/not-report.json"
echo 'hello' >"$SCRATCH/text.json"
head -c 3000 "$hot" >"$SCRATCH/truncated.json"
for script in "$PLOT" "$TABLE"; do
    out=
    [ "$script" = "$PLOT" ] && out="-o $BAD/x.png"
    expect_bad "$script" "$SCRATCH/no-such.json" $out
    expect_bad "$script" "$SCRATCH/v1.json" $out
    grep -q 'fetchbench/1 report' "$SCRATCH/bad.err" || fail "v1 not explained"
    expect_bad "$script" "$SCRATCH/not-report.json" $out
    expect_bad "$script" "$SCRATCH/text.json" $out
    expect_bad "$script" "$SCRATCH/truncated.json" $out
done
expect_bad "$PLOT" "$hot" -o "$BAD/x.gif"
expect_bad "$PLOT" "$hot" -o "$BAD/x.png" --until -1
expect_bad "$PLOT" "$hot" -o "$BAD/x.png" --until soon
expect_bad "$PLOT" "$hot"
expect_bad "$PLOT" "$hot" "$hot" -o "$BAD/x.png"
expect_bad "$TABLE" "$hot" --format html
expect_bad "$TABLE" --label a --label b "$hot"
jq '.runs[0].summary.upstream_requests = "many"' "$SCRATCH/zipf.json" >"$SCRATCH/bad-count.json"
expect_bad "$TABLE" "$SCRATCH/bad-count.json"
grep -qF 'runs[0].summary.upstream_requests' "$SCRATCH/bad.err" || fail "bad count not named"
echo "ok: plot-strategies and strategy-table"
