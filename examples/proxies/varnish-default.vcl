# varnish-default: Varnish's own request collapsing, the default behaviour.
#
# What it shows: N concurrent misses on one object cost the backend ONE
# request.  The first request becomes the fetch (a "busy" object); every
# other request for the same hash parks on the object's waiting list and is
# woken when the fetch has an answer (Varnish Users Guide, "Request and
# response VCL objects" / "Grace mode and keep"; varnishd(1) parameter
# rush_exponent: how many parked requests each completed one wakes).
#
# The only change from the built-in VCL is the object's lifetime: the
# backend (`fetchbench serve`) sends no Cache-Control, so beresp.ttl is set
# here (@TTL@ s, PROXY_TTL) instead of varnishd's default_ttl (120 s).  No
# return: the built-in vcl_backend_response still runs after this one.
# grace stays at its default (default_grace, 10 s): an expired object is
# served stale while one background fetch refreshes it.
vcl 4.1;

backend default {
    .host = "@BACKEND_HOST@";
    .port = "@BACKEND_PORT@";
}

sub vcl_recv {
    # scripts/proxy's readiness GET, answered without the backend.
    if (req.url == "/proxy-ready") {
        return (synth(200, "ready"));
    }
}

sub vcl_backend_response {
    set beresp.ttl = @TTL@s;
}
