# scripts/fbhtml.py's interactive view, opened in a real headless Chromium
# (tests/cdp.py, over the DevTools pipe) from a file:// URL: the page makes
# no network request but its own file (and a page that does make one is
# caught, so the check can fail), logs no console error or exception, a
# real mouse click on a task row selects that task (page state) and
# changes the picture (screenshot pixels, a wide margin), a wheel turn
# narrows the time axis, its waited_on links are followed when the report
# has them, a fetchbench/1 report loads too, and a 100,000-task run is drawn
# as a density view within a generous time.  Bad input: exit 2, one line,
# no file.  Skipped (exit 0, SKIP) when no chromium is installed (or
# CHROMIUM names no executable).  Each check was seen to fail against the
# code it guards, broken: a script-made image request, a thrown exception,
# a console.error, a click that selects nothing, a selection not drawn
# (0 pixels changed; a red line on a red density: 234), a wheel that does
# not zoom, successors left out of the related tasks, HTML_PAINT_MS=1.
. "$FB_ROOT/tests/e2e/lib.sh"

PY=/usr/bin/python3
HTML=$FB_ROOT/scripts/fbhtml.py
CDP=$FB_ROOT/tests/cdp.py
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || { echo "SKIP: no chromium installed (scripts/setup installs it)"; exit 0; }
$PY -c 'import matplotlib, numpy, PIL' 2>/dev/null || fail "$PY lacks matplotlib (run scripts/setup)"
# a 100,000-task page must paint within this (ms, from navigation; about 1.5 s here)
PAINT_MS=${HTML_PAINT_MS:-20000}

# probe NAME URL ARGS...: tests/cdp.py probe with a fresh profile; its JSON
# in $SCRATCH/NAME.probe.json
probe() {
    name=$1 url=$2; shift 2
    mkdir "$SCRATCH/profile-$name"
    $PY "$CDP" probe "$url" --profile "$SCRATCH/profile-$name" --chromium "$CHROMIUM" "$@" \
        >"$SCRATCH/$name.probe.json" 2>"$SCRATCH/$name.probe.err" \
        || fail "$name: the browser probe failed: $(cat "$SCRATCH/$name.probe.err")"
}

# expect_clean NAME URL: the probe saw exactly one request (URL) and no error
expect_clean() {
    expect_eq "$1: requests" "$(jq -c .requests "$SCRATCH/$1.probe.json")" "[\"$2\"]"
    expect_eq "$1: console errors" "$(jq -c .errors "$SCRATCH/$1.probe.json")" "[]"
}

# expect_click NAME ROW: a click on ROW selected it and changed the picture
expect_click() {
    p=$SCRATCH/$1.probe.json
    expect_eq "$1: selected after a click on row $2" "$(jqv "$p" .click.selected)" "$2"
    px=$(jqv "$p" .click.changed_px)
    [ "$px" -ge 2000 ] || fail "$1: a click changed only $px pixels"
}

# expect_zoom NAME: the wheel narrowed the time range to under 80 %
expect_zoom() {
    jq -e '(.zoom.after[1] - .zoom.after[0]) < 0.8 * (.zoom.before[1] - .zoom.before[0])' \
        "$SCRATCH/$1.probe.json" >/dev/null || fail "$1: the wheel did not zoom: $(jq -c .zoom "$SCRATCH/$1.probe.json")"
}

# -- the network check can fail: a page that loads an image from elsewhere
printf '<!DOCTYPE html><p>x</p><img src="http://127.0.0.1:1/x">\n' >"$SCRATCH/phone.html"
probe phone "file://$SCRATCH/phone.html"
jq -e '.requests | index("http://127.0.0.1:1/x")' "$SCRATCH/phone.probe.json" >/dev/null \
    || fail "the probe missed a page's request: $(cat "$SCRATCH/phone.probe.json")"
echo "ok: a request from elsewhere is seen"

# -- 20 tasks under lock, nolock and singleflight, real runs
fb -n 20 -m lock,nolock,singleflight -d 200 -c 8 --quiet >"$SCRATCH/r.json"
validate "$SCRATCH/r.json"
links=$(jq '[.runs[].tasks[] | select(.waited_on)] | length' "$SCRATCH/r.json")
for mode in lock nolock singleflight; do
    $PY "$HTML" "$SCRATCH/r.json" --mode "$mode" -o "$SCRATCH/$mode.html"
    [ -s "$SCRATCH/$mode.html" ] || fail "$mode.html was not written"
    ! grep -Eiq '(src|href) *= *"?(https?:|//)' "$SCRATCH/$mode.html" \
        || fail "$mode.html refers to something elsewhere"
done
url=file://$SCRATCH/lock.html
probe lock "$url" --view --click-row 7 --wheel
expect_clean lock "$url"
expect_eq "lock: view" "$(jqv "$SCRATCH/lock.probe.json" .view)" rows
expect_click lock 7
expect_zoom lock
if [ "$links" -gt 0 ]; then
    # lock hands off in FIFO order: 7's predecessor and successor
    expect_eq "lock: related to task 7" "$(jq -c .click.related "$SCRATCH/lock.probe.json")" "[6,8]"
else
    expect_eq "lock: related without links" "$(jq -c .click.related "$SCRATCH/lock.probe.json")" "[]"
fi
echo "ok: lock view: no request, no error, a click selects and highlights, the wheel zooms"

url=file://$SCRATCH/singleflight.html
leader=$(jq '[.runs[] | select(.mode == "singleflight") | .tasks[] | select(.outcome == "fetched") | .id][0]' "$SCRATCH/r.json")
probe sf "$url" --view --click-row "$leader"
expect_clean sf "$url"
expect_click sf "$leader"
if [ "$links" -gt 0 ]; then
    n=$(jq '.click.related | length' "$SCRATCH/sf.probe.json")
    [ "$n" -ge 1 ] || fail "singleflight: the leader's followers are not highlighted"
fi
echo "ok: singleflight view (leader $leader)"

url=file://$SCRATCH/nolock.html
probe nolock "$url" --view --wheel
expect_clean nolock "$url"
expect_zoom nolock
echo "ok: nolock view"

# -- a fetchbench/1 report
# fetchbench/1 knew the server's queue only as part of the request phase
jq '.runs[0].tasks[].spans[] |= (if .[0] == "server_queue" or .[0] == "in_service"
                                 then .[0] = "request" else . end)' \
    "$SCRATCH/r.json" >"$SCRATCH/r-noqueue.json"
$PY "$FB_ROOT/tests/report_versions.py" --to 1 --run 0 "$SCRATCH/r-noqueue.json" >"$SCRATCH/v1.json"
expect_eq "v1 schema" "$(jqv "$SCRATCH/v1.json" .schema)" fetchbench/1
$PY "$HTML" "$SCRATCH/v1.json" -o "$SCRATCH/v1.html"
url=file://$SCRATCH/v1.html
probe v1 "$url" --view --click-row 3
expect_clean v1 "$url"
expect_click v1 3
echo "ok: a fetchbench/1 report"

# -- 100,000 tasks: the density view, painted within PAINT_MS
fb -n 100000 -m lock -d 100 --quiet >"$SCRATCH/big.json"
$PY "$HTML" "$SCRATCH/big.json" -o "$SCRATCH/big.html"
url=file://$SCRATCH/big.html
probe big "$url" --view --click-row 50000 --wheel --timeout 120
expect_clean big "$url"
expect_eq "big: view" "$(jqv "$SCRATCH/big.probe.json" .view)" density
paint=$(jqv "$SCRATCH/big.probe.json" '.first_paint_ms | floor')
[ "$paint" -le "$PAINT_MS" ] || fail "100,000 tasks: first paint after $paint ms (bound $PAINT_MS)"
# a row is a fraction of a pixel: the click lands within 1 % of the row
jq -e '.click.selected - 50000 | fabs < 1000' "$SCRATCH/big.probe.json" >/dev/null \
    || fail "big: a click on row 50000 selected $(jqv "$SCRATCH/big.probe.json" .click.selected)"
px=$(jqv "$SCRATCH/big.probe.json" .click.changed_px)
[ "$px" -ge 500 ] || fail "big: a click changed only $px pixels"
expect_zoom big
echo "ok: 100,000 tasks: density view, first paint at $paint ms, $(wc -c <"$SCRATCH/big.html") bytes"

# -- bad input: exit 2, one line on stderr, no file
expect_exit 2 $PY "$HTML" "$SCRATCH/r.json" -o "$SCRATCH/out.png" 2>"$SCRATCH/err"
expect_exit 2 $PY "$HTML" "$SCRATCH/r.json" --mode nosuch -o "$SCRATCH/out.html" 2>>"$SCRATCH/err"
expect_exit 2 $PY "$HTML" "$SCRATCH/none.json" -o "$SCRATCH/out.html" 2>>"$SCRATCH/err"
expect_exit 2 $PY "$HTML" "$SCRATCH/r.json" -o "$SCRATCH/no/such/dir/out.html" 2>>"$SCRATCH/err"
expect_eq "stderr lines for 4 bad inputs" "$(wc -l <"$SCRATCH/err" | tr -d ' ')" 4
[ ! -e "$SCRATCH/out.html" ] && [ ! -e "$SCRATCH/out.png" ] || fail "bad input left a file"
echo "ok: bad input"
