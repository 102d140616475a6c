#include "redisloop.h"

#include <stdlib.h>
#include <sys/ioctl.h>

#include <event2/event.h>
#include <hiredis/async.h>

/* Reads per wake-up at most: 1 MB, so that one busy connection cannot keep
 * the loop from the tasks' timers and transfers. */
#define READS_PER_WAKE 64

struct redisloop {
    redisAsyncContext *ac;
    struct event *rd, *wr;
    int reading; /* inside on_readable: the context may be freed under it */
    int freed;
};

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct redisloop *l = arg;
    int avail = 0;

    l->reading = 1;
    for (int i = 0; i < READS_PER_WAKE; i++) {
        redisAsyncHandleRead(l->ac); /* one read, then every complete reply's callback */
        if (l->freed || ioctl(fd, FIONREAD, &avail) < 0 || avail <= 0)
            break;
    }
    l->reading = 0;
    if (l->freed)
        free(l);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct redisloop *l = arg;
    redisAsyncHandleWrite(l->ac);
}

static void add_read(void *p) { event_add(((struct redisloop *)p)->rd, NULL); }
static void del_read(void *p) { event_del(((struct redisloop *)p)->rd); }
static void add_write(void *p) { event_add(((struct redisloop *)p)->wr, NULL); }
static void del_write(void *p) { event_del(((struct redisloop *)p)->wr); }

/* hiredis frees the context: from a reply's callback, maybe inside our read
 * loop, which then must stop and free l itself. */
static void cleanup(void *p)
{
    struct redisloop *l = p;
    event_free(l->rd);
    event_free(l->wr);
    if (l->reading)
        l->freed = 1;
    else
        free(l);
}

int redisloop_attach(redisAsyncContext *ac, struct event_base *base)
{
    struct redisloop *l;

    if (ac->ev.data != NULL || (l = calloc(1, sizeof(*l))) == NULL)
        return -1;
    l->ac = ac;
    l->rd = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_readable, l);
    l->wr = event_new(base, ac->c.fd, EV_WRITE | EV_PERSIST, on_writable, l);
    if (l->rd == NULL || l->wr == NULL) {
        if (l->rd)
            event_free(l->rd);
        if (l->wr)
            event_free(l->wr);
        free(l);
        return -1;
    }
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = l;
    /* Writable: the connection is made (hiredis finishes connecting there). */
    event_add(l->rd, NULL);
    event_add(l->wr, NULL);
    return 0;
}
