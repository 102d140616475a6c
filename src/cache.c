#include "cache.h"

#include <stdlib.h>
#include <string.h>

struct fb_cache_entry {
    struct fb_cache_entry *next;
    uint64_t hash;
    char *body;
    size_t len;
    char key[];
};

static uint64_t hash_key(const char *key)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

int cache_init(struct fb_cache *c)
{
    c->nslots = 16;
    c->count = 0;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    return c->slots ? 0 : -1;
}

void cache_free(struct fb_cache *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        struct fb_cache_entry *e = c->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e->body);
            free(e);
        }
    }
    free(c->slots);
    c->slots = NULL;
    c->nslots = c->count = 0;
}

static struct fb_cache_entry *find(const struct fb_cache *c, const char *key, uint64_t h)
{
    struct fb_cache_entry *e = c->slots[h & (c->nslots - 1)];
    for (; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

int cache_get(const struct fb_cache *c, const char *key, const char **body, size_t *len)
{
    struct fb_cache_entry *e = find(c, key, hash_key(key));
    if (e == NULL)
        return 0;
    *body = e->body;
    *len = e->len;
    return 1;
}

static int grow(struct fb_cache *c)
{
    size_t nslots = c->nslots * 2;
    struct fb_cache_entry **slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < c->nslots; i++) {
        struct fb_cache_entry *e = c->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = slots[e->hash & (nslots - 1)];
            slots[e->hash & (nslots - 1)] = e;
        }
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = nslots;
    return 0;
}

int cache_put(struct fb_cache *c, const char *key, char *body, size_t len)
{
    uint64_t h = hash_key(key);
    struct fb_cache_entry *e = find(c, key, h);

    if (e) {
        free(e->body);
        e->body = body;
        e->len = len;
        return 0;
    }
    /* Keep the load factor under 1; a failed grow only makes chains longer. */
    if (c->count >= c->nslots)
        (void)grow(c);
    size_t klen = strlen(key) + 1;
    e = malloc(sizeof(*e) + klen);
    if (e == NULL) {
        free(body);
        return -1;
    }
    memcpy(e->key, key, klen);
    e->hash = h;
    e->body = body;
    e->len = len;
    e->next = c->slots[h & (c->nslots - 1)];
    c->slots[h & (c->nslots - 1)] = e;
    c->count++;
    return 0;
}
