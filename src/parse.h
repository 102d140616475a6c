#ifndef FB_PARSE_H
#define FB_PARSE_H

#include <stdint.h>

/* Strict number parsers for command-line values. The whole string must be a
 * base-10 number within [min, max]: no sign where min >= 0, no leading
 * blanks, no trailing garbage, no overflow. Return 0 and store the value, or
 * -1 and leave *out untouched. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_int(const char *s, int min, int max, int *out);
/* A finite decimal number ("6000", "-1.5", "2.5e3"), nothing around it. */
int parse_double(const char *s, double *out);

#endif
