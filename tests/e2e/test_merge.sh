#!/bin/sh
# fetchbench merge: reports of one experiment (one --run-id, one workload),
# made by separate invocations against one fetchbench serve, become one
# report whose fleet summary sums them; reports of different experiments
# are refused.
. "$(dirname "$0")/lib.sh"

start_server
url="$SERVER_URL/delay/200/url/{key}"
stats="$SERVER_URL/stats"

fb --url "$url" --backend-stats "$stats" --processes 2 --tasks 20 --mode nolock --run-id exp-1 --quiet \
    -o "$SCRATCH/a.json"
fb --url "$url" --backend-stats "$stats" --processes 2 --tasks 20 --mode nolock --run-id exp-1 --quiet \
    -o "$SCRATCH/b.json"
fb --url "$url" --backend-stats "$stats" --tasks 20 --mode nolock --run-id exp-1 --quiet -o "$SCRATCH/c.json"
expect_eq "run_id recorded" "$(jqv "$SCRATCH/a.json" .config.run_id)" exp-1

fb merge "$SCRATCH/a.json" "$SCRATCH/b.json" -o "$SCRATCH/m.json"
validate "$SCRATCH/m.json" fetchbench/2
expect_eq "80 tasks from 2 x 40" "$(jqv "$SCRATCH/m.json" '[.runs[].tasks[]] | length')" 80
expect_eq "the group's tasks" "$(jqv "$SCRATCH/m.json" .fleet.groups[0].summary.tasks)" 80
expect_eq "clients renumbered" "$(jqv "$SCRATCH/m.json" '[.runs[].client] | join(",")')" "0,1,2,3"
expect_eq "tasks follow their run" \
    "$(jqv "$SCRATCH/m.json" '[.runs[] | .client as $c | .tasks[] | select(.client != $c)] | length')" 0
ua=$(jqv "$SCRATCH/a.json" .fleet.groups[0].summary.upstream_requests)
ub=$(jqv "$SCRATCH/b.json" .fleet.groups[0].summary.upstream_requests)
expect_eq "upstream: the sum" "$(jqv "$SCRATCH/m.json" .fleet.groups[0].summary.upstream_requests)" $((ua + ub))
expect_eq "upstream: 80" $((ua + ub)) 80
expect_eq "the server's counts: the sum" "$(jqv "$SCRATCH/m.json" .fleet.groups[0].summary.server_requests)" 80
expect_eq "one host" "$(jqv "$SCRATCH/m.json" .fleet.same_host)" true

# A single-process report joins too (client 0 of its file).
fb merge "$SCRATCH/a.json" "$SCRATCH/c.json" "$SCRATCH/b.json" > "$SCRATCH/m3.json"
validate "$SCRATCH/m3.json"
expect_eq "three files: clients" "$(jqv "$SCRATCH/m3.json" '[.runs[].client] | join(",")')" "0,1,2,3,4"
expect_eq "three files: 100 tasks" "$(jqv "$SCRATCH/m3.json" .fleet.groups[0].summary.tasks)" 100

# Another machine's report: times are not comparable, and the report says so.
jq -c '.config.hostname = "elsewhere"' "$SCRATCH/b.json" > "$SCRATCH/b2.json"
fb merge "$SCRATCH/a.json" "$SCRATCH/b2.json" -o "$SCRATCH/mh.json"
validate "$SCRATCH/mh.json"
expect_eq "two hosts" "$(jqv "$SCRATCH/mh.json" .fleet.same_host)" false

# Not one experiment: one line, exit 2, nothing written.
fb --url "$url" --tasks 10 --mode nolock --run-id exp-1 --quiet -o "$SCRATCH/d.json"
expect_exit 2 fb merge "$SCRATCH/a.json" "$SCRATCH/d.json" -o "$SCRATCH/no.json"
[ ! -e "$SCRATCH/no.json" ] || fail "a refused merge wrote its output"
fb --url "$url" --tasks 20 --mode nolock --run-id exp-2 --quiet -o "$SCRATCH/e.json"
expect_exit 2 fb merge "$SCRATCH/a.json" "$SCRATCH/e.json"
expect_exit 2 fb merge
echo "{}" > "$SCRATCH/bad.json"
expect_exit 1 fb merge "$SCRATCH/a.json" "$SCRATCH/bad.json"
echo "test_merge: ok"
