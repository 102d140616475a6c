#include "procsample.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "threads.h"

static void take(evutil_socket_t fd, short what, void *arg)
{
    struct fb_procsample *p = arg;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        uint64_t(*s)[2] = realloc(p->samples, cap * sizeof(*s));
        if (s == NULL)
            return; /* a cross-check may have gaps */
        p->samples = s;
        p->cap = cap;
    }
    uint64_t now = clock_now_us();
    p->samples[p->n][0] = now > p->t0_us ? now - p->t0_us : 0;
    p->samples[p->n][1] = threads_live_now();
    p->n++;
}

int procsample_start(struct fb_procsample *p, struct event_base *base, uint64_t t0_us,
                     unsigned interval_ms)
{
    struct timeval every = {interval_ms / 1000, (interval_ms % 1000) * 1000};

    memset(p, 0, sizeof(*p));
    p->t0_us = t0_us;
    p->ev = event_new(base, -1, EV_PERSIST, take, p);
    if (p->ev == NULL || event_add(p->ev, &every) < 0)
        return -1;
    take(-1, 0, p);
    return 0;
}

void procsample_stop(struct fb_procsample *p)
{
    if (p->ev)
        event_free(p->ev);
    p->ev = NULL;
}

void procsample_free(struct fb_procsample *p)
{
    procsample_stop(p);
    free(p->samples);
    memset(p, 0, sizeof(*p));
}
