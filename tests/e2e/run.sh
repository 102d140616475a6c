#!/bin/sh
# Runs every tests/e2e/test_*.sh against a built fetchbench and prints a
# summary line CI can read:  "e2e: N passed, M failed".
#   FETCHBENCH   the binary under test (required)
#   TEST_PREFIX  a wrapper for each fetchbench run, e.g. valgrind
#   E2E_ONLY     run only the test files whose names contain this
set -u
: "${FETCHBENCH:?set FETCHBENCH to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
FETCHBENCH=$(cd "$(dirname "$FETCHBENCH")" && pwd)/$(basename "$FETCHBENCH")
export FETCHBENCH TEST_PREFIX="${TEST_PREFIX:-}"
export FB_ROOT=$(cd "$here/../.." && pwd)

passed=0 failed=0 failures=""
for t in "$here"/test_*.sh; do
    name=$(basename "$t" .sh)
    case "$name" in *"${E2E_ONLY:-}"*) ;; *) continue ;; esac
    log=$(mktemp)
    if sh "$t" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "PASS $name"
    else
        failed=$((failed + 1)); failures="$failures $name"
        echo "FAIL $name"; sed 's/^/    | /' "$log"
    fi
    rm -f "$log"
done
echo "e2e: $passed passed, $failed failed${failures:+ (}${failures# }${failures:+)}"
[ "$failed" -eq 0 ]
