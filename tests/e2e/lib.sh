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

# validate FILE [SCHEMA]: the file validates against the schema its
# "schema" field names (schema/fetchbench-1 or -2.schema.json) and holds
# that format's invariants (tests/check_report.py); both tools pick the
# format by that field.  With SCHEMA (fetchbench/2, say) the file must
# also be of that format.
validate() {
    if [ $# -gt 1 ]; then
        got=$(/usr/bin/python3 -c 'import re, sys
m = re.match(rb"\s*\{\s*\"schema\"\s*:\s*\"([^\"]*)\"", open(sys.argv[1], "rb").read(4096))
print(m.group(1).decode() if m else "(none first)")' "$1") || fail "$1: unreadable"
        [ "$got" = "$2" ] || fail "$1: schema is $got, expected $2"
    fi
    /usr/bin/python3 "$FB_ROOT/tests/validate_json.py" "$1" || fail "$1 does not validate"
    /usr/bin/python3 "$FB_ROOT/tests/check_report.py" "$1" || fail "$1 breaks a report invariant"
}

# await_url OUT ERR: waits (up to 20 s: valgrind is slow) until a server
# started in the background prints its http:// line to OUT; prints that URL
# without a trailing slash.
await_url() {
    i=0
    while ! grep -q '^http://' "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 400 ] || fail "server did not start: $(cat "$2")"
        sleep 0.05
    done
    grep -m1 '^http://' "$1" | sed 's:/*$::'
}

# start_server ARGS...: `fetchbench serve` on an ephemeral loopback port in
# the background; sets SERVER_PID and SERVER_URL (http://127.0.0.1:PORT).
start_server() {
    rm -f "$SCRATCH/server.out"
    $TEST_PREFIX "$FETCHBENCH" serve --port 0 "$@" >"$SCRATCH/server.out" 2>"$SCRATCH/server.err" &
    SERVER_PID=$!
    cleanup_hooks="$cleanup_hooks kill $SERVER_PID 2>/dev/null || true;"
    SERVER_URL=$(await_url "$SCRATCH/server.out" "$SCRATCH/server.err") || exit 1
}

# start_fault_server: tests/fault_server.py in the background; sets FAULT_URL.
start_fault_server() {
    /usr/bin/python3 "$FB_ROOT/tests/fault_server.py" > "$SCRATCH/fault.out" 2>&1 &
    cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
    FAULT_URL=$(await_url "$SCRATCH/fault.out" "$SCRATCH/fault.out") || exit 1
}

# children_of PID: the PIDs of PID's children.
children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }

# Broken reports, tests/schema_negative and below: each is refused by the
# schema (tests/validate_json.py) or the invariants (tests/check_report.py)
# with exit 1 and one line on stderr holding the rule's words. Set NEG to
# the cases' directory; a case is named by its path below it.
neg_checked=""
# neg_refused TOOL CASE TEXT: TOOL (validate_json.py or check_report.py)
# refuses NEG/CASE so.
neg_refused() {
    tool=$FB_ROOT/tests/$1 file=$NEG/$2 text=$3
    [ -f "$file" ] || fail "no such case $file"
    set +e; /usr/bin/python3 "$tool" "$file" >"$SCRATCH/out" 2>"$SCRATCH/err"; rc=$?; set -e
    err=$(cat "$SCRATCH/err")
    [ "$rc" -eq 1 ] || fail "$1 $2: exit $rc, expected 1 ($err)"
    expect_eq "stderr lines of $1 $2" "$(wc -l <"$SCRATCH/err" | tr -d ' ')" 1
    case "$err" in *"$text"*) ;; *) fail "$1 $2: '$err' lacks '$text'" ;; esac
    neg_checked="$neg_checked $2 "
    echo "ok (refused): $err"
}
# neg_schema CASE TEXT: the schema refuses it.
neg_schema() { neg_refused validate_json.py "$@"; }
# neg_invariant CASE TEXT: the schema accepts it (so that it is the
# invariant that catches it), the invariants refuse it.
neg_invariant() {
    /usr/bin/python3 "$FB_ROOT/tests/validate_json.py" "$NEG/$1" \
        || fail "$1 should pass the schema: it tests an invariant"
    neg_refused check_report.py "$@"
}
# neg_both CASE TEXT: not strict JSON; both refuse it with the same words.
neg_both() { neg_refused validate_json.py "$@"; neg_refused check_report.py "$@"; }
# expect_all_refused [DIR...]: every *.json in each directory below NEG
# (".", the default: NEG itself) was refused above, so that a case added
# without its rule's words, or a good report among the broken, fails.
expect_all_refused() {
    [ $# -gt 0 ] || set -- .
    for d in "$@"; do
        for f in "$NEG/$d"/*.json; do
            case $d in .) name=$(basename "$f") ;; *) name=$d/$(basename "$f") ;; esac
            case "$neg_checked" in *" $name "*) ;; *) fail "$name is not checked" ;; esac
        done
    done
}
