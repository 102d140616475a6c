#ifndef FB_JSONW_H
#define FB_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;

/* A buffered JSON writer for large documents. Reports stream their big
 * arrays (a million tasks) through here element by element, formatting
 * integers by hand; small objects with strings to escape go through cJSON
 * (jw_cjson). Nothing is held but the buffer. */
struct fb_jsonw {
    FILE *f;
    int failed;                 /* a write failed; later writes are dropped */
    size_t len;
    char buf[1 << 16];
};

void jw_init(struct fb_jsonw *w, FILE *f);
/* Flushes the buffer; returns 0, or -1 if any write failed. */
int jw_flush(struct fb_jsonw *w);
void jw_raw(struct fb_jsonw *w, const char *s, size_t n);
void jw_str(struct fb_jsonw *w, const char *s);   /* raw text, no quoting */
void jw_u64(struct fb_jsonw *w, uint64_t v);
/* Writes v in decimal at out (room for 20 bytes, no NUL); returns the length.
 * For writers of other buffers (the server's evbuffer chunks). */
size_t jw_format_u64(char *out, uint64_t v);
void jw_i64(struct fb_jsonw *w, int64_t v);
/* Room for n bytes (at most the buffer's size) at the returned pointer, for
 * a writer that formats in place; jw_commit(w, end) then keeps [.., end). */
char *jw_reserve(struct fb_jsonw *w, size_t n);
void jw_commit(struct fb_jsonw *w, char *end);
/* Writes v in decimal at p; returns the end. The hot path's formatter: two
 * digits per step from a table. */
char *jw_put_u32(char *p, uint32_t v);
/* Writes item unformatted; returns -1 when cJSON runs out of memory. */
int jw_cjson(struct fb_jsonw *w, const struct cJSON *item);

#endif
