#include "progress.h"

#include <event2/event.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "run.h"

static int use_color(void)
{
    const char *no_color = getenv("NO_COLOR");
    return no_color == NULL || no_color[0] == '\0';
}

int progress_utf8(void)
{
    static int utf8 = -1;
    if (utf8 >= 0)
        return utf8;
    /* The process runs in the C locale (printf's decimal point stays a
     * point); the environment's is looked at and put back. */
    char was[64];
    const char *cur = setlocale(LC_CTYPE, NULL);
    snprintf(was, sizeof(was), "%s", cur ? cur : "C");
    utf8 = setlocale(LC_CTYPE, "") != NULL && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    setlocale(LC_CTYPE, was);
    return utf8;
}

int progress_columns(int fd)
{
    struct winsize ws;
    uint64_t cols;
    const char *env = getenv("COLUMNS");

    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (env && parse_u64(env, 1, 10000, &cols) == 0)
        return (int)cols;
    return 80;
}

/* The byte length of s's first `chars` characters (UTF-8). */
static size_t utf8_prefix(const char *s, size_t chars)
{
    size_t i = 0;
    for (; s[i] && chars; chars--)
        for (i++; (s[i] & 0xC0) == 0x80; i++)
            ;
    return i;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Seconds left: the later of the last planned arrival and what the tasks
 * still running would take at the pace seen so far; -1 before any task
 * has finished (a stampede finishes nothing until its fetch returns). */
static double time_left(const struct fb_run *run, const struct fb_run_totals *t, double secs)
{
    const struct fb_workload *w = run_opts(run)->workload;
    if (t->nfinished == 0 || t->nfinished > t->ntasks)
        return -1;
    double left = secs * (t->ntasks - t->nfinished) / t->nfinished;
    double arrivals = w && w->ntasks ? w->arrival_us[w->ntasks - 1] / 1e6 - secs : 0;
    return arrivals > left ? arrivals : left;
}

static void draw(evutil_socket_t fd, short what, void *arg)
{
    const struct fb_run *run = arg;
    const struct fb_run_totals *t = run_totals(run);
    double secs = (clock_now_us() - t->t0_us) / 1e6, left = time_left(run, t, secs);
    int color = use_color(), width = progress_columns(STDERR_FILENO);
    char line[512], eta[32];

    if (left >= 0)
        snprintf(eta, sizeof(eta), "%.1f s", left);
    else
        snprintf(eta, sizeof(eta), "%s", progress_utf8() ? "–" : "-");
    int label = snprintf(line, sizeof(line), "[%s]", run_opts(run)->strategy->name);
    snprintf(line + label, sizeof(line) - (size_t)label,
             " %u/%u %s done | %u waiting | %" PRIu64 " upstream %s | %.1f s | left %s", t->nfinished,
             t->ntasks, plural(t->ntasks, "task", "tasks"), t->nwaiting, t->upstream_requests,
             plural(t->upstream_requests, "request", "requests"), secs, eta);
    /* One column short of the width: a character in the last column may
     * leave the cursor waiting to wrap. */
    size_t cut = utf8_prefix(line, width > 1 ? (size_t)width - 1 : 1);
    size_t head = cut < (size_t)label ? cut : (size_t)label;
    fprintf(stderr, "\r\033[K%s%.*s%s%.*s", color ? "\033[2m" : "", (int)head, line, color ? "\033[0m" : "",
            (int)(cut - head), line + head);
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
