# scripts/plot-timeline and scripts/plot-compare on reports from real
# fetchbench runs, read as fetchbench/2 (made from fetchbench/1 by
# tests/report_versions.py when the binary still writes v1) and, mixed in,
# as fetchbench/1: they write PNG and SVG images of the expected size, the
# lock-mode picture is full of lock-wait red and the no-lock one has none,
# every thread creation is marked (a dot each, with a note of how many), a
# run whose first milliseconds are sub-pixel gets a zoom on them, a
# 10,000-task run takes the density path, a state or outcome the scripts
# have never heard of is drawn from the report's vocabulary, a report's runs
# are chosen by --run/--mode/--repeat, and every bad input gives exit 2, one
# line on stderr and no output file.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
TIMELINE=$FB_ROOT/scripts/plot-timeline
COMPARE=$FB_ROOT/scripts/plot-compare
VERSIONS=$FB_ROOT/tests/report_versions.py
$PY -c 'import matplotlib, numpy' 2>/dev/null \
    || fail "$PY lacks matplotlib (run scripts/setup)"

# report NAME ARGS...: runs fetchbench with ARGS (one mode) and leaves the
# report as $SCRATCH/NAME.json in fetchbench/2 and $SCRATCH/NAME-v1.json in
# fetchbench/1, converting whichever the binary did not write.
report() {
    name=$1; shift
    fb "$@" --quiet >"$SCRATCH/$name.raw.json"
    validate "$SCRATCH/$name.raw.json"
    FB_SCHEMA=$(jqv "$SCRATCH/$name.raw.json" .schema)
    if [ "$FB_SCHEMA" = fetchbench/1 ]; then
        mv "$SCRATCH/$name.raw.json" "$SCRATCH/$name-v1.json"
        $PY "$VERSIONS" --to 2 "$SCRATCH/$name-v1.json" >"$SCRATCH/$name.json"
    else
        mv "$SCRATCH/$name.raw.json" "$SCRATCH/$name.json"
        $PY "$VERSIONS" --to 1 "$SCRATCH/$name.json" >"$SCRATCH/$name-v1.json"
    fi
}

# image_info FILE: "png WIDTH HEIGHT" (pixels) or "svg WIDTH HEIGHT" (as
# written, e.g. 936pt); fails unless FILE is a PNG or well-formed SVG.
image_info() {
    $PY - "$1" <<'EOF'
import struct, sys, xml.etree.ElementTree as ET
data = open(sys.argv[1], "rb").read()
if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
    print("png", *struct.unpack(">II", data[16:24]))
else:
    root = ET.fromstring(data)
    if not root.tag.endswith("}svg") and root.tag != "svg":
        sys.exit(f"{sys.argv[1]}: neither PNG nor SVG")
    print("svg", root.get("width"), root.get("height"))
EOF
}

# expect_image FILE FORMAT WIDTH MIN_HEIGHT: FILE is a FORMAT image WIDTH
# wide and at least MIN_HEIGHT high, and not trivially small.
expect_image() {
    [ -s "$1" ] || fail "$1 was not written"
    info=$(image_info "$1") || fail "$1: $info"
    set -- "$1" "$2" "$3" "$4" $info
    expect_eq "$1 format" "$5" "$2"
    w=${6%pt}; w=${w%.*}; want=${3%pt}
    # close-up columns widen the figure
    [ "$w" -ge "$want" ] || fail "$1: width $6, expected at least $3"
    h=${7%pt}; h=${h%.*}
    [ "$h" -ge "$4" ] || fail "$1: height $7, expected at least $4"
    [ "$(wc -c <"$1")" -gt 20000 ] || fail "$1: only $(wc -c <"$1") bytes"
}

# red_share PNG: the share of pixels in lock-wait red.
red_share() {
    $PY -c '
import sys, numpy as np, matplotlib.image as mi
a = mi.imread(sys.argv[1])[..., :3]
red = np.array([0xd6, 0x27, 0x28]) / 255
print(float((np.abs(a - red).max(axis=2) < 0.04).mean()))' "$1"
}

# svg_count SVG GID [TAG]: how many TAG elements (default: use, a marker
# each) the SVG's group with id GID holds; 0 when there is no such group.
svg_count() {
    $PY - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
tag = sys.argv[3] if len(sys.argv) > 3 else "use"
n = 0
for g in ET.parse(sys.argv[1]).iter():
    if g.get("id") == sys.argv[2]:
        n += sum(1 for e in g.iter() if e.tag.rsplit("}", 1)[-1] == tag)
print(n)
EOF
}

# at_least A B / below A B: float comparisons.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# expect_bad CMD...: CMD exits 2 with one line on stderr naming the script,
# no traceback, and leaves $BAD (its output directory) empty.
BAD=$SCRATCH/bad
mkdir "$BAD"
expect_bad() {
    set +e; "$@" >"$SCRATCH/bad.out" 2>"$SCRATCH/bad.err"; rc=$?; set -e
    err=$(cat "$SCRATCH/bad.err")
    [ "$rc" -eq 2 ] || fail "'$*': exit $rc, expected 2 (stderr: $err)"
    expect_eq "stderr lines of '$*'" "$(wc -l <"$SCRATCH/bad.err" | tr -d ' ')" 1
    case "$err" in
        plot-timeline:\ *|plot-compare:\ *) ;;
        *) fail "'$*': stderr does not start with the script's name: $err" ;;
    esac
    [ ! -s "$SCRATCH/bad.out" ] || fail "'$*' wrote to stdout"
    [ -z "$(ls -A "$BAD")" ] || fail "'$*' left files: $(ls -A "$BAD")"
    printf "ok (exit 2): %s\n" "$err"
}

# --- real runs --------------------------------------------------------------
report nolock --tasks 20 --mode nolock --delay-ms 200 --capacity 8
report lock --tasks 20 --mode lock --delay-ms 200 --capacity 8
expect_eq "schema of lock.json" "$(jqv "$SCRATCH/lock.json" .schema)" fetchbench/2

# --- plot-timeline ------------------------------------------------------------
"$TIMELINE" "$SCRATCH/nolock.json" -o "$SCRATCH/nolock.png"
expect_image "$SCRATCH/nolock.png" png 1430 700
# stdin, SVG, the generated title and the rows (not density) view
"$TIMELINE" -o "$SCRATCH/lock.svg" <"$SCRATCH/lock.json"
expect_image "$SCRATCH/lock.svg" svg 936pt 500
grep -q '>fetchbench: lock · 20 tasks · 1 key, all arrive at 0 · wall [0-9.]* [mµ]*s · 1 upstream request · peak [0-9]* threads' \
    "$SCRATCH/lock.svg" || fail "lock.svg lacks the expected title"
grep -q 'one row per task' "$SCRATCH/lock.svg" || fail "lock.svg is not the rows view"
# a pipe straight from fetchbench (whichever version it writes), and --title
fb --tasks 20 --mode lock --delay-ms 200 --capacity 8 --quiet \
    | "$TIMELINE" - -o "$SCRATCH/lock.png" --title "twenty tasks, one lock"
expect_image "$SCRATCH/lock.png" png 1430 700

# Every thread creation is a dot in the thread lane, with a note of how many
# (the lifetimes are far below a pixel at this scale, so without the dots
# no-lock's twenty threads would not show); the legend lists only the states
# the run has, and the subtitle's counts agree in number.
"$TIMELINE" "$SCRATCH/nolock.json" -o "$SCRATCH/nolock.svg"
for m in nolock lock; do
    created=$(jqv "$SCRATCH/$m.json" '.runs[0].summary.threads_created')
    expect_eq "thread-creation dots in $m.svg" "$(svg_count "$SCRATCH/$m.svg" thread-creations)" \
        "$created"
    expect_eq "thread-creation notes in $m.svg" \
        "$(svg_count "$SCRATCH/$m.svg" thread-creation-note text)" 1
done
[ "$(jqv "$SCRATCH/nolock.json" '.runs[0].summary.threads_created')" -ge 2 ] \
    || fail "nolock.json: fewer than 2 threads created"
grep -q ">$(jqv "$SCRATCH/nolock.json" '.runs[0].summary.threads_created') threads created[, ]" \
    "$SCRATCH/nolock.svg" || fail "nolock.svg lacks the thread-creation note"
grep -q '>1 thread created, at ' "$SCRATCH/lock.svg" || fail "lock.svg lacks the thread-creation note"
grep -q 'peak 1 connection[^s]' "$SCRATCH/lock.svg" || fail "lock.svg: 'peak 1 connection' not singular"
grep -q '>lock wait<' "$SCRATCH/lock.svg" || fail "lock.svg: no lock wait in the legend"
! grep -q '>lock wait<' "$SCRATCH/nolock.svg" || fail "nolock.svg: lock wait in the legend"
echo "ok: thread creations marked and noted"

# A run long enough that resolving, connecting and the resolver thread are
# far below a pixel gets a zoom on its first milliseconds.
# The zoom is decided from the data, so the run's early phases are pinned to
# typical loopback values: under valgrind or on a loaded machine the real
# ones can be milliseconds long, which is not what this checks.
report lock1500-raw --tasks 20 --mode lock --delay-ms 1500
jq '.runs[0] |= (.threads.lifetimes[0] = {"start_us": 40, "end_us": 240}
    | .threads.samples = [[0, 1], [40, 2], [240, 1]]
    | .tasks[0].spans |= map(
        if .[0] == "dns" then [.[0], 5, 250]
        elif .[0] == "connect" then [.[0], 250, 300]
        elif .[0] == "request" then [.[0], 300, .[2]]
        else . end))' "$SCRATCH/lock1500-raw.json" > "$SCRATCH/lock1500.json"
"$TIMELINE" "$SCRATCH/lock1500.json" -o "$SCRATCH/lock1500.svg"
grep -q '>start: 0[0-9.]*–[0-9.]* [mµ]s<' "$SCRATCH/lock1500.svg" || fail "lock1500.svg has no zoom"
grep -q '>whole run: ' "$SCRATCH/lock1500.svg" || fail "lock1500.svg: no whole-run title"
expect_eq "thread-creation dots in lock1500.svg" \
    "$(svg_count "$SCRATCH/lock1500.svg" thread-creations)" 1
echo "ok: $(grep -o '>start: [0-9.]*–[0-9.]* [mµ]s<' "$SCRATCH/lock1500.svg" | tr -d '<>')"

# The story: lock mode is rows of red lock wait, no-lock mode has none.
lock_red=$(red_share "$SCRATCH/lock.png")
nolock_red=$(red_share "$SCRATCH/nolock.png")
at_least "$lock_red" 0.05 || fail "lock.png: only $lock_red of pixels lock-wait red"
below "$nolock_red" 0.001 || fail "nolock.png: $nolock_red of pixels lock-wait red"
echo "ok: lock-wait red covers $lock_red of lock.png, $nolock_red of nolock.png"

# --- plot-compare -------------------------------------------------------------
"$COMPARE" "$SCRATCH/lock.json" "$SCRATCH/nolock.json" -o "$SCRATCH/compare.png"
expect_image "$SCRATCH/compare.png" png 1430 700
"$COMPARE" "$SCRATCH/lock.json" "$SCRATCH/nolock.json" -o "$SCRATCH/compare.svg"
expect_image "$SCRATCH/compare.svg" svg 936pt 500
grep -q '>lock · 20 tasks' "$SCRATCH/compare.svg" || fail "compare.svg lacks the lock panel"
grep -q '>nolock · 20 tasks' "$SCRATCH/compare.svg" || fail "compare.svg lacks the nolock panel"

for n in 1 4 16; do
    for m in lock nolock; do
        report sweep-$m-$n --tasks $n --mode $m --delay-ms 50 --capacity 8
    done
done
# v2 reports, and their v1 twins mixed in: each point twice
"$COMPARE" --sweep "$SCRATCH"/sweep-*.json -o "$SCRATCH/sweep.png"
expect_image "$SCRATCH/sweep.png" png 1650 500

# --- the density path: 10,000 tasks -------------------------------------------
report lock10k --tasks 10000 --mode lock --delay-ms 100
t0=$(date +%s)
"$TIMELINE" "$SCRATCH/lock10k.json" -o "$SCRATCH/lock10k.png"
"$TIMELINE" "$SCRATCH/lock10k.json" -o "$SCRATCH/lock10k.svg"
"$COMPARE" "$SCRATCH/lock10k.json" "$SCRATCH/nolock.json" -o "$SCRATCH/compare10k.png"
took=$(($(date +%s) - t0))
[ "$took" -lt 60 ] || fail "three plots of 10,000 tasks took ${took}s"
expect_image "$SCRATCH/lock10k.png" png 1430 900
expect_image "$SCRATCH/lock10k.svg" svg 936pt 700
grep -q 'density view: 10,000 tasks' "$SCRATCH/lock10k.svg" \
    || fail "lock10k.svg did not take the density view"
[ "$(wc -c <"$SCRATCH/lock10k.svg")" -lt 5000000 ] || fail "lock10k.svg is over 5 MB"
expect_image "$SCRATCH/compare10k.png" png 1430 500
at_least "$(red_share "$SCRATCH/lock10k.png")" 0.05 || fail "lock10k.png is not mostly lock wait"
echo "ok: 10,000 tasks plotted three times in ${took}s"

# --- bad input ----------------------------------------------------------------
good=$SCRATCH/lock.json
printf '{\n  "schema": "fetchbench/1",\n  "tasks": [1, 2,,]\n}\n' >"$SCRATCH/notjson.json"
head -c 2000 "$good" >"$SCRATCH/truncated.json"
jq '.schema = "fetchbench/3"' "$good" >"$SCRATCH/v3.json"
jq '.schema = "fetchbench/2"' "$SCRATCH/lock-v1.json" >"$SCRATCH/v1-as-v2.json"
jq '.runs[0].tasks = []' "$good" >"$SCRATCH/notasks.json"
jq '.runs = []' "$good" >"$SCRATCH/noruns.json"
jq '.runs[0].tasks[3].spans[0][0] = "sleeping"' "$good" >"$SCRATCH/badstate.json"
jq '.tasks[3].spans[0].state = "sleeping"' "$SCRATCH/lock-v1.json" >"$SCRATCH/badstate-v1.json"
jq '.runs[0].tasks[3].outcome = "napped"' "$good" >"$SCRATCH/badoutcome.json"
jq '.runs[0].tasks[3].spans[0] = {"state": "created", "start_us": 0, "end_us": 1}' "$good" \
    >"$SCRATCH/objspan.json"
jq '.vocabulary.states += [.vocabulary.states[0]]' "$good" >"$SCRATCH/twicestate.json"
jq 'del(.runs[0].threads)' "$good" >"$SCRATCH/nothreads.json"
jq 'del(.vocabulary)' "$good" >"$SCRATCH/novocab.json"
: >"$SCRATCH/empty.json"

# every span state the schema allows is drawn (queued: waiting for a
# connection slot, which big no-lock runs hit)
jq '.runs[0].tasks[3].spans[0] |= [("queued"), .[1], .[1] + 1000]' "$good" >"$SCRATCH/queued.json"
"$TIMELINE" "$SCRATCH/queued.json" -o "$SCRATCH/queued.svg"
grep -q '>queued (libcurl has not started it)<' "$SCRATCH/queued.svg" || fail "queued.svg: no queued state"

expect_bad "$TIMELINE" "$SCRATCH/notjson.json" -o "$BAD/x.png"
grep -q 'not JSON (line 3 column 18)' "$SCRATCH/bad.err" || fail "position not reported"
expect_bad "$TIMELINE" "$SCRATCH/truncated.json" -o "$BAD/x.png"
grep -q 'truncated JSON' "$SCRATCH/bad.err" || fail "truncation not reported"
expect_bad "$TIMELINE" "$SCRATCH/v3.json" -o "$BAD/x.png"
grep -qF 'schema is "fetchbench/3", expected "fetchbench/2" or "fetchbench/1"' "$SCRATCH/bad.err" \
    || fail "v3 not named"
expect_bad "$TIMELINE" "$SCRATCH/v1-as-v2.json" -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/notasks.json" -o "$BAD/x.svg"
expect_bad "$TIMELINE" "$SCRATCH/noruns.json" -o "$BAD/x.svg"
expect_bad "$TIMELINE" "$SCRATCH/badstate.json" -o "$BAD/x.png"
grep -qF 'runs[0].tasks[3].spans[0][0]: unknown state "sleeping" (not in vocabulary.states)' \
    "$SCRATCH/bad.err" || fail "unknown state not named"
expect_bad "$TIMELINE" "$SCRATCH/badstate-v1.json" -o "$BAD/x.png"
grep -qF 'badstate-v1.json: tasks[3].spans[0].state: unknown state "sleeping"' "$SCRATCH/bad.err" \
    || fail "unknown v1 state not named by its v1 path"
expect_bad "$TIMELINE" "$SCRATCH/badoutcome.json" -o "$BAD/x.png"
grep -qF 'runs[0].tasks[3].outcome: unknown outcome "napped"' "$SCRATCH/bad.err" \
    || fail "unknown outcome not named"
expect_bad "$TIMELINE" "$SCRATCH/objspan.json" -o "$BAD/x.png"
grep -qF 'runs[0].tasks[3].spans[0]: expected [state, start_us, end_us]' "$SCRATCH/bad.err" \
    || fail "a v1 span in a v2 report not named"
expect_bad "$TIMELINE" "$SCRATCH/twicestate.json" -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/nothreads.json" -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/novocab.json" -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/empty.json" -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/no-such-file.json" -o "$BAD/x.png"
expect_bad sh -c '"$1" -o "$2" <"$3"' sh "$TIMELINE" "$BAD/x.png" "$SCRATCH/truncated.json"
expect_bad "$TIMELINE" "$good"
expect_bad "$TIMELINE" "$good" -o "$BAD/x.jpg"
expect_bad "$TIMELINE" "$good" -o "$BAD/x"
expect_bad "$TIMELINE" "$good" -o "$BAD/x.png" --no-such-option
expect_bad "$COMPARE" "$good" -o "$BAD/x.png"
expect_bad "$COMPARE" "$good" "$SCRATCH/truncated.json" -o "$BAD/x.png"
expect_bad "$COMPARE" "$good" "$SCRATCH/nolock.json" -o "$BAD/x.gif"
expect_bad "$COMPARE" --sweep "$good" "$SCRATCH/v3.json" -o "$BAD/x.png"

# --- any report fetchbench can produce is plotted, or refused in one line ------
# plots_clean CMD...: CMD exits 0, writes its image, and says nothing at all
# (no traceback, no matplotlib warning about math text or missing glyphs).
plots_clean() {
    set +e; "$@" >"$SCRATCH/clean.out" 2>"$SCRATCH/clean.err"; rc=$?; set -e
    [ "$rc" -eq 0 ] || fail "'$*': exit $rc: $(cat "$SCRATCH/clean.err")"
    [ ! -s "$SCRATCH/clean.err" ] || fail "'$*' wrote to stderr: $(cat "$SCRATCH/clean.err")"
    [ ! -s "$SCRATCH/clean.out" ] || fail "'$*' wrote to stdout"
}

# A URL matplotlib would take for math ($x$), with a backslash, %, braces,
# markup, control characters and non-ASCII (the font has ü but not 日):
# drawn as text, what the font lacks as escapes.
jq '.config.url = "http://h/$x$/a\\b%41{}<&>/ü/日/\u0001\u0007/\ud83d\ude00/$\\alpha$"' \
    "$good" >"$SCRATCH/url.json"
plots_clean "$TIMELINE" "$SCRATCH/url.json" -o "$SCRATCH/url.svg"
expect_image "$SCRATCH/url.svg" svg 936pt 500
grep -qF 'http://h/$x$/a\b%41{}&lt;&amp;&gt;/ü/\u65e5/\x01\x07/' \
    "$SCRATCH/url.svg" || fail "url.svg does not show the URL as text"
plots_clean "$TIMELINE" "$SCRATCH/url.json" -o "$SCRATCH/url.png"
plots_clean "$TIMELINE" "$SCRATCH/url.json" -o "$SCRATCH/url-title.png" --title 'cost: $5 \n 日'
cp "$SCRATCH/url.json" "$SCRATCH/\$a\$.json"
plots_clean "$COMPARE" "$SCRATCH/\$a\$.json" "$SCRATCH/nolock.json" -o "$SCRATCH/url-compare.svg"
grep -qF '>$a$.json<' "$SCRATCH/url-compare.svg" || fail "url-compare.svg: file name not drawn as text"
echo "ok: a URL of \$x\$, escapes, markup and non-ASCII drawn as text"

# One task; every span of zero length; every time zero (a zero-width axis);
# the largest integer allowed (2^63 - 1).
report one --tasks 1 --mode nolock --delay-ms 20
jq '.runs[0].tasks |= map(.end_us = .start_us | .spans |= map([.[0], .[1], .[1]]))' \
    "$good" >"$SCRATCH/instant.json"
jq '.runs[0] |= (.summary.wall_us = 0 | .tasks |= map(.start_us = 0 | .end_us = 0
      | .spans |= map([.[0], 0, 0]))
    | .threads.samples = [[0, 1]] | .threads.lifetimes |= map(.start_us = 0 | .end_us = 0)
    | .server.in_service_samples = [[0, 1], [0, 0]])' "$good" >"$SCRATCH/zero.json"
sed 's/"wall_us": *[0-9]*,/"wall_us":9223372036854775807,/' "$good" >"$SCRATCH/maxint.json"
for f in one instant zero maxint; do
    plots_clean "$TIMELINE" "$SCRATCH/$f.json" -o "$SCRATCH/$f.png"
    plots_clean "$TIMELINE" "$SCRATCH/$f.json" -o "$SCRATCH/$f.svg"
    expect_image "$SCRATCH/$f.png" png 1430 300
done
grep -q '1 upstream request ' "$SCRATCH/one.svg" || fail "one.svg: no title for one task"
plots_clean "$COMPARE" "$SCRATCH/one.json" "$SCRATCH/zero.json" "$SCRATCH/instant.json" \
    -o "$SCRATCH/edge-compare.png"
plots_clean "$COMPARE" --sweep "$SCRATCH/one.json" -o "$SCRATCH/sweep-one.png"
plots_clean "$COMPARE" --sweep "$SCRATCH/zero.json" "$SCRATCH/instant.json" -o "$SCRATCH/sweep-zero.png"
echo "ok: one task, zero-length spans, a zero-width axis, 2^63 - 1"

# The tls stage, fetch_cap, fd_limit, threads_failed,
# in_service_samples_truncated, an error with its object.
jq '.config.fetch_cap = 6 | .config.fd_limit = 1024
    | .runs[0] |= (.summary.errors.tls = 1
    | .summary.errors.total = 1 | .summary.threads_failed = 2
    | .server.in_service_samples_truncated = false
    | .tasks[0] |= (.outcome = "error" | .error = {"stage": "tls", "message": "bad certificate"}))' \
    "$good" >"$SCRATCH/new.json"
plots_clean "$TIMELINE" "$SCRATCH/new.json" -o "$SCRATCH/new.svg"
grep -q 'fetch cap 6 ' "$SCRATCH/new.svg" || fail "new.svg: no fetch cap"
grep -q '2 thread starts failed' "$SCRATCH/new.svg" || fail "new.svg: no failed thread starts"
plots_clean "$COMPARE" "$SCRATCH/new.json" "$good" -o "$SCRATCH/new-compare.png"
echo "ok: tls, fetch_cap, fd_limit, threads_failed"

# Refused, naming the field: numbers beyond int64 or a double, NaN and
# Infinity (Python's json takes them), a repeated key (as compare does).
sed 's/"wall_us": *[0-9]*,/"wall_us":9223372036854775808,/' "$good" >"$SCRATCH/int64.json"
sed 's/"wall_us": *[0-9]*,/"wall_us":1e400,/' "$good" >"$SCRATCH/double.json"
sed '/"id": *0,/s/"start_us": *[0-9]*,/"start_us":NaN,/' "$good" >"$SCRATCH/nan.json"
sed 's/"cache_hits": *\([0-9]*\)/"cache_hits":-Infinity/' "$good" >"$SCRATCH/inf.json"
sed 's/"wall_us": *\([0-9]*\),/"wall_us":\1,"wall_us":1,/' "$good" >"$SCRATCH/dup.json"
sed 's/"id": *3,/"id":3,"id":3,/' "$good" >"$SCRATCH/dup-task.json"
sed 's/"wall_us":\([0-9]*\),/"wall_us":\1,"wall_us":1,/' "$SCRATCH/lock-v1.json" >"$SCRATCH/dup-v1.json"
expect_bad "$TIMELINE" "$SCRATCH/int64.json" -o "$BAD/x.png"
grep -qF 'int64.json: runs[0].summary.wall_us: number out of range (9223372036854775808)' "$SCRATCH/bad.err" \
    || fail "int64 not named"
expect_bad "$TIMELINE" "$SCRATCH/double.json" -o "$BAD/x.png"
grep -qF 'runs[0].summary.wall_us: number out of range (1e400)' "$SCRATCH/bad.err" || fail "1e400 not named"
expect_bad "$TIMELINE" "$SCRATCH/nan.json" -o "$BAD/x.png"
grep -qF 'nan.json: runs[0].tasks[0].start_us: NaN is not JSON' "$SCRATCH/bad.err" || fail "NaN not named"
expect_bad "$COMPARE" "$good" "$SCRATCH/inf.json" -o "$BAD/x.png"
grep -qF 'inf.json: runs[0].summary.cache_hits: -Infinity is not JSON' "$SCRATCH/bad.err" \
    || fail "-Infinity not named"
for tool in "$TIMELINE" "$COMPARE --sweep"; do
    expect_bad $tool "$SCRATCH/dup.json" -o "$BAD/x.png"
    expect_eq "duplicate key message" "$(cat "$SCRATCH/bad.err")" \
        "$(basename "${tool% *}"): $SCRATCH/dup.json: duplicate key \"runs[0].summary.wall_us\""
done
expect_bad "$TIMELINE" "$SCRATCH/dup-v1.json" -o "$BAD/x.png"
grep -qF 'dup-v1.json: duplicate key "summary.wall_us"' "$SCRATCH/bad.err" || fail "v1 duplicate not named"
expect_bad "$TIMELINE" "$SCRATCH/dup-task.json" -o "$BAD/x.png"
grep -qF 'duplicate key "runs[0].tasks[3].id"' "$SCRATCH/bad.err" || fail "task key not named"
# a file name with a newline still gives one line
cp "$SCRATCH/dup.json" "$SCRATCH/two
lines.json"
expect_bad "$TIMELINE" "$SCRATCH/two
lines.json" -o "$BAD/x.png"
jq '.interrupted = "no"' "$good" >"$SCRATCH/interrupted-str.json"
expect_bad "$TIMELINE" "$SCRATCH/interrupted-str.json" -o "$BAD/x.png"

# --- the report's vocabulary and runs, and v1 beside v2 -----------------------
# A strategy the scripts have never heard of: a wait state "nap" and an
# outcome "napped" (not ok), used by two tasks.  Drawn with no edit to the
# scripts: "nap" in the legend, in a colour of its own (by its name, none
# of the built-in ones), "napped" marked and in the legend.
jq '.vocabulary.states += [{"name": "nap", "wait": true, "encloses": false, "fetch": false}]
    | .vocabulary.outcomes += [{"name": "napped", "ok": false}]
    | .runs[0].tasks[5] |= (.outcome = "napped" | .end_us = .start_us + 150000
        | .spans = [["created", .start_us, .start_us + 30], ["nap", .start_us + 30, .end_us]])
    | .runs[0].tasks[6].spans += [["nap", .runs[0].tasks[6].start_us + 40,
                                   .runs[0].tasks[6].start_us + 100000]]' \
    "$good" >"$SCRATCH/nap.json"
plots_clean "$TIMELINE" "$SCRATCH/nap.json" -o "$SCRATCH/nap.svg"
plots_clean "$TIMELINE" "$SCRATCH/nap.json" -o "$SCRATCH/nap.png"
grep -q '>nap (wait)<' "$SCRATCH/nap.svg" || fail "nap.svg: no nap in the legend"
grep -q '>napped<' "$SCRATCH/nap.svg" || fail "nap.svg: no napped in the legend"
! grep -q '>nap (wait)<' "$SCRATCH/lock.svg" || fail "lock.svg: nap in the legend"
nap_share=$($PY - "$SCRATCH/nap.png" "$FB_ROOT/scripts" <<'EOF2'
import sys, numpy as np, matplotlib.image as mi
sys.path.insert(0, sys.argv[2])
import fbplot
from matplotlib.colors import to_rgb
colour = fbplot.state_style("nap", True, False)["colour"]
known = [to_rgb(c) for c in fbplot.COLOURS.values()]
if any(np.abs(np.array(to_rgb(colour)) - k).max() < 0.1 for k in known):
    sys.exit(f"nap's colour {colour} is close to a built-in state's")
a = mi.imread(sys.argv[1])[..., :3]
print(float((np.abs(a - np.array(to_rgb(colour))).max(axis=2) < 0.04).mean()))
EOF2
) || fail "nap colour: $nap_share"
at_least "$nap_share" 0.002 || fail "nap.png: only $nap_share of pixels in nap's colour"
plots_clean "$COMPARE" "$SCRATCH/nap.json" "$SCRATCH/nolock-v1.json" -o "$SCRATCH/nap-compare.svg"
grep -q '>nap (wait)<' "$SCRATCH/nap-compare.svg" || fail "nap-compare.svg: no nap in the legend"
echo "ok: a made-up wait state and outcome drawn from the vocabulary ($nap_share of nap.png)"

# Several keys: the title names the workload, each row label the task's key.
jq '.config.workload.keys = 3 | .config.workload.ttl_ms = 250
    | .runs[0].tasks |= map(.key = .id % 3)' "$good" >"$SCRATCH/keys.json"
plots_clean "$TIMELINE" "$SCRATCH/keys.json" -o "$SCRATCH/keys.svg"
grep -q 'lock · 20 tasks · 3 keys, all arrive at 0, ttl 250 ms · wall' "$SCRATCH/keys.svg" \
    || fail "keys.svg: the title does not name the workload"
grep -q '>5 · k2<' "$SCRATCH/keys.svg" || fail "keys.svg: no key in the row labels"
! grep -q '>5 · k' "$SCRATCH/lock.svg" || fail "lock.svg: keys in the labels of a one-key run"

# A report of several runs: one panel each in plot-compare, one of them
# (--run, --mode, --repeat) in plot-timeline.
if [ "$FB_SCHEMA" = fetchbench/1 ]; then
    $PY "$VERSIONS" --to 2 "$SCRATCH/lock-v1.json" "$SCRATCH/nolock-v1.json" >"$SCRATCH/both.json"
else
    fb --tasks 20 --mode lock,nolock --delay-ms 200 --capacity 8 --quiet >"$SCRATCH/both.json"
    validate "$SCRATCH/both.json"
fi
expect_eq "modes of both.json" "$(jq -c '[.runs[].mode]' "$SCRATCH/both.json")" '["lock","nolock"]'
plots_clean "$TIMELINE" "$SCRATCH/both.json" -o "$SCRATCH/both-first.svg"
grep -q '>fetchbench: lock · 20 tasks' "$SCRATCH/both-first.svg" || fail "the first run is not drawn"
plots_clean "$TIMELINE" "$SCRATCH/both.json" --mode nolock -o "$SCRATCH/both-nolock.svg"
grep -q '>fetchbench: nolock · 20 tasks' "$SCRATCH/both-nolock.svg" || fail "--mode nolock not drawn"
plots_clean "$TIMELINE" "$SCRATCH/both.json" --run 1 -o "$SCRATCH/both-run1.svg"
grep -q '>fetchbench: nolock · 20 tasks' "$SCRATCH/both-run1.svg" || fail "--run 1 not drawn"
plots_clean "$TIMELINE" "$SCRATCH/both.json" --mode lock --repeat 0 -o "$SCRATCH/both-lock.png"
at_least "$(red_share "$SCRATCH/both-lock.png")" 0.05 || fail "both-lock.png is not lock wait red"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --mode nosuch -o "$BAD/x.png"
grep -qF 'both.json: no run of mode "nosuch" (modes: lock, nolock)' "$SCRATCH/bad.err" \
    || fail "unknown mode not explained"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --run 2 -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --run -1 -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --run one -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --mode lock --repeat 1 -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --repeat 0 -o "$BAD/x.png"
expect_bad "$TIMELINE" "$SCRATCH/both.json" --run 0 --mode lock -o "$BAD/x.png"
plots_clean "$COMPARE" "$SCRATCH/both.json" -o "$SCRATCH/both-compare.svg"
grep -q '>lock · 20 tasks' "$SCRATCH/both-compare.svg" || fail "both-compare.svg: no lock panel"
grep -q '>nolock · 20 tasks' "$SCRATCH/both-compare.svg" || fail "both-compare.svg: no nolock panel"
# v1 and v2 mixed: three panels, the v1 one named by its file alone
plots_clean "$COMPARE" "$SCRATCH/lock-v1.json" "$SCRATCH/both.json" -o "$SCRATCH/mixed.svg"
expect_eq "panels in mixed.svg" "$(grep -c '>n\{0,1\}o\{0,1\}lock · 20 tasks' "$SCRATCH/mixed.svg")" 3
grep -q '>fetchbench: lock vs lock vs nolock<' "$SCRATCH/mixed.svg" || fail "mixed.svg: title"
grep -q '>lock-v1.json<' "$SCRATCH/mixed.svg" || fail "mixed.svg: the v1 file not named"
grep -q '>both.json · run 1<' "$SCRATCH/mixed.svg" || fail "mixed.svg: the v2 run not named"
plots_clean "$COMPARE" "$SCRATCH/lock-v1.json" "$SCRATCH/both.json" -o "$SCRATCH/mixed.png"
expect_image "$SCRATCH/mixed.png" png 1430 1500
plots_clean "$COMPARE" --sweep "$SCRATCH/both.json" "$SCRATCH/one-v1.json" -o "$SCRATCH/mixed-sweep.png"
expect_bad "$COMPARE" "$SCRATCH/lock.json" -o "$BAD/x.png"
grep -q 'need two or more runs' "$SCRATCH/bad.err" || fail "one run to compare not explained"
echo "ok: --run/--mode/--repeat, a report of two runs compared, v1 and v2 mixed"

# fetchbench's own workload (only a binary that writes fetchbench/2 has
# one): several keys and Poisson arrivals, named in the title and rows.
if [ "$FB_SCHEMA" = fetchbench/2 ]; then
    fb --tasks 30 --mode lock,nolock --keys 4 --rate 100 --ttl-ms 150 --delay-ms 100 --quiet \
        >"$SCRATCH/workload.json"
    validate "$SCRATCH/workload.json"
    plots_clean "$TIMELINE" "$SCRATCH/workload.json" --mode nolock -o "$SCRATCH/workload.svg"
    grep -q '>fetchbench: nolock · 30 tasks · 4 keys, poisson arrivals at 100/s, ttl 150 ms · ' \
        "$SCRATCH/workload.svg" || fail "workload.svg: the title does not name the workload"
    for id in 0 13 29; do
        key=$(jqv "$SCRATCH/workload.json" ".runs[1].tasks[$id].key")
        grep -q ">$id · k$key<" "$SCRATCH/workload.svg" || fail "workload.svg: task $id not labelled k$key"
    done
    plots_clean "$COMPARE" "$SCRATCH/workload.json" -o "$SCRATCH/workload-compare.png"
    expect_image "$SCRATCH/workload-compare.png" png 1430 1000
    echo "ok: a run of 4 keys and Poisson arrivals titled and labelled by key"
fi

# A failed run leaves an existing image as it was.
cp "$SCRATCH/lock.png" "$SCRATCH/keep.png"
expect_exit 2 "$TIMELINE" "$SCRATCH/truncated.json" -o "$SCRATCH/keep.png" 2>/dev/null
cmp -s "$SCRATCH/lock.png" "$SCRATCH/keep.png" || fail "a failed run changed keep.png"
[ -z "$(ls -A "$SCRATCH" | grep '\.tmp$')" ] || fail "temporary files left in $SCRATCH"
echo "ok: plots"
