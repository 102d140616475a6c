/* The Redis store: the cache and its locks in a Redis shared by every
 * process of an experiment, driven by hiredis's asynchronous API on the
 * run's own loop (src/redisloop.c): no blocking call once the run
 * starts, no thread. hiredis 0.14 has no command timeouts, so a watchdog
 * timer of ours gives up on a connection that stops answering; a context in
 * SUBSCRIBE mode takes no other command, so lock waiters listen on a second
 * one; redisAsyncConnect would resolve a host name with a blocking lookup,
 * so the host is resolved at open, before the run, and connected by address.
 *
 * Every answer comes later, from the loop (a reply, a notification, a timer
 * or the next tick for a command that could not be sent), never from inside
 * the operation — but one: a try of a lock this process watches and found
 * busy, with no release heard since, is answered busy at once. A task that
 * has finished takes no answer (an unlock a strategy did not wait for). */
#include "store_redis.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "redisloop.h"
#include "task.h"

/* A command unanswered this long: the connection is given up (the run goes
 * on without the store). Loopback answers in µs; a Redis busy enough to
 * take a second is as good as gone for a benchmark of 100 ms fetches. */
#define WATCHDOG_MS 100
/* Commands on the wire at once; the rest wait, formatted, in order. A
 * window keeps Redis's reply buffers and ours small and lets it work on one
 * batch while we read the last, where 10^5 commands sent in one go would be
 * formatted, then sent, then answered, each step waiting for the one before. */
#ifndef PIPELINE_WINDOW
#define PIPELINE_WINDOW 2048
#endif
#define STALL_MS 1000
/* A lock's first waiter in this process re-checks at most this far apart
 * (jittered down to half), and at least lease/4 apart: a lost notification
 * or a dead holder delays it by at most this past the lease. */
#define RECHECK_MAX_MS 200
#define RECHECK_MIN_MS 10

/* The value's header (little-endian): magic, the writer's store instance,
 * then the writer's metadata. Times in it are µs from the WRITER's run
 * start: meaningful to that run only. Another process (or another run of
 * this one) reads them as unknown: who stored it (stored_by 0), and when
 * it was stored from the TTL it was given minus the PTTL left (no clock is
 * shared); its expiry always comes from Redis's own PTTL. */
#define HDR_MAGIC 0x31544246u /* "FBT1" */
#define HDR_LEN 28

/* Only the owner's token deletes: a holder whose lease expired must not
 * free the lock of the task that took it over. The waiters are told either
 * way (a lock with no holder is free). */
static const char UNLOCK_SCRIPT[] =
    "local r = 0 if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) r = 1 end "
    "redis.call('PUBLISH', KEYS[2], '') return r";

struct rstore;
struct rwatch;

/* One operation in flight or waiting (hiredis's privdata). */
/* A place in the queue of commands waiting for the window: a formatted
 * command (struct queued), or a read (struct rop itself, formatted when
 * sent, so a task's read waiting its turn costs no memory of its own). */
struct qentry {
    struct qentry *next;
    uint8_t is_read;
};

struct rop {
    struct qentry q;            /* first: a queued read is its rop */
    struct rstore *s;
    struct fb_task *owner;
    struct rop *prev, *next;    /* s->waiting (locks not yet got, oldest
                                 * first) or s->failed */
    struct event *recheck;      /* lock waiters: armed for a lock's first only */
    struct rwatch *watch;       /* a watch's check: its watchers (NULL: gone) */
    struct fb_task **joined;    /* a try: the tries of the same lock that came
                                 * while it was out, answered by its reply */
    uint32_t njoined, capjoined;
    uint64_t token;
    uint32_t lock;              /* key, or STORE_LOCK_GLOBAL */
    uint32_t key;               /* a read's */
    uint32_t lease_ms, attempts;
    int64_t pttl;               /* a read's PTTL answer, or PTTL_NOT_ASKED */
    uint8_t op;
    uint8_t how;                /* what started the try in flight */
    uint8_t inflight;           /* a command of it is out */
    uint8_t waiting;            /* on s->waiting */
    uint8_t cancelled;          /* withdrawn while a try was out */
    uint8_t renotify;           /* a release was told while a try was out:
                                 * the lock's first waiter tries again */
    uint8_t get_unsent;         /* a read's PTTL went out, its GET did not */
};

#define PTTL_NOT_ASKED INT64_MIN

/* A command beyond the window, formatted, waiting its turn. */
struct queued {
    struct qentry q;            /* first */
    redisCallbackFn *fn;
    struct rop *o;
    size_t len;
    char cmd[];
};

struct rstore {
    redisAsyncContext *ac, *sub;
    struct qentry *queue, *queue_tail;
    uint32_t queued;            /* commands on the queue */
    int pumping;
    struct event_base *base;
    struct event *failed_tick, *watchdog; /* answers s->failed; gives a silent connection up */
    struct rop *waiting, *waiting_tail, *failed;
    struct rwatch *watches;     /* locks watched here, one each */
    struct rop *trying;         /* tries out, one per lock */
    fb_store_answer_fn *answer;
    void *ctx;
    const uint64_t *t0_us;
    char prefix[160];
    size_t prefix_len;
    uint64_t nonce, rng;
    uint32_t lease_ms;
    int entries_expire;         /* reads ask PTTL too */
    uint32_t outstanding;       /* commands sent on ac or queued, not answered */
    uint64_t answers;           /* replies so far: the watchdog's sign of life */
    uint64_t answers_seen, quiet_since_us; /* the watchdog's last look */
    int closing;
};


/* ------------------------------------------------------------ resolving */

/* The first IPv4 or IPv6 address of host, numeric, in out. */
static int resolve(const char *host, char *out, size_t len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int ok = -1;

    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return -1;
    for (struct addrinfo *r = res; r && ok < 0; r = r->ai_next) {
        const void *in = r->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)r->ai_addr)->sin_addr
                         : r->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr
                                                    : NULL;
        if (in && inet_ntop(r->ai_family, in, out, (socklen_t)len))
            ok = 0;
    }
    freeaddrinfo(res);
    return ok;
}

/* ------------------------------------------------------------ answers */

static uint32_t now_rel(const struct rstore *s)
{
    uint64_t now = clock_now_us(), t0 = *s->t0_us;
    return now > t0 ? (uint32_t)(now - t0 > UINT32_MAX - 1 ? UINT32_MAX - 1 : now - t0) : 0;
}

static void reply_to(struct rstore *s, struct fb_task *owner, struct fb_store_reply *r)
{
    if (!s->closing && owner && owner->outcome == OUTCOME_PENDING)
        s->answer(s->ctx, owner, r);
}

static void answer_status(struct rop *o, uint8_t status, uint8_t how)
{
    struct fb_store_reply r = {.op = o->op, .status = status, .how = how, .attempts = o->attempts};
    reply_to(o->s, o->owner, &r);
}

static void list_add(struct rop **head, struct rop *o)
{
    o->prev = NULL;
    o->next = *head;
    if (*head)
        (*head)->prev = o;
    *head = o;
}

static void list_del(struct rop **head, struct rop *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else if (*head == o)
        *head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->prev = o->next = NULL;
}

static void rop_free(struct rop *o)
{
    if (o->recheck)
        event_free(o->recheck);
    free(o->joined);
    free(o);
}

/* Appends t to a growing list of tasks (a watch's watchers, a try's
 * joiners); -1 out of memory, the list unchanged. */
static int task_push(struct fb_task ***v, uint32_t *n, uint32_t *cap, struct fb_task *t)
{
    if (*n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 8;
        struct fb_task **nv = realloc(*v, c * sizeof(**v));
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = t;
    return 0;
}

/* o could not be sent: its error is answered on the next tick. */
static void fail_later(struct rstore *s, struct rop *o)
{
    o->inflight = 0;
    list_add(&s->failed, o);
    event_active(s->failed_tick, EV_TIMEOUT, 0);
}

static void on_failed_tick(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;
    while (s->failed) {
        struct rop *o = s->failed;
        list_del(&s->failed, o);
        answer_status(o, STORE_ERROR, STORE_HOW_NONE);
        rop_free(o);
    }
}

/* Decimal digits of v at p; returns the end. */
static char *put_decimal(char *p, uint64_t v)
{
    char digits[20];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* RESP's array of bulk strings, into out (resp_size bytes). Ours, not
 * hiredis's printf-based formatter: the hit path formats one per task. */
static size_t resp_size(int argc, const size_t *lens)
{
    size_t n = 16;
    for (int i = 0; i < argc; i++)
        n += lens[i] + 24;
    return n;
}

static char *put_count(char *p, char mark, size_t v)
{
    *p++ = mark;
    p = put_decimal(p, v);
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static size_t resp_format(char *out, int argc, const char **argv, const size_t *lens)
{
    char *p = put_count(out, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        p = put_count(p, '$', lens[i]);
        memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t)(p - out);
}

static void enqueue(struct rstore *s, struct qentry *e, uint32_t commands)
{
    e->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = e;
    else
        s->queue = e;
    s->queue_tail = e;
    s->queued += commands;
}

static int window_full(const struct rstore *s)
{
    return s->queue != NULL || s->outstanding >= PIPELINE_WINDOW;
}

static uint32_t read_commands(const struct rstore *s) { return s->entries_expire ? 2 : 1; }

static int send_read(struct rstore *s, struct rop *o);
static void on_pttl(redisAsyncContext *c, void *rep, void *priv);
static void on_get(redisAsyncContext *c, void *rep, void *priv);

/* Sends the queue's head while the window has room. With the connection
 * gone, each queued command is answered NULL, as hiredis answers the ones
 * it holds, so every callback runs exactly once either way. */
static void pump(struct rstore *s)
{
    if (s->pumping)
        return;
    s->pumping = 1;
    while (s->queue && (s->ac == NULL || s->closing || s->outstanding - s->queued < PIPELINE_WINDOW)) {
        struct qentry *e = s->queue;
        s->queue = e->next;
        if (s->queue == NULL)
            s->queue_tail = NULL;
        if (e->is_read) {
            struct rop *o = (struct rop *)e;
            uint32_t commands = read_commands(s);
            s->queued -= commands;
            int sent = s->ac ? send_read(s, o) : 0;
            if (sent == 0) { /* each callback counts its command answered */
                if (s->entries_expire)
                    on_pttl(s->ac, NULL, o);
                on_get(s->ac, NULL, o);
            } else {
                s->outstanding -= commands - (uint32_t)sent; /* a GET not sent: on_pttl answers */
            }
        } else {
            struct queued *q = (struct queued *)e;
            s->queued--;
            if (s->ac == NULL || redisAsyncFormattedCommand(s->ac, q->fn, q->o, q->cmd, q->len) != REDIS_OK)
                q->fn(s->ac, NULL, q->o);
            free(q);
        }
    }
    s->pumping = 0;
}

/* Sends (or queues) a command on the command context for o; -1 when the
 * connection is gone or memory is out. */
static int send_argv(struct rstore *s, redisCallbackFn *fn, struct rop *o, int argc, const char **argv,
                     const size_t *lens)
{
    size_t len[8];
    char small[512];

    if (s->ac == NULL || argc > 8)
        return -1;
    for (int i = 0; i < argc; i++)
        len[i] = lens ? lens[i] : strlen(argv[i]);
    size_t size = resp_size(argc, len);
    if (window_full(s)) {
        struct queued *q = malloc(sizeof(*q) + size);
        if (q == NULL)
            return -1;
        q->q.is_read = 0;
        q->fn = fn;
        q->o = o;
        q->len = resp_format(q->cmd, argc, argv, len);
        enqueue(s, &q->q, 1);
    } else {
        char *buf = size <= sizeof(small) ? small : malloc(size);
        int ok = buf && redisAsyncFormattedCommand(s->ac, fn, o, buf, resp_format(buf, argc, argv, len)) == REDIS_OK;
        if (buf != small)
            free(buf);
        if (!ok)
            return -1;
    }
    s->outstanding++;
    o->inflight = 1;
    return 0;
}

/* A reply (or NULL: the connection went, or the store is closing) came. */
static void answered(struct rstore *s, struct rop *o)
{
    o->inflight = 0;
    if (s->outstanding)
        s->outstanding--;
    s->answers++;
    if (s->queue)
        pump(s);
}

/* ------------------------------------------------------------ keys */

/* prefix + kind + ":" + id (or "global"); buf holds at least the prefix's
 * 160 bytes + 40. Without printf: the hit path names a key per task. */
static void key_name(const struct rstore *s, char *buf, size_t len, const char *kind, uint32_t id)
{
    size_t k = strlen(kind);
    char *p = buf;
    if (s->prefix_len + k + 12 > len) {
        snprintf(buf, len, "%s", s->prefix); /* cannot happen: the sizes are ours */
        return;
    }
    memcpy(p, s->prefix, s->prefix_len);
    p += s->prefix_len;
    memcpy(p, kind, k);
    p += k;
    *p++ = ':';
    if (id == STORE_LOCK_GLOBAL) {
        memcpy(p, "global", 6);
        p += 6;
    } else {
        p = put_decimal(p, id);
    }
    *p = '\0';
}

/* Unique across processes and runs: the pid comes first (a test kills the
 * holder it names), then the task's token, then this store's instance. */
static void token_str(const struct rstore *s, uint64_t token, char *buf, size_t len)
{
    snprintf(buf, len, "%ld:%" PRIu64 ":%016" PRIx64, (long)getpid(), token, s->nonce);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ get */

/* A read is GET alone when the run stores without a TTL, so a hit is one
 * command. When entries expire, PTTL goes out first in the same write: one
 * round trip, two commands, and Redis's own clock says how long is left,
 * which is right for a reader in another process. (A script doing both would
 * be atomic, but Lua costs Redis 3 µs a call against 0.1 µs for GET, and the
 * hit path is what fleets run all day.) The pair can split two ways, read
 * below: the key expired after PTTL (GET says nil: a miss), or it was stored
 * after PTTL (PTTL said -2, GET found a value: stored just now). */

static void on_pttl(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    redisReply *r = rep;

    answered(o->s, o);
    o->pttl = r && r->type == REDIS_REPLY_INTEGER ? r->integer : PTTL_NOT_ASKED;
    if (o->get_unsent) {
        answer_status(o, STORE_ERROR, STORE_HOW_NONE);
        rop_free(o);
    }
}

/* When the entry expires on our clock (UINT32_MAX: never): from the PTTL
 * Redis gave when it was asked, else from the TTL it was stored with,
 * counted from since (its store when it is ours, else now: an upper bound,
 * and Redis drops it at the true time anyway). */
static uint32_t expiry(const struct rop *o, uint32_t ttl_ms, uint32_t since, uint32_t now)
{
    uint64_t e;

    if (o->pttl >= 0)
        e = (uint64_t)now + (uint64_t)o->pttl * 1000;
    else if (o->pttl == -1 || ttl_ms == 0)
        return UINT32_MAX; /* -1: stored again without a TTL */
    else
        e = (uint64_t)since + (uint64_t)ttl_ms * 1000; /* not asked, or -2: stored after PTTL */
    return e >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)e;
}

static void on_get(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    struct rstore *s = o->s;
    redisReply *r = rep;
    struct fb_store_reply out = {.op = STORE_GET, .status = STORE_ERROR};

    answered(s, o);
    if (r && r->type == REDIS_REPLY_NIL) {
        out.status = STORE_MISS;
    } else if (r && r->type == REDIS_REPLY_STRING && r->len >= HDR_LEN
               && get32((unsigned char *)r->str) == HDR_MAGIC) {
        const unsigned char *h = (const unsigned char *)r->str;
        uint64_t writer = (uint64_t)get32(h + 4) | (uint64_t)get32(h + 8) << 32;
        uint32_t ttl_ms = get32(h + 24);
        /* The clock only when a time is computed from it: not for a hit on
         * our own entry without a PTTL. */
        uint32_t now = writer != s->nonce || o->pttl >= 0 ? now_rel(s) : 0;
        out.status = STORE_OK;
        out.value = r->str + HDR_LEN;
        out.len = r->len - HDR_LEN;
        out.meta.compute_us = get32(h + 16);
        if (writer == s->nonce) {
            /* Our own entry: its times are on our clock. */
            out.meta.stored_us = get32(h + 12);
            out.meta.stored_by = get32(h + 20);
        } else {
            /* Another process's: no clock is shared, so its age is the TTL
             * it was given minus the time Redis says is left. */
            uint64_t age = ttl_ms && o->pttl >= 0 && o->pttl <= ttl_ms ? (uint64_t)(ttl_ms - o->pttl) * 1000 : 0;
            out.meta.stored_us = age < now ? now - (uint32_t)age : 0;
        }
        out.meta.expires_us = expiry(o, ttl_ms, writer == s->nonce ? out.meta.stored_us : now, now);
    }
    reply_to(s, o->owner, &out);
    rop_free(o);
}

static struct rop *rop_new(struct rstore *s, struct fb_task *owner, uint8_t op)
{
    struct rop *o = calloc(1, sizeof(*o));
    if (o) {
        o->s = s;
        o->owner = owner;
        o->op = op;
        o->pttl = PTTL_NOT_ASKED;
    }
    return o;
}

/* Out of memory for the operation itself: the answer still has to come
 * later, and there is nothing to hang it on but a static one-off. */
static int oom_now(struct fb_store_reply *now, uint8_t op)
{
    memset(now, 0, sizeof(*now));
    now->op = op;
    now->status = STORE_ERROR;
    return 1;
}

/* Sends o's read: PTTL first when entries expire, then GET. Returns how
 * many went out (PTTL's alone: on_pttl answers the read). */
static int send_read(struct rstore *s, struct rop *o)
{
    char k[200], cmd[300];
    size_t lens[2] = {0, 0};
    int sent = 0;

    key_name(s, k, sizeof(k), "k", o->key);
    lens[1] = strlen(k);
    if (s->entries_expire) {
        const char *pttl[] = {"PTTL", k};
        lens[0] = 4;
        if (redisAsyncFormattedCommand(s->ac, on_pttl, o, cmd, resp_format(cmd, 2, pttl, lens)) != REDIS_OK)
            return 0;
        sent = 1;
    }
    const char *get[] = {"GET", k};
    lens[0] = 3;
    if (redisAsyncFormattedCommand(s->ac, on_get, o, cmd, resp_format(cmd, 2, get, lens)) != REDIS_OK) {
        o->get_unsent = sent;
        return sent;
    }
    return sent + 1;
}

static int redis_get(void *impl, uint32_t key, struct fb_task *owner, struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rop *o = rop_new(s, owner, STORE_GET);
    if (o == NULL)
        return oom_now(now, STORE_GET);
    o->key = key;
    if (s->ac == NULL)
        goto failed;
    uint32_t commands = read_commands(s);
    if (window_full(s)) {
        o->q.is_read = 1;
        enqueue(s, &o->q, commands);
    } else if ((commands = (uint32_t)send_read(s, o)) == 0) {
        goto failed;
    }
    s->outstanding += commands;
    o->inflight = 1;
    return 0;
failed:
    fail_later(s, o);
    return 0;
}

/* ------------------------------------------------------------ set */

static void on_done(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    redisReply *r = rep;
    answered(o->s, o);
    int ok = r && r->type != REDIS_REPLY_ERROR;
    uint8_t how = STORE_HOW_NONE;
    if (ok && o->op == STORE_UNLOCK && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        how = STORE_HOW_LOST;
    answer_status(o, ok ? STORE_OK : STORE_ERROR, how);
    rop_free(o);
}

static int redis_set(void *impl, uint32_t key, char *value, size_t len, const struct fb_entry_meta *meta,
                     struct fb_task *owner, struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rop *o = rop_new(s, owner, STORE_SET);
    unsigned char *blob = malloc(HDR_LEN + len);
    char k[200], px[24];
    uint32_t ttl_ms = 0;

    if (o == NULL || blob == NULL) {
        free(o);
        free(blob);
        free(value);
        return oom_now(now, STORE_SET);
    }
    if (meta->expires_us != UINT32_MAX)
        ttl_ms = meta->expires_us > meta->stored_us ? (meta->expires_us - meta->stored_us + 999) / 1000 : 1;
    if (len >= STORE_ERROR_MARK_LEN && memcmp(value, STORE_ERROR_MARK, STORE_ERROR_MARK_LEN) == 0
        && (ttl_ms == 0 || ttl_ms > STORE_ERROR_TTL_MS))
        ttl_ms = STORE_ERROR_TTL_MS;
    put32(blob, HDR_MAGIC);
    put32(blob + 4, (uint32_t)s->nonce);
    put32(blob + 8, (uint32_t)(s->nonce >> 32));
    put32(blob + 12, meta->stored_us);
    put32(blob + 16, meta->compute_us);
    put32(blob + 20, meta->stored_by);
    put32(blob + 24, ttl_ms);
    if (len)
        memcpy(blob + HDR_LEN, value, len);
    free(value);
    key_name(s, k, sizeof(k), "k", key);
    snprintf(px, sizeof(px), "%" PRIu32, ttl_ms);
    const char *argv[] = {"SET", k, (const char *)blob, "PX", px};
    size_t lens[] = {3, strlen(k), HDR_LEN + len, 2, strlen(px)};
    if (send_argv(s, on_done, o, ttl_ms ? 5 : 3, argv, lens) < 0)
        fail_later(s, o);
    free(blob); /* hiredis formatted its own copy */
    return 0;
}

/* ------------------------------------------------------------ locks */

/* A lock's waiters in this process take it in turn, oldest first: only the
 * first of them tries when a release is published or its re-check fires;
 * the others send nothing until it has gone (got the lock, failed or been
 * withdrawn). A release thus costs one SET per process waiting on the lock,
 * not one per waiter, most of which would answer nil: n waiters cost O(n)
 * commands, not O(n^2). The one that gets it wakes the next by its own
 * release. */

/* o's try of its lock: SET lock:<key> <token> NX PX lease_ms. */
static int send_set_nx(struct rstore *s, struct rop *o, redisCallbackFn *fn, uint32_t lease_ms)
{
    char k[200], tok[64], px[24];
    key_name(s, k, sizeof(k), "lock", o->lock);
    token_str(s, o->token, tok, sizeof(tok));
    snprintf(px, sizeof(px), "%" PRIu32, lease_ms);
    const char *argv[] = {"SET", k, tok, "NX", "PX", px};
    return send_argv(s, fn, o, 6, argv, NULL);
}

/* The compare-and-delete of lock by token's owner, which publishes the
 * release; answered in on_done (o is an STORE_UNLOCK operation). */
static int send_unlock(struct rstore *s, struct rop *o, uint32_t lock, uint64_t token)
{
    char k[200], ch[200], tok[64];
    key_name(s, k, sizeof(k), "lock", lock);
    key_name(s, ch, sizeof(ch), "ch", lock);
    token_str(s, token, tok, sizeof(tok));
    const char *argv[] = {"EVAL", UNLOCK_SCRIPT, "2", k, ch, tok};
    return send_argv(s, on_done, o, 6, argv, NULL);
}

static void try_lock(struct rstore *s, struct rop *o, uint8_t how);

/* Joins the end of the waiting list: arrival order is turn order. */
static void wait_add(struct rstore *s, struct rop *o)
{
    o->waiting = 1;
    o->next = NULL;
    o->prev = s->waiting_tail;
    if (s->waiting_tail)
        s->waiting_tail->next = o;
    else
        s->waiting = o;
    s->waiting_tail = o;
}

static void wait_del(struct rstore *s, struct rop *o)
{
    if (s->waiting_tail == o)
        s->waiting_tail = o->prev;
    list_del(&s->waiting, o);
    o->waiting = 0;
}

/* The oldest waiter of lock in this process, or NULL. A walk: the list
 * holds only tasks waiting for a lock, and the first of a lock is met
 * before any later one. */
static struct rop *first_waiter(const struct rstore *s, uint32_t lock)
{
    for (struct rop *o = s->waiting; o; o = o->next)
        if (o->lock == lock)
            return o;
    return NULL;
}

static void arm_timer(struct rstore *s, struct event *ev, uint32_t lease_ms)
{
    uint32_t max = lease_ms / 4;
    max = max > RECHECK_MAX_MS ? RECHECK_MAX_MS : max < RECHECK_MIN_MS ? RECHECK_MIN_MS : max;
    /* xorshift: jitter so that processes do not re-check in step. */
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    uint32_t ms = max / 2 + (uint32_t)(s->rng % (max / 2 + 1));
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

static void arm_recheck(struct rstore *s, struct rop *o) { arm_timer(s, o->recheck, o->lease_ms); }

/* A waiter of lock has left the list: the first one now takes over the
 * re-checks, and tries at once when the one that left had a release told
 * to it that it did not use. */
static void pass_turn(struct rstore *s, uint32_t lock, int released)
{
    struct rop *o = first_waiter(s, lock);
    if (o == NULL)
        return;
    if (o->inflight)
        o->renotify |= (uint8_t)released; /* its reply decides */
    else if (released)
        try_lock(s, o, STORE_HOW_NOTIFIED);
    else if (!evtimer_pending(o->recheck, NULL))
        arm_recheck(s, o);
}

static void on_recheck(evutil_socket_t fd, short what, void *arg)
{
    struct rop *o = arg;
    if (!o->inflight)
        try_lock(o->s, o, STORE_HOW_RECHECK);
}

/* o got the lock after it was withdrawn: give it back at once. */
static void release_orphan(struct rstore *s, struct rop *o)
{
    struct rop *u = rop_new(s, NULL, STORE_UNLOCK);
    if (u == NULL)
        return; /* its lease frees it */
    if (send_unlock(s, u, o->lock, o->token) < 0)
        rop_free(u);
}

static void on_lock(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    struct rstore *s = o->s;
    redisReply *r = rep;

    answered(s, o);
    if (o->cancelled || s->closing) {
        if (!s->closing && r && r->type == REDIS_REPLY_STATUS)
            release_orphan(s, o);
        rop_free(o);
        return;
    }
    if (r && r->type == REDIS_REPLY_NIL) { /* busy */
        if (first_waiter(s, o->lock) != o) {
            o->renotify = 0;
            return; /* its turn comes when those before it have gone */
        }
        if (o->renotify) {
            o->renotify = 0;
            try_lock(s, o, STORE_HOW_NOTIFIED);
        } else {
            arm_recheck(s, o);
        }
        return;
    }
    int got = r && r->type == REDIS_REPLY_STATUS;
    uint32_t lock = o->lock;
    int unused = !got && o->renotify;
    wait_del(s, o);
    answer_status(o, got ? STORE_OK : STORE_ERROR, got ? (o->attempts == 1 ? STORE_HOW_AT_ONCE : o->how)
                                                       : STORE_HOW_NONE);
    rop_free(o);
    pass_turn(s, lock, unused);
}

static void try_lock(struct rstore *s, struct rop *o, uint8_t how)
{
    evtimer_del(o->recheck);
    o->how = how;
    o->attempts++;
    if (send_set_nx(s, o, on_lock, o->lease_ms) < 0) {
        /* The next waiter only re-checks: trying it now would fail the
         * same way, one nested call per waiter. */
        wait_del(s, o);
        fail_later(s, o);
        pass_turn(s, o->lock, 0);
    }
}

/* Every new waiter tries once at once (the lock may be free); it is on the
 * list from the start, so a release told while that try is out is not
 * lost when it turns out to be the first. */
static int redis_lock(void *impl, uint32_t lock, uint64_t token, uint32_t lease_us, struct fb_task *owner,
                      struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rop *o = rop_new(s, owner, STORE_LOCK);
    if (o == NULL || (o->recheck = evtimer_new(s->base, on_recheck, o)) == NULL) {
        free(o);
        return oom_now(now, STORE_LOCK);
    }
    o->lock = lock;
    o->token = token;
    o->lease_ms = lease_us ? (lease_us + 999) / 1000 : s->lease_ms;
    wait_add(s, o);
    try_lock(s, o, STORE_HOW_AT_ONCE);
    return 0;
}

static int redis_unlock(void *impl, uint32_t lock, uint64_t token, struct fb_task *owner, struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rop *o = rop_new(s, owner, STORE_UNLOCK);
    if (o == NULL)
        return oom_now(now, STORE_UNLOCK);
    o->lock = lock;
    if (send_unlock(s, o, lock, token) < 0)
        fail_later(s, o);
    return 0;
}

static int watch_cancel(struct rstore *s, struct fb_task *owner);

static int redis_cancel(void *impl, struct fb_task *owner)
{
    struct rstore *s = impl;
    if (watch_cancel(s, owner))
        return 1;
    for (struct rop *o = s->waiting; o; o = o->next) {
        if (o->owner != owner || o->cancelled)
            continue;
        uint32_t lock = o->lock;
        int unused = o->renotify;
        wait_del(s, o);
        if (o->inflight) {
            o->cancelled = 1; /* its reply frees it (and gives back a lock got) */
            evtimer_del(o->recheck);
        } else {
            rop_free(o);
        }
        pass_turn(s, lock, unused);
        return 1;
    }
    for (struct rop *o = s->failed; o; o = o->next)
        if (o->owner == owner && (o->op == STORE_LOCK || o->op == STORE_WATCH)) {
            list_del(&s->failed, o);
            rop_free(o);
            return 1;
        }
    return 0;
}

/* ------------------------------------------------------------ try, watch */

/* The tasks of this process watching one lock: one check (EXISTS) and one
 * re-check timer for them all, and the release's message answers every one
 * of them at once, with no command: each then reads the entry, so n
 * watchers cost n GETs, pipelined, where lock waiters taking turns cost a
 * SET, a GET and an unlock each, one after the other. A task that watches
 * a lock already watched here joins without a command: the group checked
 * it busy and has heard no release since, so that release is still to come
 * (or the re-check finds it). */
struct rwatch {
    struct rwatch *prev, *next; /* s->watches */
    struct rstore *s;
    struct event *recheck;
    struct rop *check;          /* its EXISTS out, or NULL */
    struct fb_task **owners;    /* [n], in the order they came */
    uint32_t n, cap;
    uint32_t lock;
};

static struct rwatch *watch_find(const struct rstore *s, uint32_t lock)
{
    for (struct rwatch *w = s->watches; w; w = w->next)
        if (w->lock == lock)
            return w;
    return NULL;
}

/* Takes w off the list and frees it; a check still out is left to free
 * itself when answered. */
static void watch_free(struct rstore *s, struct rwatch *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (s->watches == w)
        s->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->check)
        w->check->watch = NULL;
    if (w->recheck)
        event_free(w->recheck);
    free(w->owners);
    free(w);
}

/* Every watcher of w is answered, in the order they came; w is gone
 * first, so a watcher that watches again from its answer starts afresh. */
static void watch_answer(struct rstore *s, struct rwatch *w, uint8_t status, uint8_t how)
{
    struct fb_task **owners = w->owners;
    uint32_t n = w->n;
    w->owners = NULL;
    watch_free(s, w);
    for (uint32_t i = 0; i < n; i++) {
        struct fb_store_reply r = {.op = STORE_WATCH, .status = status, .how = how};
        reply_to(s, owners[i], &r);
    }
    free(owners);
}

static void on_exists(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    struct rstore *s = o->s;
    struct rwatch *w = o->watch;
    redisReply *r = rep;

    answered(s, o);
    rop_free(o);
    if (w == NULL || s->closing)
        return; /* answered by a message, or withdrawn, while it was out */
    w->check = NULL;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        watch_answer(s, w, STORE_OK, STORE_HOW_RECHECK);
    else if (r && r->type == REDIS_REPLY_INTEGER)
        arm_timer(s, w->recheck, s->lease_ms);
    else
        watch_answer(s, w, STORE_ERROR, STORE_HOW_NONE);
}

/* Asks whether w's lock is held; -1 when it cannot be sent. */
static int watch_check(struct rstore *s, struct rwatch *w)
{
    char k[200];
    struct rop *o = rop_new(s, NULL, STORE_WATCH);
    if (o == NULL)
        return -1;
    o->watch = w;
    key_name(s, k, sizeof(k), "lock", w->lock);
    const char *argv[] = {"EXISTS", k};
    if (send_argv(s, on_exists, o, 2, argv, NULL) < 0) {
        rop_free(o);
        return -1;
    }
    w->check = o;
    return 0;
}

static void on_watch_recheck(evutil_socket_t fd, short what, void *arg)
{
    struct rwatch *w = arg;
    struct rstore *s = w->s;
    if (w->check == NULL && watch_check(s, w) < 0)
        watch_answer(s, w, STORE_ERROR, STORE_HOW_NONE);
}

static int redis_watch(void *impl, uint32_t lock, struct fb_task *owner, struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rwatch *w = watch_find(s, lock);
    int fresh = w == NULL;

    if (fresh) {
        if ((w = calloc(1, sizeof(*w))) == NULL)
            return oom_now(now, STORE_WATCH);
        w->s = s;
        w->lock = lock;
        w->next = s->watches;
        if (s->watches)
            s->watches->prev = w;
        s->watches = w;
        if ((w->recheck = evtimer_new(s->base, on_watch_recheck, w)) == NULL) {
            watch_free(s, w);
            return oom_now(now, STORE_WATCH);
        }
    }
    if (task_push(&w->owners, &w->n, &w->cap, owner) < 0) {
        if (fresh)
            watch_free(s, w);
        return oom_now(now, STORE_WATCH);
    }
    if (fresh && watch_check(s, w) < 0) {
        watch_free(s, w);
        return oom_now(now, STORE_WATCH); /* the connection is gone */
    }
    return 0;
}

/* owner's watch withdrawn; 1 when it had one. */
static int watch_cancel(struct rstore *s, struct fb_task *owner)
{
    for (struct rwatch *w = s->watches; w; w = w->next)
        for (uint32_t i = 0; i < w->n; i++) {
            if (w->owners[i] != owner)
                continue;
            memmove(&w->owners[i], &w->owners[i + 1], (w->n - i - 1) * sizeof(*w->owners));
            if (--w->n == 0)
                watch_free(s, w);
            return 1;
        }
    return 0;
}

/* A try is one SET NX, never queued: rsingleflight's leader election. The
 * tries of one lock in this process while one is out join it instead of
 * sending their own: at most one of them could get the lock, and the one
 * out is the first, so its reply answers them all (the others busy, or all
 * failed). A burst of n misses costs one SET per process, not n. */
static void on_try(redisAsyncContext *c, void *rep, void *priv)
{
    struct rop *o = priv;
    struct rstore *s = o->s;
    redisReply *r = rep;

    answered(s, o);
    list_del(&s->trying, o);
    int got = r && r->type == REDIS_REPLY_STATUS;
    uint8_t others = got || (r && r->type == REDIS_REPLY_NIL) ? STORE_BUSY : STORE_ERROR;
    if (s->closing || o->owner == NULL || o->owner->outcome != OUTCOME_PENDING) {
        if (got && !s->closing)
            release_orphan(s, o); /* nobody to hold it */
    } else {
        answer_status(o, got ? STORE_OK : others, got ? STORE_HOW_AT_ONCE : STORE_HOW_NONE);
    }
    for (uint32_t i = 0; i < o->njoined; i++) {
        struct fb_store_reply a = {.op = STORE_LOCK, .status = others, .attempts = 1};
        reply_to(s, o->joined[i], &a);
    }
    rop_free(o);
}

/* Joins the try of lock out now, if any: 1 joined, 0 none out, -1 out of
 * memory. */
static int try_join(struct rstore *s, uint32_t lock, struct fb_task *owner)
{
    struct rop *o = s->trying;
    while (o && o->lock != lock)
        o = o->next;
    if (o == NULL)
        return 0;
    return task_push(&o->joined, &o->njoined, &o->capjoined, owner) < 0 ? -1 : 1;
}

static int redis_try_lock(void *impl, uint32_t lock, uint64_t token, struct fb_task *owner,
                          struct fb_store_reply *now)
{
    struct rstore *s = impl;
    struct rwatch *w = watch_find(s, lock);
    if (w && w->check == NULL) {
        /* Watched here, checked busy, no release heard since: busy, with
         * no command (the one exception to answering later: the watch that
         * follows joins the others at once). */
        memset(now, 0, sizeof(*now));
        now->op = STORE_LOCK;
        now->status = STORE_BUSY;
        now->attempts = 1;
        return 1;
    }
    int joined = try_join(s, lock, owner);
    if (joined)
        return joined > 0 ? 0 : oom_now(now, STORE_LOCK);
    struct rop *o = rop_new(s, owner, STORE_LOCK);
    if (o == NULL)
        return oom_now(now, STORE_LOCK);
    o->lock = lock;
    o->token = token;
    o->attempts = 1;
    if (send_set_nx(s, o, on_try, s->lease_ms) < 0)
        fail_later(s, o);
    else
        list_add(&s->trying, o);
    return 0;
}

/* ------------------------------------------------------------ connections */

/* A release was published on prefix + "ch:<lock>": that lock's first
 * waiter here tries again now (or as soon as its try out is answered), and
 * every watcher of it here is answered.
 * Every process of the run hears every release (one pattern subscription,
 * no bookkeeping per key). */
static void on_message(redisAsyncContext *c, void *rep, void *priv)
{
    struct rstore *s = priv;
    redisReply *r = rep;
    if (r == NULL || s->closing || r->type != REDIS_REPLY_ARRAY || r->elements != 4
        || r->element[2]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "pmessage") != 0)
        return;
    const char *ch = r->element[2]->str, *id = strrchr(ch, ':');
    if (id == NULL)
        return;
    uint32_t lock = strcmp(id + 1, "global") == 0 ? STORE_LOCK_GLOBAL : (uint32_t)strtoul(id + 1, NULL, 10);
    struct rop *o = first_waiter(s, lock);
    if (o && o->inflight)
        o->renotify = 1;
    else if (o)
        try_lock(s, o, STORE_HOW_NOTIFIED);
    struct rwatch *w = watch_find(s, lock);
    if (w)
        watch_answer(s, w, STORE_OK, STORE_HOW_NOTIFIED);
}

/* The command connection is gone (Redis died, or the watchdog gave up): the
 * waiters are told now; later operations fail on the next tick. */
static void fail_waiters(struct rstore *s)
{
    while (s->watches)
        watch_answer(s, s->watches, STORE_ERROR, STORE_HOW_NONE);
    while (s->waiting) {
        struct rop *o = s->waiting;
        wait_del(s, o);
        if (o->inflight) {
            o->cancelled = 1; /* hiredis still holds it: its NULL reply frees it */
            answer_status(o, STORE_ERROR, STORE_HOW_NONE);
        } else {
            answer_status(o, STORE_ERROR, STORE_HOW_NONE);
            rop_free(o);
        }
    }
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
    struct rstore *s = c->data;
    if (c == s->ac) {
        s->ac = NULL;
        pump(s); /* the queued commands fail too */
        s->outstanding = 0;
        if (!s->closing)
            fail_waiters(s);
    } else if (c == s->sub) {
        s->sub = NULL; /* waiters go on re-checking */
    }
}

static void on_connect(const redisAsyncContext *c, int status)
{
    if (status != REDIS_OK)
        on_disconnect(c, status);
}

/* A connection with commands out and no reply for STALL_MS is given up:
 * hiredis 0.14 has no command timeouts. Counting replies, not timing each,
 * keeps the clock off the hit path. */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct rstore *s = arg;
    uint64_t now = clock_now_us();
    if (!s->outstanding || s->answers != s->answers_seen) {
        s->answers_seen = s->answers;
        s->quiet_since_us = now;
    } else if (s->ac && now - s->quiet_since_us > STALL_MS * 1000u) {
        redisAsyncContext *ac = s->ac;
        redisAsyncFree(ac); /* calls back every pending command with NULL */
    }
}

static redisAsyncContext *connect_async(struct rstore *s, const char *ip, const struct fb_redis_addr *a)
{
    redisAsyncContext *c = redisAsyncConnect(ip, a->port);
    if (c == NULL || c->err || redisloop_attach(c, s->base) < 0) {
        if (c)
            redisAsyncFree(c);
        return NULL;
    }
    c->data = s;
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
    if (a->password[0]) {
        if (a->user[0])
            redisAsyncCommand(c, NULL, NULL, "AUTH %s %s", a->user, a->password);
        else
            redisAsyncCommand(c, NULL, NULL, "AUTH %s", a->password);
    }
    return c;
}

/* Before the run: is Redis there, and do the credentials and DB work? */
static int check_reachable(const char *ip, const struct fb_redis_addr *a, char *err, size_t errlen)
{
    char where[300];
    redis_addr_describe(a, where, sizeof(where));
    redisContext *c = redisConnectWithTimeout(ip, a->port, (struct timeval){1, 0});
    if (c == NULL || c->err) {
        snprintf(err, errlen, "--store %s: cannot reach Redis: %s", where, c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return -1;
    }
    redisSetTimeout(c, (struct timeval){2, 0});
    redisReply *r = NULL;
    if (a->password[0])
        r = a->user[0] ? redisCommand(c, "AUTH %s %s", a->user, a->password) : redisCommand(c, "AUTH %s", a->password);
    if (r == NULL || r->type != REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        r = redisCommand(c, "SELECT %d", a->db);
    }
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "--store %s: Redis refused: %s", where,
                 r ? r->str : c->err ? c->errstr : "no answer");
        freeReplyObject(r);
        redisFree(c);
        return -1;
    }
    freeReplyObject(r);
    redisFree(c);
    return 0;
}

/* The run is over: the commands not yet written — the last tasks'
 * unlocks, whose answers lock and keylock do not wait for — go out now, or
 * each such lock stays held until its lease ends and stalls every other
 * process of a fleet (seen: clients of a 3-process lock fleet took 10 s and
 * 20 s for a 200 ms fetch; a fleet's client exits without freeing). No
 * answer is read or given. Bounded: 1 s at most. */
static void redis_flush(void *impl)
{
    struct rstore *s = impl;
    int done = 0;
    uint64_t until = clock_now_us() + 1000000;

    s->closing = 1; /* answers no one from here; the window holds nothing back */
    pump(s);
    while (s->ac && !done && redisBufferWrite(&s->ac->c, &done) == REDIS_OK && !done) {
        struct pollfd p = {.fd = s->ac->c.fd, .events = POLLOUT};
        uint64_t now = clock_now_us();
        if (now >= until || poll(&p, 1, (int)((until - now) / 1000) + 1) <= 0)
            break;
    }
}

static void redis_free(void *impl)
{
    struct rstore *s = impl;
    if (s == NULL)
        return;
    s->closing = 1; /* the callbacks below only free */
    while (s->waiting) {
        struct rop *o = s->waiting;
        wait_del(s, o);
        if (o->inflight)
            o->cancelled = 1;
        else
            rop_free(o);
    }
    while (s->failed) {
        struct rop *o = s->failed;
        list_del(&s->failed, o);
        rop_free(o);
    }
    while (s->watches)
        watch_free(s, s->watches);
    if (s->ac)
        redisAsyncFree(s->ac);
    s->ac = NULL;
    pump(s);
    if (s->sub)
        redisAsyncFree(s->sub);
    if (s->failed_tick)
        event_free(s->failed_tick);
    if (s->watchdog)
        event_free(s->watchdog);
    free(s);
}

static const struct fb_store_ops redis_ops = {
    .name = "redis",
    .get = redis_get,
    .set = redis_set,
    .lock = redis_lock,
    .unlock = redis_unlock,
    .try_lock = redis_try_lock,
    .watch = redis_watch,
    .cancel = redis_cancel,
    .flush = redis_flush,
    .free = redis_free,
};

int store_redis_open(struct fb_store *st, const struct fb_store_redis_opts *o, fb_store_answer_fn *answer,
                     void *ctx, char *err, size_t errlen)
{
    char ip[INET6_ADDRSTRLEN];
    struct rstore *s;

    if (resolve(o->addr->host, ip, sizeof(ip)) < 0) {
        snprintf(err, errlen, "--store redis://%s:%d: cannot resolve '%s'", o->addr->host, o->addr->port,
                 o->addr->host);
        return -1;
    }
    if (check_reachable(ip, o->addr, err, errlen) < 0)
        return -1;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        goto oom;
    s->base = o->base;
    s->answer = answer;
    s->ctx = ctx;
    s->t0_us = o->t0_us;
    s->lease_ms = o->lease_us ? (o->lease_us + 999) / 1000 : 10000;
    s->entries_expire = o->entries_expire;
    s->nonce = ((uint64_t)getpid() << 32) ^ clock_now_us() ^ ((uint64_t)(uintptr_t)s << 16);
    s->rng = s->nonce | 1;
    snprintf(s->prefix, sizeof(s->prefix), "fb:%s:", o->run_id);
    s->prefix_len = strlen(s->prefix);
    s->failed_tick = event_new(s->base, -1, 0, on_failed_tick, s);
    s->watchdog = event_new(s->base, -1, EV_PERSIST, on_watchdog, s);
    if (s->failed_tick == NULL || s->watchdog == NULL)
        goto oom;
    if ((s->ac = connect_async(s, ip, o->addr)) == NULL || (s->sub = connect_async(s, ip, o->addr)) == NULL)
        goto oom;
    if (o->addr->db)
        redisAsyncCommand(s->ac, NULL, NULL, "SELECT %d", o->addr->db);
    /* Channels are not per database: the prefix keeps runs apart. */
    redisAsyncCommand(s->sub, on_message, s, "PSUBSCRIBE %sch:*", s->prefix);
    struct timeval every = {0, WATCHDOG_MS * 1000};
    evtimer_add(s->watchdog, &every);
    st->ops = &redis_ops;
    st->impl = s;
    return 0;
oom:
    redis_free(s);
    snprintf(err, errlen, "--store: out of memory connecting to Redis");
    return -1;
}
