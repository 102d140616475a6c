#ifndef FB_CACHE_H
#define FB_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* The shared cache the tasks check before fetching: URL -> response body.
 * A chained hash table that grows by doubling; entries live until
 * cache_free. Single-threaded, like everything on the loop. */
struct fb_cache_entry;

struct fb_cache {
    struct fb_cache_entry **slots;
    size_t nslots;
    size_t count;
};

int cache_init(struct fb_cache *c);
void cache_free(struct fb_cache *c);
/* Returns 1 on a hit, with the cached body (owned by the cache; NULL for an
 * empty body) and its length, or 0 on a miss. An empty body is a value like
 * any other: a 204 is cached too. */
int cache_get(const struct fb_cache *c, const char *key, const char **body, size_t *len);
/* Stores a copy of key and takes ownership of body (malloc'd, or NULL when
 * len is 0), replacing and freeing any earlier body for key. Returns 0, or
 * -1 on out of memory (body is then freed). */
int cache_put(struct fb_cache *c, const char *key, char *body, size_t len);

#endif
