# varnish-ttl0: an object that may not be kept (beresp.ttl = 0s) - Varnish
# before 8.0 serialises the waiting list behind it.
#
# What it shows: the first miss fetches; the others park on the waiting
# list (see varnish-default.vcl).  The answer has ttl 0, grace 0, keep 0:
# it is given to the request that fetched it and to no one else, so each
# woken waiter finds no usable object, becomes the next fetch and parks
# the rest again.  N concurrent requests cost N backend requests made ONE
# AFTER ANOTHER: the last client waits N times the backend's latency.
# (vcl(7): beresp.ttl, beresp.grace, beresp.keep.  Varnish 8.0's
# waiting-list rework - upstream commit "hash: A waiting list match is a
# formal revalidation" - hands the object that woke them to the waiters,
# ending this "waiting list serialization".)
#
# `return (deliver)` matters: without it the built-in
# vcl_backend_response runs next, and its vcl_beresp_stale turns any
# beresp.ttl <= 0s into a hit-for-miss object for 120 s (see
# varnish-hfm.vcl) - a different behaviour.  PROXY_TTL is not used here.
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
    set beresp.ttl = 0s;
    set beresp.grace = 0s;
    set beresp.keep = 0s;
    return (deliver);
}
