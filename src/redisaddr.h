#ifndef FB_REDISADDR_H
#define FB_REDISADDR_H

#include <stddef.h>

/* Where a Redis is: redis://[[USER]:PASSWORD@]HOST:PORT[/DB]. */
struct fb_redis_addr {
    char host[256];
    int port;
    int db;
    char user[128], password[128]; /* "" when absent */
};

/* Parses a --store redis://... address into a; 0, or -1 with a one-line
 * reason in err. */
int redis_addr_parse(const char *url, struct fb_redis_addr *a, char *err, size_t errlen);
/* The address for the report: "redis://HOST:PORT/DB", credentials left out. */
void redis_addr_describe(const struct fb_redis_addr *a, char *buf, size_t len);

/* What --store named, for the report: "mem", or the Redis as
 * redis://HOST:PORT/DB without credentials ("redis": the embedded one's
 * loopback address, once it runs). */
void store_describe(const char *store, char *buf, size_t len);

#endif
