#ifndef FB_DELAYPATH_H
#define FB_DELAYPATH_H

/* The largest delay the server honours; longer ones are capped to it. */
#define DELAYPATH_MAX_MS 600000u

/* Parses the part of a request path after "/delay/": "<ms>" or
 * "<ms>/url/<anything>" (the seed service's form), as it came on the wire.
 * <ms> is a non-negative decimal of any length; each digit may be
 * percent-encoded (RFC 3986: "%31" is "1") and leading zeros count for
 * nothing. Returns 200 with *ms and *capped set (a delay above
 * DELAYPATH_MAX_MS is capped), 404 when the path has another shape, 400 when
 * <ms> is anything else; on 400/404 *ms and *capped are left alone. rest must
 * be NUL-terminated. */
int delaypath_parse(const char *rest, unsigned *ms, int *capped);

#endif
