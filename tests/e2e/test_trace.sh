# --trace writes a Chrome Trace Event file that matches the report.
. "$FB_ROOT/tests/e2e/lib.sh"

for mode in lock nolock; do
    fb --tasks 12 --mode $mode --capacity 4 --delay-ms 50 --quiet \
        --trace "$SCRATCH/$mode.trace.json" > "$SCRATCH/$mode.json"
    validate "$SCRATCH/$mode.json"
    /usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/$mode.trace.json" "$SCRATCH/$mode.json" \
        || fail "$mode trace"
done
# Several runs in one invocation: each has its tracks, matching its record.
fb --tasks 6 --mode lock,nolock --repeat 2 --capacity 4 --delay-ms 30 --quiet \
    --trace "$SCRATCH/runs4.trace.json" > "$SCRATCH/runs4.json"
validate "$SCRATCH/runs4.json"
expect_eq "runs" "$(jqv "$SCRATCH/runs4.json" '[.runs[].mode] | join(" ")')" "lock nolock lock nolock"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/runs4.trace.json" "$SCRATCH/runs4.json" \
    || fail "trace of four runs"
# "-" is stdout, for a trace as for the plot scripts: the report goes to a file.
fb --tasks 5 --delay-ms 50 --quiet --output "$SCRATCH/dash.json" --trace - > "$SCRATCH/dash.trace.json"
/usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/dash.trace.json" "$SCRATCH/dash.json" \
    || fail "--trace -"
# A bad trace path is a usage error before anything runs.
expect_exit 2 fb --tasks 1 --trace "$SCRATCH/no/such/dir/t.json" > /dev/null 2>&1
expect_exit 2 fb --tasks 1 --trace "$SCRATCH" > /dev/null 2>&1
# The trace and the report in one file: refused, whichever way it is named.
expect_exit 2 fb --tasks 1 --output "$SCRATCH/both.json" --trace "$SCRATCH/./both.json" 2> /dev/null
expect_exit 2 fb --tasks 1 --trace - > /dev/null 2>&1
[ ! -e "$SCRATCH/both.json" ] || fail "both.json was written"
