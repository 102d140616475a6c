/* The in-process store: what a cache in the coroutines' own process is. It
 * answers every get, set, unlock and try at once, and a lock or a watch at
 * once when the lock is free; a waiter is answered later, when the lock is
 * handed to it, and a watcher at the holder's release. */
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "store.h"
#include "task.h"

struct mem_entry {
    char *value;
    size_t len;
    struct fb_entry_meta meta;
    int present;
};

/* A lock and the tasks watching it (waiting for its release, not for it). */
struct mem_lock {
    struct fb_lock lock;        /* first: a struct fb_lock * is a struct mem_lock * */
    struct fb_queue watchers;
};

struct mem_store {
    struct mem_entry *entries;  /* [nkeys] */
    struct mem_lock **locks;    /* [nkeys], made on first use */
    struct mem_lock global;
    uint32_t nkeys;
    uint64_t releasing;         /* the token of the unlock in progress: whose
                                 * release a grant is */
    fb_store_answer_fn *answer;
    void *ctx;
};

#define TASK_OF(node) ((struct fb_task *)(node)) /* node is the first member */

static void grant(void *arg, struct fb_node *next)
{
    struct mem_store *m = arg;
    struct fb_store_reply r = {.op = STORE_LOCK, .status = STORE_OK, .granted_by = m->releasing};
    m->answer(m->ctx, TASK_OF(next), &r);
}

static struct mem_lock *lock_for(struct mem_store *m, uint32_t id)
{
    if (id == STORE_LOCK_GLOBAL)
        return &m->global;
    if (id >= m->nkeys)
        return NULL;
    if (m->locks[id] == NULL) {
        m->locks[id] = calloc(1, sizeof(struct mem_lock));
        if (m->locks[id])
            lock_init(&m->locks[id]->lock, grant, m);
    }
    return m->locks[id];
}

/* The lock if it was ever made (a lock never made is free). */
static struct mem_lock *lock_made(struct mem_store *m, uint32_t id)
{
    return id == STORE_LOCK_GLOBAL ? &m->global : id < m->nkeys ? m->locks[id] : NULL;
}

static int mem_get(void *s, uint32_t key, struct fb_task *owner, struct fb_store_reply *now)
{
    struct mem_store *m = s;
    memset(now, 0, sizeof(*now));
    now->op = STORE_GET;
    if (key >= m->nkeys || !m->entries[key].present) {
        now->status = STORE_MISS;
        return 1;
    }
    const struct mem_entry *e = &m->entries[key];
    now->status = STORE_OK;
    now->meta = e->meta;
    now->value = e->value;
    now->len = e->len;
    return 1;
}

static int mem_set(void *s, uint32_t key, char *value, size_t len, const struct fb_entry_meta *meta,
                   struct fb_task *owner, struct fb_store_reply *now)
{
    struct mem_store *m = s;
    memset(now, 0, sizeof(*now));
    now->op = STORE_SET;
    if (key >= m->nkeys) {
        free(value);
        now->status = STORE_ERROR;
        return 1;
    }
    struct mem_entry *e = &m->entries[key];
    free(e->value);
    e->value = value;
    e->len = len;
    e->meta = *meta;
    e->present = 1;
    now->status = STORE_OK;
    return 1;
}

static int mem_lock(void *s, uint32_t id, uint64_t token, uint32_t lease_us, struct fb_task *owner,
                    struct fb_store_reply *now)
{
    struct mem_lock *l = lock_for(s, id);
    memset(now, 0, sizeof(*now));
    now->op = STORE_LOCK;
    if (l == NULL) {
        now->status = STORE_ERROR;
        return 1;
    }
    if (!lock_acquire(&l->lock, &owner->node))
        return 0;
    now->status = STORE_OK;
    return 1;
}

static int mem_try_lock(void *s, uint32_t id, uint64_t token, struct fb_task *owner, struct fb_store_reply *now)
{
    struct mem_lock *l = lock_for(s, id);
    memset(now, 0, sizeof(*now));
    now->op = STORE_LOCK;
    if (l == NULL)
        now->status = STORE_ERROR;
    else if (l->lock.locked)
        now->status = STORE_BUSY;
    else
        now->status = lock_acquire(&l->lock, &owner->node) ? STORE_OK : STORE_ERROR;
    return 1;
}

static int mem_watch(void *s, uint32_t id, struct fb_task *owner, struct fb_store_reply *now)
{
    struct mem_lock *l = lock_made(s, id);
    memset(now, 0, sizeof(*now));
    now->op = STORE_WATCH;
    if (id != STORE_LOCK_GLOBAL && id >= ((struct mem_store *)s)->nkeys) {
        now->status = STORE_ERROR;
        return 1;
    }
    if (l == NULL || !l->lock.locked) {
        now->status = STORE_OK;
        now->how = STORE_HOW_AT_ONCE;
        return 1;
    }
    queue_push(&l->watchers, &owner->node);
    return 0;
}

/* Every watcher of l is told of the release, in the order they came; the
 * queue is emptied first, so a watcher that watches again from its answer
 * (stores that answer inside the call) waits for the next release. */
static void tell_watchers(struct mem_store *m, struct mem_lock *l)
{
    struct fb_queue told = l->watchers;
    struct fb_node *n;
    l->watchers.head = l->watchers.tail = NULL;
    while ((n = queue_pop(&told)) != NULL) {
        struct fb_store_reply r = {.op = STORE_WATCH, .status = STORE_OK, .how = STORE_HOW_NOTIFIED};
        m->answer(m->ctx, TASK_OF(n), &r);
    }
}

/* n out of q; 1 when it was there. */
static int queue_remove(struct fb_queue *q, struct fb_node *n)
{
    struct fb_node *prev = NULL;
    for (struct fb_node *p = q->head; p; prev = p, p = p->next) {
        if (p != n)
            continue;
        if (prev)
            prev->next = p->next;
        else
            q->head = p->next;
        if (q->tail == p)
            q->tail = prev;
        p->next = NULL;
        return 1;
    }
    return 0;
}

static int mem_unlock(void *s, uint32_t id, uint64_t token, struct fb_task *owner, struct fb_store_reply *now)
{
    struct mem_store *m = s;
    struct mem_lock *l = lock_made(m, id);
    memset(now, 0, sizeof(*now));
    now->op = STORE_UNLOCK;
    if (l == NULL || !l->lock.locked) {
        now->status = STORE_ERROR;
        return 1;
    }
    m->releasing = token;
    lock_release(&l->lock);
    m->releasing = 0;
    tell_watchers(m, l);
    now->status = STORE_OK;
    return 1;
}

static int mem_cancel(void *s, struct fb_task *owner)
{
    struct mem_store *m = s;
    if (lock_cancel(&m->global.lock, &owner->node) || queue_remove(&m->global.watchers, &owner->node))
        return 1;
    for (uint32_t i = 0; i < m->nkeys; i++)
        if (m->locks[i]
            && (lock_cancel(&m->locks[i]->lock, &owner->node) || queue_remove(&m->locks[i]->watchers, &owner->node)))
            return 1;
    return 0;
}

static void mem_free(void *s)
{
    struct mem_store *m = s;
    if (m == NULL)
        return;
    for (uint32_t i = 0; i < m->nkeys; i++) {
        if (m->entries)
            free(m->entries[i].value);
        if (m->locks)
            free(m->locks[i]);
    }
    free(m->entries);
    free(m->locks);
    free(m);
}

static const struct fb_store_ops mem_ops = {
    .name = "memory",
    .get = mem_get,
    .set = mem_set,
    .lock = mem_lock,
    .unlock = mem_unlock,
    .try_lock = mem_try_lock,
    .watch = mem_watch,
    .cancel = mem_cancel,
    .free = mem_free,
};

int store_mem_open(struct fb_store *s, uint32_t nkeys, fb_store_answer_fn *answer, void *ctx)
{
    struct mem_store *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return -1;
    m->nkeys = nkeys;
    m->answer = answer;
    m->ctx = ctx;
    m->entries = calloc(nkeys ? nkeys : 1, sizeof(*m->entries));
    m->locks = calloc(nkeys ? nkeys : 1, sizeof(*m->locks));
    if (m->entries == NULL || m->locks == NULL) {
        mem_free(m);
        return -1;
    }
    lock_init(&m->global.lock, grant, m);
    s->ops = &mem_ops;
    s->impl = m;
    return 0;
}
