# nginx for scripts/proxy (sourced): a master in the foreground (daemon off)
# with one worker, its pid file, error log, temp paths and cache all in DIR.

proxy_binary() { echo "nginx nginx-light"; }

# proxy_start DIR PORT: nginx on $PROXY_CONF.  -e names the startup error
# log: without it nginx opens its compiled-in /var/log/nginx/error.log
# before it reads the config.  A root master runs its worker as nobody,
# which must be able to enter DIR (mktemp makes it 0700).
proxy_start() {
    mkdir -p "$1/tmp"   # nginx makes each temp path, not its parents
    [ "$(id -u)" -ne 0 ] || chmod 755 "$1"
    proxy_spawn nginx -p "$1" -e "$1/error.log" -c "$PROXY_CONF" \
        -g "daemon off; pid $1/nginx.pid;"
}

# Answered by nginx itself (each recipe's `location = /proxy-ready`): the
# readiness check neither reaches the backend nor fills the cache.
PROXY_READY_PATH=/proxy-ready
