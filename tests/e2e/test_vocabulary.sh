#!/bin/sh
# A strategy is one file: `nap` exists only in the test build
# (tests/strategies/strategy_nap.c), and its own state, outcome and counter
# reach the JSON, the schema and invariant checks, the trace and a plot with
# no edit anywhere else.
. "$(dirname "$0")/lib.sh"
: "${FETCHBENCH_TEST:=$(dirname "$FETCHBENCH")/fetchbench-test}"
[ -x "$FETCHBENCH_TEST" ] || fail "no test build at $FETCHBENCH_TEST (make $FETCHBENCH_TEST)"
fbt() { $TEST_PREFIX "$FETCHBENCH_TEST" "$@"; }

# The release build does not know it.
expect_exit 2 fb --mode nap --quiet > /dev/null 2> "$SCRATCH/err"
grep -q "unknown mode 'nap'" "$SCRATCH/err" || fail "release build: $(cat "$SCRATCH/err")"

fbt --tasks 40 --mode nap,lock --delay-ms 2 --quiet --trace "$SCRATCH/nap.trace" > "$SCRATCH/nap.json"
validate "$SCRATCH/nap.json"
expect_eq "nap is a wait state in the vocabulary" \
    "$(jqv "$SCRATCH/nap.json" '.vocabulary.states[] | select(.name=="nap") | .wait')" true
expect_eq "napped_hit is an outcome" \
    "$(jqv "$SCRATCH/nap.json" '[.vocabulary.outcomes[].name] | index("napped_hit") != null')" true
expect_eq "every nap task napped once (its counter)" \
    "$(jqv "$SCRATCH/nap.json" '.runs[0].summary.counters.naps')" 40
expect_eq "every nap task has a nap span" \
    "$(jqv "$SCRATCH/nap.json" '[.runs[0].tasks[] | select(any(.spans[]; .[0]=="nap"))] | length')" 40
expect_eq "nap time is counted as waiting" \
    "$(jqv "$SCRATCH/nap.json" '.runs[0].summary.wait_us.nap > 0')" true
expect_eq "the lock run has no nap" \
    "$(jqv "$SCRATCH/nap.json" '[.runs[1].tasks[].spans[] | select(.[0]=="nap")] | length')" 0
expect_eq "outcomes sum to the tasks" \
    "$(jqv "$SCRATCH/nap.json" '.runs[0].summary.outcomes | add')" 40
grep -q '"name":"nap"' "$SCRATCH/nap.trace" || fail "the trace has no nap span"

# A plot of it: the new state is drawn and named in the legend.
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    /usr/bin/python3 "$FB_ROOT/scripts/plot-timeline" "$SCRATCH/nap.json" -o "$SCRATCH/nap.svg" \
        > /dev/null 2>&1 || fail "plot-timeline failed on the nap report"
    grep -q '>nap<\|nap</' "$SCRATCH/nap.svg" || grep -q 'nap' "$SCRATCH/nap.svg" \
        || fail "the plot's SVG does not name the nap state"
fi
echo "vocabulary: ok"
