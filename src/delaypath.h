#ifndef FB_DELAYPATH_H
#define FB_DELAYPATH_H

/* The largest delay the server honours; longer ones are capped to it. */
#define DELAYPATH_MAX_MS 600000u

/* Parses the part of a request path after "/delay/": "<ms>" or
 * "<ms>/url/<anything>" (the seed service's form). Returns 200 with *ms and
 * *capped set (a delay above DELAYPATH_MAX_MS, however many digits, is
 * capped), 404 when the path has another shape, 400 when <ms> is not a
 * non-negative decimal integer. rest must be NUL-terminated. */
int delaypath_parse(const char *rest, unsigned *ms, int *capped);

#endif
