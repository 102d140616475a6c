#include "xfer.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "threads.h"

/* One fetch. Linked to its easy handle with CURLOPT_PRIVATE. */
struct fb_transfer {
    struct fb_node node;        /* in x->waiting until admitted */
    struct fb_transfer *prev, *next; /* in x->active once admitted */
    struct fb_xfer *x;
    CURL *easy;
    struct fb_node *owner;
    const char *url;
    struct fb_transfer *next_unstarted; /* in x->unstarted until libcurl runs it */
    uint64_t first_action_us;   /* the first call into libcurl after admission:
                                 * libcurl starts the transfer's clock in it */
    uint64_t socket_us;         /* when libcurl opened its first socket, or 0 */
    char *body;
    size_t len, cap;
    int too_large;
    /* What the server said of its queue (X-Queue-Us), believed only from an
     * answer that names this request (X-Queue-For): a cache in between
     * replays the header of the answer it kept to everyone it serves. */
    struct curl_slist *ask;     /* our X-Queue-For request header */
    uint64_t queue_us;
    int queue_said, queue_ours;
    char errbuf[CURL_ERROR_SIZE];
};

/* One socket libcurl wants watched. Linked with curl_multi_assign. */
struct fb_sock {
    struct fb_sock *prev, *next;
    struct fb_xfer *x;
    curl_socket_t fd;
    struct event *ev;
};

static void drain_finished(struct fb_xfer *x);

static void socket_action(struct fb_xfer *x, curl_socket_t fd, int flags)
{
    int running;
    /* Only transfers added since the last call await their start. */
    uint64_t before = x->unstarted ? clock_now_us() : 0;

    curl_multi_socket_action(x->multi, fd, flags, &running);
    threads_tag_owner(NULL); /* a tag not used by a thread ends with the call */
    /* libcurl runs every transfer added since the last call (their timers
     * expire at once) and starts each one's clock there, not when it was
     * added: at a million tasks that is one long loop turn later. */
    for (struct fb_transfer *t = x->unstarted; t; t = t->next_unstarted)
        t->first_action_us = before;
    x->unstarted = NULL;
    /* Finished transfers are drained whatever `running` says: a transfer can
     * finish in the same call that starts another. */
    drain_finished(x);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct fb_xfer *x = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    socket_action(x, fd, flags);
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
    socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION. libcurl must not be called from here: a 0 ms
 * timeout becomes a timer that fires on the next loop iteration. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
    struct fb_xfer *x = arg;

    if (timeout_ms < 0) {
        evtimer_del(x->timer);
    } else {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evtimer_add(x->timer, &tv);
    }
    return 0;
}

static void sock_free(struct fb_sock *s)
{
    struct fb_xfer *x = s->x;
    if (s->prev)
        s->prev->next = s->next;
    else
        x->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->ev)
        event_free(s->ev);
    free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl wants. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    struct fb_xfer *x = arg;
    struct fb_sock *s = sockp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(x->multi, fd, NULL);
            sock_free(s);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return -1;
        s->x = x;
        s->fd = fd;
        s->next = x->socks;
        if (x->socks)
            x->socks->prev = s;
        x->socks = s;
        curl_multi_assign(x->multi, fd, s);
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    /* libcurl changes a socket's interest several times per transfer: the
     * event is re-assigned in place, not freed and allocated again. */
    if (s->ev == NULL)
        s->ev = event_new(x->base, fd, kind, on_socket_event, x);
    else if (event_del(s->ev) < 0 || event_assign(s->ev, x->base, fd, kind, on_socket_event, x) < 0)
        return -1;
    if (s->ev == NULL || event_add(s->ev, NULL) < 0)
        return -1;
    return 0;
}

/* Sockets are opened and closed here so that the connections open at once
 * are counted exactly. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fb_transfer *t = arg;
    struct fb_xfer *x = t->x;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    if (fd != CURL_SOCKET_BAD) {
        if (t->socket_us == 0)
            t->socket_us = clock_now_us();
        x->connections_opened++;
        if (++x->open_connections > x->peak_connections)
            x->peak_connections = x->open_connections;
    }
    return fd;
}

static int on_close_socket(void *arg, curl_socket_t fd)
{
    struct fb_xfer *x = arg;
    x->open_connections--;
    return close(fd);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fb_transfer *t = arg;
    size_t n = size * nmemb;

    if (n > t->x->opts.max_body - t->len) {
        t->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR ends the transfer */
    }
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 2048;
        while (cap < t->len + n)
            cap *= 2;
        if (cap > t->x->opts.max_body)
            cap = t->x->opts.max_body;
        char *p = realloc(t->body, cap);
        if (p == NULL)
            return 0;
        t->body = p;
        t->cap = cap;
    }
    memcpy(t->body + t->len, data, n);
    t->len += n;
    return n;
}

/* The value of header line `line` (n bytes) when it is `name`, blanks
 * trimmed and NUL-terminated into out; NULL otherwise. */
static const char *header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
    size_t k = strlen(name);

    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return NULL;
    line += k + 1;
    n -= k + 1;
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n >= outlen)
        return NULL;
    memcpy(out, line, n);
    out[n] = '\0';
    return out;
}

/* CURLOPT_HEADERFUNCTION: each response (an interim 1xx too) starts with
 * its status line and says its own queue time, or nothing. */
static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
    struct fb_transfer *t = arg;
    size_t n = size * nitems;
    char value[80], mine[80];
    const char *id;

    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        t->queue_said = t->queue_ours = 0;
    } else if (header_value(line, n, "X-Queue-Us", value, sizeof value) != NULL) {
        /* Digits only, at most 19: anything else says nothing. */
        size_t len = strlen(value);
        t->queue_said = len > 0 && len <= 19 && strspn(value, "0123456789") == len;
        t->queue_us = t->queue_said ? strtoull(value, NULL, 10) : 0;
    } else if ((id = header_value(line, n, "X-Queue-For", value, sizeof value)) != NULL
               && t->ask != NULL
               && header_value(t->ask->data, strlen(t->ask->data), "X-Queue-For", mine, sizeof mine) != NULL) {
        t->queue_ours = strcmp(id, mine) == 0;
    }
    return n;
}

static enum fb_stage stage_of(CURLcode rc, const struct fb_transfer *t)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return STAGE_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return STAGE_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return STAGE_TLS;
    case CURLE_OPERATION_TIMEDOUT:
        return STAGE_TIMEOUT;
    case CURLE_WRITE_ERROR:
        return t->too_large ? STAGE_BODY_TOO_LARGE : STAGE_OTHER;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
        return STAGE_READ;
    default:
        return STAGE_OTHER;
    }
}

/* CURLOPT_RESOLVER_START_FUNCTION: libcurl is about to resolve t's host,
 * with its threaded resolver on a new thread: the thread is t's owner's. */
static int on_resolver_start(void *resolver_state, void *reserved, void *arg)
{
    const struct fb_transfer *t = arg;
    threads_tag_owner(t->owner);
    return 0;
}

static uint32_t phase_offset(CURL *easy, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(easy, what, &us);
    return us > 0 ? (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us) : 0;
}

static int admit(struct fb_xfer *x, struct fb_transfer *t);

static void admit_waiting(struct fb_xfer *x)
{
    while (x->waiting.head && (x->opts.max_inflight == 0 || x->inflight < x->opts.max_inflight)) {
        struct fb_transfer *t = (struct fb_transfer *)queue_pop(&x->waiting);
        if (admit(x, t) < 0) {
            struct fb_xfer_result r = {.stage = STAGE_OTHER, .message = "could not set up the transfer"};
            struct fb_node *owner = t->owner;
            free(t);
            x->done(x->ctx, owner, &r);
        }
    }
}

/* What libcurl knows of t so far: status, where its clock started, and the
 * phases reached as offsets from there. */
static void progress_of(const struct fb_transfer *t, struct fb_xfer_result *r)
{
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
    r->phase_us[PHASE_DNS] = phase_offset(t->easy, CURLINFO_NAMELOOKUP_TIME_T);
    r->phase_us[PHASE_CONNECT] = phase_offset(t->easy, CURLINFO_CONNECT_TIME_T);
    r->phase_us[PHASE_FIRST_BYTE] = phase_offset(t->easy, CURLINFO_STARTTRANSFER_TIME_T);
    uint32_t lookup = r->phase_us[PHASE_DNS]; /* as libcurl said, before the fixes below */
    /* A phase reached in under a microsecond still counts as reached (0
     * means "not reached"); a reused connection reports no connect time at
     * all but a name lookup: the phases are made monotonic, so no span ends
     * before it starts. */
    for (int p = PHASE_COUNT - 2; p >= 0; p--)
        if (r->phase_us[p] == 0 && r->phase_us[p + 1])
            r->phase_us[p] = 1;
    for (int p = 1; p < PHASE_COUNT; p++)
        if (r->phase_us[p] && r->phase_us[p] < r->phase_us[p - 1])
            r->phase_us[p] = r->phase_us[p - 1];
    if (t->first_action_us == 0) {
        r->start_us = 0; /* libcurl never ran it */
        return;
    }
    /* libcurl's clock for the transfer starts inside the first call after
     * admission, after whatever else that call starts first (thousands of
     * transfers, in a stampede). Where the transfer opened a socket, the
     * start is exactly that moment minus its name lookup, on our clock. Its
     * end minus its total time is not: libcurl tears the connection down
     * after stopping the clock, 0.1-1 ms later, and a failed transfer's
     * total time is stale. */
    r->start_us = t->first_action_us;
    if (t->socket_us > lookup && t->socket_us - lookup > r->start_us)
        r->start_us = t->socket_us - lookup;
    /* The server measured its queue as a duration on its own clock; where
     * it fell in our request phase (connected .. first byte) we cannot
     * know without a shared clock. The request goes out once connected and
     * queues on arrival, so the wait starts one one-way trip into the phase
     * (microseconds on loopback, half a round trip across hosts): placed
     * at the phase's start it is off by that trip, never by the wait. It
     * is clipped to the first byte, so that a server's clock running fast,
     * or a header that lies, cannot make in_service negative. */
    uint32_t first = r->phase_us[PHASE_FIRST_BYTE];
    if (t->queue_said && t->queue_ours && first) {
        uint64_t at = (uint64_t)r->phase_us[PHASE_CONNECT] + t->queue_us;
        r->phase_us[PHASE_SERVICE] = at < first ? (uint32_t)at : first;
    }
}

static void unlink_active(struct fb_xfer *x, struct fb_transfer *t)
{
    curl_multi_remove_handle(x->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->ask);
    t->ask = NULL;
    if (t->prev)
        t->prev->next = t->next;
    else
        x->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    x->inflight--;
}

static void finish(struct fb_xfer *x, struct fb_transfer *t, CURLcode rc)
{
    struct fb_xfer_result r = {0};

    progress_of(t, &r);

    char status_line[64];
    if (rc != CURLE_OK) {
        r.stage = stage_of(rc, t);
        r.message = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
        if (r.stage == STAGE_BODY_TOO_LARGE)
            r.message = "response body larger than --max-body";
    } else if (r.http_status >= 400) {
        r.stage = STAGE_HTTP_STATUS;
        snprintf(status_line, sizeof(status_line), "HTTP status %ld", r.http_status);
        r.message = status_line;
    } else {
        r.ok = 1;
        r.body = t->body;
        r.len = t->len;
        t->body = NULL;
    }

    unlink_active(x, t);

    /* r.message may point into t->errbuf: t outlives the callback. */
    x->done(x->ctx, t->owner, &r);
    free(r.body);
    free(t->body);
    free(t);
}

static void drain_finished(struct fb_xfer *x)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(x->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct fb_transfer *t;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        finish(x, t, msg->data.result);
    }
    admit_waiting(x);
}

/* --cacert and --insecure on easy handle e: --cacert replaces the
 * system's CAs (its directory too), as its help says, rather than adding
 * to them. */
static void tls_options(CURL *e, const struct fb_xfer_opts *o)
{
    if (o->cacert) {
        curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* Names t's request (X-Queue-For: this client's nonce and t's number) and
 * reads the answer's queue headers. Without memory for the name, the
 * server's queue time is not believed and the request phase stays whole. */
static void ask_queue_time(struct fb_xfer *x, struct fb_transfer *t)
{
    char line[80];

    snprintf(line, sizeof line, "X-Queue-For: %016" PRIx64 "-%" PRIu64, x->nonce, x->started);
    t->ask = curl_slist_append(NULL, line);
    t->queue_said = t->queue_ours = 0;
    if (t->ask != NULL)
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->ask);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
}

static int admit(struct fb_xfer *x, struct fb_transfer *t)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return -1;
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    tls_options(e, &x->opts);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    /* The transfer, to time its socket; a socket's close may come after
     * its transfer is gone (a kept connection), so that one gets x. */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_RESOLVER_START_FUNCTION, on_resolver_start);
    curl_easy_setopt(e, CURLOPT_RESOLVER_START_DATA, t);
    if (!x->opts.reuse_connections) {
        /* A new client session per request: its own connection and its own
         * name resolution, as a fresh aiohttp.ClientSession would do. */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    }
    ask_queue_time(x, t);
    if (curl_multi_add_handle(x->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(t->ask);
        t->ask = NULL;
        return -1;
    }
    t->first_action_us = 0;
    t->next_unstarted = x->unstarted;
    x->unstarted = t;
    t->prev = NULL;
    t->next = x->active;
    if (x->active)
        x->active->prev = t;
    x->active = t;
    x->inflight++;
    x->started++;
    if (x->sent)
        x->sent(x->ctx, t->owner);
    return 0;
}

int xfer_fetch(struct fb_xfer *x, const char *url, struct fb_node *owner)
{
    struct fb_transfer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    t->x = x;
    t->owner = owner;
    t->url = url;
    if (x->opts.max_inflight && x->inflight >= x->opts.max_inflight) {
        x->waited++;
        queue_push(&x->waiting, &t->node);
        return 0;
    }
    if (admit(x, t) < 0) {
        free(t);
        return -1;
    }
    return 0;
}

int xfer_init(struct fb_xfer *x, struct event_base *base, const struct fb_xfer_opts *opts,
              fb_xfer_done_fn *done, void *ctx)
{
    memset(x, 0, sizeof(*x));
    x->base = base;
    x->opts = *opts;
    x->done = done;
    x->ctx = ctx;
    x->timer = evtimer_new(base, on_timer_event, x);
    x->multi = curl_multi_init();
    /* Distinct per client and run, so that a cache's answer kept from an
     * earlier run never names one of this run's requests. */
    struct timeval now;
    gettimeofday(&now, NULL);
    x->nonce = ((uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_usec) ^ ((uint64_t)getpid() << 44);
    if (x->timer == NULL || x->multi == NULL) {
        xfer_cleanup(x);
        return -1;
    }
    curl_multi_setopt(x->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(x->multi, CURLMOPT_SOCKETDATA, x);
    curl_multi_setopt(x->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(x->multi, CURLMOPT_TIMERDATA, x);
    if (opts->reuse_connections && opts->max_inflight) {
        curl_multi_setopt(x->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opts->max_inflight);
        curl_multi_setopt(x->multi, CURLMOPT_MAXCONNECTS, (long)opts->max_inflight);
    }
    return 0;
}

void xfer_abort_all(struct fb_xfer *x, fb_xfer_done_fn *cb, void *ctx)
{
    struct fb_transfer *t;
    struct fb_node *n;

    x->unstarted = NULL;
    while ((t = x->active) != NULL) {
        struct fb_xfer_result r = {.stage = STAGE_OTHER, .message = "cancelled"};
        progress_of(t, &r);
        unlink_active(x, t);
        if (cb)
            cb(ctx, t->owner, &r);
        free(t->body);
        free(t);
    }
    while ((n = queue_pop(&x->waiting)) != NULL) {
        t = (struct fb_transfer *)n; /* node is a transfer's first member */
        struct fb_xfer_result r = {.stage = STAGE_OTHER, .message = "cancelled"};
        if (cb)
            cb(ctx, t->owner, &r);
        free(t);
    }
}

void xfer_cleanup(struct fb_xfer *x)
{
    if (x->multi)
        xfer_abort_all(x, NULL, NULL);
    /* curl_multi_cleanup may still call the socket callback, so the events
     * it uses are freed after it. */
    if (x->multi)
        curl_multi_cleanup(x->multi);
    x->multi = NULL;
    while (x->socks)
        sock_free(x->socks);
    if (x->timer)
        event_free(x->timer);
    x->timer = NULL;
}
