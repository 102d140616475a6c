# varnish for scripts/proxy (sourced): varnishd in the foreground (-F), its
# working directory (VSM files, compiled VCL, secret) in DIR/varnish.

proxy_binary() { echo "varnishd varnish"; }

# proxy_start DIR PORT: varnishd on $PROXY_CONF.  -j none: no privilege
# separation, so it runs as whoever starts it (the default unix jail, as
# root, switches to the varnish/vcache users, which cannot enter a 0700
# temp dir).  -T none: no management CLI port - nothing listens but PORT.
proxy_start() {
    proxy_spawn varnishd -F -j none -n "$1/varnish" -T none \
        -a "127.0.0.1:$2" -f "$PROXY_CONF" -s malloc,64m
}

# Answered by each recipe's vcl_recv (synth 200): the readiness check
# neither reaches the backend nor fills the cache.
PROXY_READY_PATH=/proxy-ready
