#include "progress.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "run.h"

static int use_color(void)
{
    const char *no_color = getenv("NO_COLOR");
    return no_color == NULL || no_color[0] == '\0';
}

static void draw(evutil_socket_t fd, short what, void *arg)
{
    const struct fb_run *run = arg;
    const struct fb_run_totals *t = run_totals(run);
    double secs = (clock_now_us() - t->t0_us) / 1e6;
    const char *dim = use_color() ? "\033[2m" : "", *reset = use_color() ? "\033[0m" : "";

    fprintf(stderr, "\r\033[K%s[%s]%s %u/%u tasks done | %u waiting | %" PRIu64 " upstream requests | %.1f s",
            dim, run_opts(run)->strategy->name, reset, t->nfinished, t->ntasks, t->nwaiting,
            t->upstream_requests, secs);
    fflush(stderr);
}

struct event *progress_start(struct event_base *base, const struct fb_run *run)
{
    struct timeval every = {0, 250000};
    struct event *ev = event_new(base, -1, EV_PERSIST, draw, (void *)run);
    if (ev && event_add(ev, &every) < 0) {
        event_free(ev);
        return NULL;
    }
    return ev;
}

void progress_free(struct event *ev)
{
    if (ev == NULL)
        return;
    event_free(ev);
    fputs("\r\033[K", stderr);
    fflush(stderr);
}
