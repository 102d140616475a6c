# varnish-hfm: hit-for-miss - Varnish remembers for @TTL@ s (PROXY_TTL)
# that this object is uncacheable, and then does not collapse at all.
#
# What it shows: beresp.uncacheable = true with a ttl stores a
# "hit-for-miss" marker instead of the answer (vcl(7) beresp.uncacheable;
# Users Guide "Hit-for-miss": requests that find it go to the backend as
# misses, each on its own, without the waiting list).  While the marker
# lives, N concurrent requests cost N parallel backend requests.  The very
# first requests, before any marker exists, still park on the waiting list
# of the first fetch; when it ends they are woken rush_exponent (3) at a
# time and each wakes more, so they reach the backend in waves.
# This is what the built-in VCL does by itself (for 120 s) with an answer
# whose ttl is <= 0 or that sets a cookie or says Cache-Control: private.
vcl 4.1;

backend default {
    .host = "@BACKEND_HOST@";
    .port = "@BACKEND_PORT@";
}

sub vcl_recv {
    if (req.url == "/proxy-ready") {
        return (synth(200, "ready"));
    }
}

sub vcl_backend_response {
    set beresp.ttl = @TTL@s;
    set beresp.uncacheable = true;
    return (deliver);
}
