# Shared by the end-to-end tests: a scratch directory removed on exit, a
# wrapper that runs fetchbench (under TEST_PREFIX when set), and checks that
# print what they expected before failing.
set -eu
SCRATCH=$(mktemp -d)
cleanup_hooks=""
on_exit() { eval "$cleanup_hooks"; rm -rf "$SCRATCH"; }
trap on_exit EXIT INT TERM

# fb ARGS...: run fetchbench; its exit code is the function's.
fb() { $TEST_PREFIX "$FETCHBENCH" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }

# expect_exit CODE CMD...: run CMD, require exit CODE.
expect_exit() {
    want=$1; shift
    set +e; "$@"; got=$?; set -e
    [ "$got" -eq "$want" ] || fail "exit code of '$*': got $got, expected $want"
}

# jqv FILE FILTER: one raw value out of a JSON file.
jqv() { jq -r "$2" "$1"; }

# validate FILE: the file validates against the fetchbench/1 schema.
validate() { /usr/bin/python3 "$FB_ROOT/tests/validate_json.py" "$1" || fail "$1 does not validate"; }

# start_server ARGS...: `fetchbench serve` on an ephemeral loopback port in
# the background; sets SERVER_PID and SERVER_URL (http://127.0.0.1:PORT).
start_server() {
    rm -f "$SCRATCH/server.out"
    $TEST_PREFIX "$FETCHBENCH" serve --port 0 "$@" >"$SCRATCH/server.out" 2>"$SCRATCH/server.err" &
    SERVER_PID=$!
    cleanup_hooks="$cleanup_hooks kill $SERVER_PID 2>/dev/null || true;"
    i=0
    while ! grep -q '^http://' "$SCRATCH/server.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 400 ] || fail "server did not start: $(cat "$SCRATCH/server.err")"
        sleep 0.05
    done
    SERVER_URL=$(grep -m1 '^http://' "$SCRATCH/server.out" | sed 's:/*$::')
}

# start_fault_server: tests/fault_server.py in the background; sets FAULT_URL.
start_fault_server() {
    /usr/bin/python3 "$FB_ROOT/tests/fault_server.py" > "$SCRATCH/fault.out" 2>&1 &
    fault_pid=$!
    cleanup_hooks="$cleanup_hooks kill $fault_pid 2>/dev/null || true;"
    i=0
    while ! grep -q '^http://' "$SCRATCH/fault.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "fault server did not start: $(cat "$SCRATCH/fault.out")"
        sleep 0.05
    done
    FAULT_URL=$(head -1 "$SCRATCH/fault.out")
}

# children_of PID: the PIDs of PID's children.
children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }
