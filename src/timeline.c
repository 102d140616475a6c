#include "timeline.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct fb_task) <= 64, "a task record stays within 64 bytes");

void timeline_free(struct fb_timeline *tl)
{
    free(tl->fetches);
    free(tl->more);
    memset(tl, 0, sizeof(*tl));
}

/* Grows an array of elem-sized items to hold one more; -1 out of memory. */
static int reserve(void **items, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    if (*cap >= UINT32_MAX / 2)
        return -1;
    uint32_t ncap = *cap ? *cap * 2 : 256;
    void *p = realloc(*items, (size_t)ncap * elem);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

int timeline_enter(struct fb_timeline *tl, struct fb_task *t, uint8_t state, uint32_t at)
{
    if (t->nentries == UINT8_MAX)
        return -1; /* a task that went round 255 times: the rest is not drawn */
    if (t->nentries < TASK_INLINE) {
        t->state[t->nentries] = state;
        t->at[t->nentries] = at;
        t->nentries++;
        return 0;
    }
    if (reserve((void **)&tl->more, tl->nmore, &tl->capmore, sizeof(*tl->more)) < 0)
        return -1;
    struct fb_entry_more *e = &tl->more[tl->nmore];
    e->next = 0;
    e->at = at;
    e->state = state;
    /* Appended at the tail: overflowing tasks are rare and short. */
    uint32_t *link = &t->more;
    while (*link)
        link = &tl->more[*link - 1].next;
    *link = ++tl->nmore;
    t->nentries++;
    return 0;
}

struct fb_fetch_rec *timeline_fetch(struct fb_timeline *tl, struct fb_task *t, uint32_t at)
{
    if (reserve((void **)&tl->fetches, tl->nfetches, &tl->capfetches, sizeof(*tl->fetches)) < 0)
        return NULL;
    if (timeline_enter(tl, t, STATE_FETCHING, at) < 0)
        return NULL;
    struct fb_fetch_rec *f = &tl->fetches[tl->nfetches];
    memset(f, 0, sizeof(*f));
    f->start_us = at;
    f->admitted_us = TIMELINE_NONE;
    f->end_us = TIMELINE_NONE;
    uint32_t *link = &t->fetch;
    while (*link)
        link = &tl->fetches[*link - 1].next;
    *link = ++tl->nfetches;
    return f;
}

struct fb_fetch_rec *timeline_last_fetch(const struct fb_timeline *tl, const struct fb_task *t)
{
    uint32_t i = t->fetch;
    if (i == 0)
        return NULL;
    while (tl->fetches[i - 1].next)
        i = tl->fetches[i - 1].next;
    return &tl->fetches[i - 1];
}

/* Where derived spans go: into a buffer, or, for totals, added up by state. */
struct spanbuf {
    struct fb_span **buf;
    size_t *cap, n;
    uint64_t *sum;
    int failed;
};

static void push(struct spanbuf *b, uint8_t state, uint32_t start, uint32_t end, unsigned seq)
{
    if (b->sum) {
        b->sum[state] += end > start ? end - start : 0;
        return;
    }
    if (b->n == *b->cap) {
        size_t cap = *b->cap ? *b->cap * 2 : 16;
        struct fb_span *p = realloc(*b->buf, cap * sizeof(*p));
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        *b->buf = p;
        *b->cap = cap;
    }
    struct fb_span *s = &(*b->buf)[b->n++];
    s->state = state;
    s->start_us = start;
    s->end_us = end < start ? start : end;
    s->seq = (uint16_t)seq;
}

/* A fetch: `queued` from the request to libcurl's start, then its phases,
 * each reached phase ending where the next begins; the last one reached
 * runs to the fetch's end, so a failed connect shows as a connect span that
 * ends at the failure. A fetch still in flight when the task ended (an
 * interrupted run) ends there. When the server said how long the request
 * waited for a slot, `request` is split at PHASE_SERVICE into
 * `server_queue` (left out when it did not wait) and `in_service`. */
static void push_fetch(struct spanbuf *b, const struct fb_fetch_rec *f, uint32_t task_end, unsigned seq)
{
    static const uint8_t whole[] = {STATE_DNS, STATE_CONNECT, STATE_REQUEST, STATE_RECEIVE};
    static const uint8_t split[] = {STATE_DNS, STATE_CONNECT, STATE_SERVER_QUEUE, STATE_IN_SERVICE,
                                    STATE_RECEIVE};
    uint32_t end = f->end_us != TIMELINE_NONE ? f->end_us : task_end;
    uint32_t first = f->phase_us[PHASE_FIRST_BYTE], service = f->phase_us[PHASE_SERVICE];
    int said = service && first;
    const uint8_t *state = said ? split : whole;
    /* mark[i] ends the span of state[i]; the last state runs to the end.
     * The server's wait never reaches past the answer's first byte. */
    const uint32_t mark[] = {f->phase_us[PHASE_DNS], f->phase_us[PHASE_CONNECT],
                             said ? (service < first ? service : first) : first, first};
    int n = said ? 4 : 3;

    if (f->admitted_us == TIMELINE_NONE) {
        push(b, STATE_QUEUED, f->start_us, end, seq); /* libcurl never ran it */
        return;
    }
    uint32_t start = f->admitted_us < f->start_us ? f->start_us : f->admitted_us;
    push(b, STATE_QUEUED, f->start_us, start, seq);
    uint32_t from = start;
    for (int p = 0;; p++) {
        int last = p == n || mark[p] == 0;
        uint32_t to = end;
        if (!last) {
            uint64_t at = (uint64_t)start + mark[p];
            to = at > end ? end : (uint32_t)at;
            if (to < from)
                to = from;
        }
        if (last && p == 0 && to == from)
            return; /* ended before libcurl reached any phase */
        if (state[p] == STATE_SERVER_QUEUE && to == from && !last)
            continue; /* served at once: in_service alone says the server told */
        push(b, state[p], from, to, seq);
        if (last)
            return;
        from = to;
    }
}

/* Entry i of t, inline or from the overflow chain (walked by the caller). */
struct cursor {
    const struct fb_timeline *tl;
    const struct fb_task *t;
    unsigned i;
    uint32_t more;
};

static int next_entry(struct cursor *c, uint8_t *state, uint32_t *at)
{
    if (c->i < TASK_INLINE && c->i < c->t->nentries) {
        *state = c->t->state[c->i];
        *at = c->t->at[c->i];
        c->i++;
        return 1;
    }
    if (c->more == 0)
        return 0;
    const struct fb_entry_more *e = &c->tl->more[c->more - 1];
    *state = e->state;
    *at = e->at;
    c->more = e->next;
    c->i++;
    return 1;
}

static int derive(const struct fb_timeline *tl, const struct fb_task *t, struct spanbuf *out);

int timeline_spans(const struct fb_timeline *tl, const struct fb_task *t, struct fb_span **buf, size_t *cap)
{
    struct spanbuf b = {buf, cap, 0, NULL, 0};
    return derive(tl, t, &b);
}

void timeline_state_time(const struct fb_timeline *tl, const struct fb_task *t, uint64_t per_state[256])
{
    struct spanbuf b = {NULL, NULL, 0, per_state, 0};
    (void)derive(tl, t, &b);
}

static int derive(const struct fb_timeline *tl, const struct fb_task *t, struct spanbuf *out)
{
    struct spanbuf b = *out;
    struct cursor c = {tl, t, 0, t->more};
    uint32_t end = t->end_us;
    uint32_t fetch = t->fetch;
    uint8_t state, open_in = STATE_NONE, open_out = STATE_NONE;
    uint32_t at, in_at = 0, out_at = 0;
    unsigned seq = 0, in_seq = 0, out_seq = 0;

    if (!(t->flags & TASK_ARRIVED))
        return 0;
    push(&b, STATE_CREATED, t->created_us, t->flags & TASK_STARTED ? t->start_us : end, 0);
    /* Each entry closes the open state of its lane. */
    while (next_entry(&c, &state, &at)) {
        seq++;
        if (state & TIMELINE_OUTER) {
            if (open_out != STATE_NONE)
                push(&b, open_out, out_at, at, out_seq);
            open_out = state & ~TIMELINE_OUTER;
            out_at = at;
            out_seq = seq;
            continue;
        }
        if (open_in != STATE_NONE)
            push(&b, open_in, in_at, at, in_seq);
        open_in = STATE_NONE;
        if (state == STATE_FETCHING) {
            if (fetch) {
                push_fetch(&b, &tl->fetches[fetch - 1], end, seq);
                fetch = tl->fetches[fetch - 1].next;
            }
            continue;
        }
        open_in = state;
        in_at = at;
        in_seq = seq;
    }
    if (open_in != STATE_NONE)
        push(&b, open_in, in_at, end, in_seq);
    if (open_out != STATE_NONE)
        push(&b, open_out, out_at, end, out_seq);
    if (b.failed)
        return -1;
    if (b.sum)
        return 0;
    /* Insertion sort by (start, entry order), stable so a fetch's phases
     * keep theirs: spans arrive nearly sorted, since each is pushed when
     * its lane's next entry closes it. */
    struct fb_span *s = *b.buf;
    for (size_t i = 1; i < b.n; i++) {
        struct fb_span x = s[i];
        size_t j = i;
        while (j > 0 && (s[j - 1].start_us > x.start_us
                         || (s[j - 1].start_us == x.start_us && s[j - 1].seq > x.seq))) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
    return (int)b.n;
}
