# nginx for scripts/proxy (sourced): a master in the foreground (daemon off)
# with one worker, its pid file, error log, temp paths and cache all in DIR.

# $NGINX: another nginx binary (a build of your own, say); default nginx.
proxy_binary() { echo "${NGINX:-nginx} nginx-light"; }

# proxy_start DIR PORT: nginx on $PROXY_CONF.  -e names the startup error
# log: without it nginx opens its compiled-in /var/log/nginx/error.log
# before it reads the config.  A root master runs its workers as nobody,
# who cannot enter a private DIR (mktemp's 0700, or one under a test's
# scratch dir): root's are kept root with `user root`, on loopback only.
proxy_start() {
    mkdir -p "$1/tmp"   # nginx makes each temp path, not its parents
    user=""
    [ "$(id -u)" -ne 0 ] || user=" user root;"
    proxy_spawn "${NGINX:-nginx}" -p "$1" -e "$1/error.log" -c "$PROXY_CONF" \
        -g "daemon off; pid $1/nginx.pid;$user"
}

# Answered by nginx itself (each recipe's `location = /proxy-ready`): the
# readiness check neither reaches the backend nor fills the cache.
PROXY_READY_PATH=/proxy-ready
