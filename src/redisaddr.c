/* --store's Redis addresses: parsed, and described for the report. */
#include "redisaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisd.h"

int redis_addr_parse(const char *url, struct fb_redis_addr *a, char *err, size_t errlen)
{
    const char *p = url + 8, *at, *colon, *slash;
    char *end;

    memset(a, 0, sizeof(*a));
    if (strncmp(url, "redis://", 8) != 0)
        goto bad;
    slash = strchr(p, '/');
    at = strchr(p, '@');
    if (at && (!slash || at < slash)) {
        const char *c = memchr(p, ':', (size_t)(at - p));
        size_t ul = c ? (size_t)(c - p) : 0, pl = c ? (size_t)(at - c - 1) : (size_t)(at - p);
        if (ul >= sizeof(a->user) || pl >= sizeof(a->password))
            goto bad;
        memcpy(a->user, p, ul);
        memcpy(a->password, c ? c + 1 : p, pl);
        p = at + 1;
    }
    colon = strrchr(p, ':');
    if (colon == NULL || colon == p || (slash && colon > slash) || (size_t)(colon - p) >= sizeof(a->host))
        goto bad;
    memcpy(a->host, p, (size_t)(colon - p));
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
        goto bad;
    a->port = (int)port;
    if (*end == '/' && end[1]) {
        const char *d = end + 1;
        long db = strtol(d, &end, 10);
        if (end == d || *end || db < 0 || db > 1000000)
            goto bad;
        a->db = (int)db;
    }
    return 0;
bad:
    snprintf(err, errlen, "--store: expected mem, redis or redis://[[USER]:PASSWORD@]HOST:PORT[/DB], got '%s'",
             url);
    return -1;
}

void redis_addr_describe(const struct fb_redis_addr *a, char *buf, size_t len)
{
    snprintf(buf, len, "redis://%s:%d/%d", a->host, a->port, a->db);
}

void store_describe(const char *store, char *buf, size_t len)
{
    struct fb_redis_addr a;
    char err[256];

    if (store == NULL || strcmp(store, "mem") == 0)
        snprintf(buf, len, "mem");
    else if (strcmp(store, "redis") == 0)
        snprintf(buf, len, "redis://127.0.0.1:%d/0", redisd_port());
    else if (redis_addr_parse(store, &a, err, sizeof(err)) == 0)
        redis_addr_describe(&a, buf, len);
    else
        snprintf(buf, len, "mem"); /* cli_parse refused it already */
}
