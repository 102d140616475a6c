#!/bin/sh
# Varnish and Squid (examples/proxies/, started by scripts/proxy) between
# fetchbench and a `fetchbench serve`: what each recipe does to 20
# concurrent misses of one key, with the backend's own count as the witness
# (--backend-stats).  A proxy that is not installed (scripts/proxy exits 3)
# is skipped with a message.  Each scenario's recipe is a variable, so the
# suite can be run against the recipe whose mechanism is missing and must
# fail, e.g. VARNISH_DEFAULT=varnish-hfm or SQUID_COLLAPSED=squid-plain.
. "$(dirname "$0")/lib.sh"

VARNISH_DEFAULT=${VARNISH_DEFAULT:-varnish-default}
VARNISH_TTL0=${VARNISH_TTL0:-varnish-ttl0}
VARNISH_HFM=${VARNISH_HFM:-varnish-hfm}
SQUID_COLLAPSED=${SQUID_COLLAPSED:-squid-collapsed}
SQUID_PLAIN=${SQUID_PLAIN:-squid-plain}
DELAY=300       # the backend's delay, ms
STEP=150        # the backend's delay where tasks are served one after another

start_server
BACKEND=${SERVER_URL#http://}

# start_proxy RECIPE: scripts/proxy in the background in front of the
# backend; sets PROXY_URL and PROXY_PID.  Returns 3 (and says so) when the
# proxy is not installed; fails the test when it does not start.
start_proxy() {
    rm -f "$SCRATCH/proxy.out"
    sh "$FB_ROOT/scripts/proxy" "$1" --backend "$BACKEND" \
        > "$SCRATCH/proxy.out" 2> "$SCRATCH/proxy.err" &
    PROXY_PID=$!
    # SIGTERM: the runner stops the proxy's process group, removes its dir.
    cleanup_hooks="kill $PROXY_PID 2>/dev/null || true; wait $PROXY_PID 2>/dev/null || true; $cleanup_hooks"
    i=0
    until grep -q '^http://' "$SCRATCH/proxy.out" 2>/dev/null; do
        if ! kill -0 "$PROXY_PID" 2>/dev/null; then
            set +e; wait "$PROXY_PID"; rc=$?; set -e
            [ "$rc" -eq 3 ] || fail "$1 did not start (exit $rc): $(cat "$SCRATCH/proxy.err")"
            echo "SKIP $1: $(cat "$SCRATCH/proxy.err")"
            return 3
        fi
        i=$((i + 1)); [ $i -lt 300 ] || fail "$1 did not start in 15 s: $(cat "$SCRATCH/proxy.err")"
        sleep 0.05
    done
    PROXY_URL=$(grep -m1 '^http://' "$SCRATCH/proxy.out")
}

stop_proxy() {
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
}

# through NAME KEY DELAY TASKS: TASKS nolock tasks at once through the
# proxy on one key; the report is $SCRATCH/NAME.json.
through() {
    fb --quiet --mode nolock --tasks "$4" --url "$PROXY_URL/delay/$3/url/$2" \
        --backend-stats "$SERVER_URL/stats" --output "$SCRATCH/$1.json"
    validate "$SCRATCH/$1.json"
}
backend_saw() { jqv "$SCRATCH/$1.json" '.runs[0].summary.server_requests'; }
backend_peak() { jqv "$SCRATCH/$1.json" '.runs[0].server.max_in_service'; }
# ends_ms NAME: the tasks' end times in ms, in order.
ends_ms() { jqv "$SCRATCH/$1.json" '[.runs[0].tasks[].end_us / 1000 | floor] | sort | map(tostring) | join(" ")'; }
# spaced NAME GAP: how many consecutive end times are at least GAP ms apart.
spaced() { jqv "$SCRATCH/$1.json" "[.runs[0].tasks[].end_us] | sort | [range(1; length) as \$i | .[\$i] - .[\$i - 1]] | map(select(. >= $2 * 1000)) | length"; }
# within NAME: the spread of the end times, ms.
spread_ms() { jqv "$SCRATCH/$1.json" '[.runs[0].tasks[].end_us] | (max - min) / 1000 | floor'; }

# Varnish default: the waiting list collapses 20 misses into one fetch.
if start_proxy "$VARNISH_DEFAULT"; then
    through vdef vdef "$DELAY" 20
    echo "$VARNISH_DEFAULT: backend saw $(backend_saw vdef), ends $(ends_ms vdef)"
    expect_eq "$VARNISH_DEFAULT: the backend's count for 20 misses" "$(backend_saw vdef)" 1
    expect_eq "$VARNISH_DEFAULT: every task served" "$(jqv "$SCRATCH/vdef.json" '.runs[0].summary.errors.total')" 0
    stop_proxy
fi

# Varnish 7.1, ttl 0: the waiters are not given the object that woke them;
# each becomes the next fetch in turn, so 20 backend requests, never two at
# once, the tasks ending one after another about a delay apart.
if start_proxy "$VARNISH_TTL0"; then
    through vttl0 vttl0 "$STEP" 20
    echo "$VARNISH_TTL0: backend saw $(backend_saw vttl0), at most $(backend_peak vttl0) at once, ends $(ends_ms vttl0)"
    saw=$(backend_saw vttl0)
    [ "$saw" -ge 15 ] || fail "$VARNISH_TTL0: the backend saw $saw requests for 20 tasks, expected about 20"
    expect_eq "$VARNISH_TTL0: the backend's peak (one after another)" "$(backend_peak vttl0)" 1
    n=$(spaced vttl0 $((STEP / 2)))
    [ "$n" -ge 15 ] || fail "$VARNISH_TTL0: only $n of 19 ends are >= $((STEP / 2)) ms apart: $(ends_ms vttl0)"
    stop_proxy
fi

# Varnish hit-for-miss: once the marker is stored (one request first),
# 20 concurrent requests are 20 parallel backend requests.
if start_proxy "$VARNISH_HFM"; then
    through vhfm-first vhfm "$DELAY" 1
    through vhfm vhfm "$DELAY" 20
    echo "$VARNISH_HFM: backend saw $(backend_saw vhfm), at most $(backend_peak vhfm) at once, ends $(ends_ms vhfm)"
    expect_eq "$VARNISH_HFM: the backend's count for 20 requests" "$(backend_saw vhfm)" 20
    peak=$(backend_peak vhfm)
    [ "$peak" -ge 15 ] || fail "$VARNISH_HFM: the backend had at most $peak at once, expected about 20 in parallel"
    spread=$(spread_ms vhfm)
    [ "$spread" -lt $((DELAY * 2)) ] || fail "$VARNISH_HFM: the tasks' ends spread over $spread ms: not in parallel"
    stop_proxy
fi

# Squid collapses concurrent misses only with collapsed_forwarding on.
if start_proxy "$SQUID_COLLAPSED"; then
    through sqc sqc "$DELAY" 20
    echo "$SQUID_COLLAPSED: backend saw $(backend_saw sqc), ends $(ends_ms sqc)"
    expect_eq "$SQUID_COLLAPSED: the backend's count for 20 misses" "$(backend_saw sqc)" 1
    expect_eq "$SQUID_COLLAPSED: every task served" "$(jqv "$SCRATCH/sqc.json" '.runs[0].summary.errors.total')" 0
    stop_proxy
fi
if start_proxy "$SQUID_PLAIN"; then
    through sqp sqp "$DELAY" 20
    echo "$SQUID_PLAIN: backend saw $(backend_saw sqp), at most $(backend_peak sqp) at once, ends $(ends_ms sqp)"
    expect_eq "$SQUID_PLAIN: the backend's count for 20 misses" "$(backend_saw sqp)" 20
    stop_proxy
fi
echo "proxy varnish/squid: ok"
