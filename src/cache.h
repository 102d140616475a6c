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
/* Returns the cached body for key (owned by the cache) and its length, or
 * NULL on a miss. */
const char *cache_get(const struct fb_cache *c, const char *key, size_t *len);
/* Stores a copy of key and takes ownership of body (malloc'd), replacing and
 * freeing any earlier body for key. Returns 0, or -1 on out of memory (body
 * is then freed). */
int cache_put(struct fb_cache *c, const char *key, char *body, size_t len);

#endif
