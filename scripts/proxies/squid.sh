# squid for scripts/proxy (sourced): squid in the foreground (-N), a memory
# cache only, its logs and pid in DIR.

proxy_binary() { echo "squid squid"; }

# proxy_start DIR PORT: squid on $PROXY_CONF.
# - refresh_pattern counts minutes: @TTL_MINUTES@ is PROXY_TTL rounded up.
# - -n: a service name of its own.  Squid names its shared memory
#   (/dev/shm/NAME-cf__*.shm, collapsed forwarding's queues, made even
#   without SMP workers) after it: two squids of one name collide ("File
#   exists"), and a squid that dies at start leaves them behind, so the
#   wrapper removes them after squid exits.  The wrapper ignores SIGTERM
#   (the runner signals the whole group): squid sets its own handler,
#   shuts down, and the wrapper then cleans up.
# - Squid refuses to run as root: as root it switches to
#   cache_effective_user (proxy, else nobody), which must be able to enter
#   DIR and write its logs there; the files are made for it beforehand.
# - -d 0: critical messages (FATAL ...) also on stderr, the runner's log;
#   squid then prints its CPU and memory use, so when it fails the wrapper
#   repeats the FATAL line last, for the runner's tail of the log.
proxy_start() {
    sq_min=$(( (${PROXY_TTL:-10} + 59) / 60 ))
    sed -i "s|@TTL_MINUTES@|$sq_min|g" "$PROXY_CONF"
    sq_name=fbproxy$2
    if [ "$(id -u)" -eq 0 ]; then
        sq_user=proxy
        id "$sq_user" >/dev/null 2>&1 || sq_user=nobody
        echo "cache_effective_user $sq_user" >> "$PROXY_CONF"
        chmod 755 "$1"
        touch "$1/cache.log" "$1/access.log"
        chown "$sq_user" "$1/cache.log" "$1/access.log"
    fi
    proxy_spawn sh -c 'trap "" TERM INT
rm -f /dev/shm/"$1"-*.shm
squid -N -d 0 -n "$1" -f "$2"
st=$?
rm -f /dev/shm/"$1"-*.shm
[ $st -eq 0 ] || sed -n "/FATAL/{p;q}" "$3/cache.log" "$3/proxy.log" 2>/dev/null | tail -n 1
exit $st' squid-wrapper "$sq_name" "$PROXY_CONF" "$1"
}

# An icon squid serves itself (global_internal_static): the readiness check
# neither reaches the backend nor fills the cache.
PROXY_READY_PATH=/squid-internal-static/icons/SN.png
