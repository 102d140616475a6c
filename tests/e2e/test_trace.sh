# --trace writes a Chrome Trace Event file that matches the report.
. "$FB_ROOT/tests/e2e/lib.sh"

for mode in lock nolock; do
    fb --tasks 12 --mode $mode --capacity 4 --delay-ms 50 --quiet \
        --trace "$SCRATCH/$mode.trace.json" > "$SCRATCH/$mode.json"
    validate "$SCRATCH/$mode.json"
    /usr/bin/python3 "$FB_ROOT/tests/check_trace.py" "$SCRATCH/$mode.trace.json" "$SCRATCH/$mode.json" \
        || fail "$mode trace"
done
# A bad trace path is a usage error before anything runs.
expect_exit 2 fb --tasks 1 --trace "$SCRATCH/no/such/dir/t.json" > /dev/null 2>&1
