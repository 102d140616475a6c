/* The test server behind `fetchbench serve`: libevent's evhttp on one
 * thread, a FIFO of delayed requests bounded by a capacity, and /stats.
 *
 * State comes in two kinds: the server (event base, evhttp, counters, the
 * queue, the in_service log) and one delayed request (its timer, its
 * disconnect watch, its place in the queue or in service). The request and
 * its connection belong to evhttp; we only hold them while they are ours to
 * answer, and let go of both the moment evhttp or the client takes them back.
 */
#include "server.h"
#include "clock.h"
#include "config.h"
#include "delaypath.h"
#include "faults.h"
#include "fdlimit.h"
#include "jsonw.h"
#include "parse.h"

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#define SERVE_PREFIX        "fetchbench serve: "
/* Bounds the request line (URI) as well: evhttp counts it against the same limit. */
#define MAX_HEADERS_BYTES   8192
#define MAX_BODY_BYTES      4096
/* evhttp's timeout is per read/write, not per request, and it is off while a
 * request waits for us (evhttp stops reading then), so it never cuts a delay. */
#define IO_TIMEOUT_S        10
/* The kernel silently clips this to net.core.somaxconn. */
#define LISTEN_BACKLOG      65535
/* 10,000 concurrent connections plus stdio, the listener and epoll. */
#define WANTED_FDS          10240
#define ACCEPT_PAUSE_US     100000
/* The log keeps the newest LOG_RING changes, 16 bytes each: 1 MiB however
 * long the server runs, and a run of 32,768 requests in full when none waits
 * for a slot (2 changes each), 21,845 when each does (3). */
#define LOG_RING            65536u
/* /stats?log=1 is formatted in pieces of this size into its evbuffer. */
#define STATS_CHUNK         16384
/* The client's bounds for the same flags (cli.c): one behaviour either way. */
#define SERVE_MAX_SEED        9007199254740991ull /* 2^53 - 1 */
#define SERVE_MAX_FAIL_FIRST  1000000000u

enum { OPT_FAIL_RATE = 256, OPT_FAIL_FIRST, OPT_RESET_RATE, OPT_HANG_RATE, OPT_JITTER, OPT_SEED };

/* Exactly 1024 bytes, so a client can check the size it received. */
#define PAGE_LINE "<p>fetchbench delay page: filler to reach one KiB.</p>\n"
#define PAGE_LINES4 PAGE_LINE PAGE_LINE PAGE_LINE PAGE_LINE
static const char page[] =
    "<!DOCTYPE html>\n<html><head><title>fetchbench delay</title></head>\n<body>\n"
    PAGE_LINES4 PAGE_LINES4 PAGE_LINES4 PAGE_LINES4 PAGE_LINE
    "</body></html>\n";

enum fb_delay_state { DELAY_QUEUED, DELAY_IN_SERVICE, DELAY_DEAD };

/* One change of the number of requests in service or waiting for a slot. */
struct fb_log_entry {
    uint64_t t_us;                   /* CLOCK_MONOTONIC */
    uint32_t in_service;             /* at most WANTED_FDS connections each */
    uint32_t queued;
};

struct fb_server;

/* One /delay request between its arrival and its answer (or abandonment). */
struct fb_delay_req {
    struct fb_server *srv;
    struct evhttp_request *req;     /* owned by evhttp */
    struct evhttp_connection *conn; /* owned by evhttp */
    struct event *timer;            /* fires when the delay is over */
    struct event *watch;            /* the client's end of the socket */
    unsigned delay_ms;
    uint64_t arrived_us;            /* CLOCK_MONOTONIC, when evhttp handed it over */
    uint64_t queue_us;              /* waited for a slot (X-Queue-Us): 0 when
                                     * it entered service on arrival */
    int capped;
    int can_probe;                  /* HTTP/1.1 or later: 1xx allowed */
    int probed;                     /* a 102 went out after the client's FIN */
    enum fb_fate fate;              /* what the end of its delay brings */
    enum fb_delay_state state;
    struct fb_delay_req *prev, *next; /* in exactly one fb_delay_list */
};

/* Intrusive doubly linked list: O(1) removal of a client that leaves. */
struct fb_delay_list {
    struct fb_delay_req *head, *tail;
    size_t len;
};

struct fb_server {
    struct event_base *base;
    struct evhttp *http;
    struct event *stop[2];           /* the signals that end the loop */
    struct event *reaper;            /* frees retired requests */
    int capacity;                    /* 0 = unlimited */

    struct fb_delay_list queue;      /* waiting, oldest first */
    struct fb_delay_list active;     /* in service */
    struct fb_delay_list dead;       /* retired, not yet freed */

    uint64_t requests, completed, abandoned;
    /* Faults carried out (a request that leaves before its delay is over
     * meets none); decided at arrival by plan, when faulty. */
    uint64_t failed, reset, hung;
    int faulty;
    struct fb_fault_plan plan;
    size_t max_in_service, max_queued;

    /* A ring: change number k (from 0) lives at log[k % LOG_RING]; the
     * oldest kept is log_total - min(log_total, LOG_RING). */
    struct fb_log_entry *log;
    uint64_t log_total;              /* changes ever logged */
    uint64_t log_lost_t;             /* time of the newest change overwritten */
};

static void list_push(struct fb_delay_list *list, struct fb_delay_req *d)
{
    d->next = NULL;
    d->prev = list->tail;
    if (list->tail != NULL)
        list->tail->next = d;
    else
        list->head = d;
    list->tail = d;
    list->len++;
}

static void list_remove(struct fb_delay_list *list, struct fb_delay_req *d)
{
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        list->head = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
    else
        list->tail = d->prev;
    d->prev = d->next = NULL;
    list->len--;
}

/* Records (now, in_service, queued); once the ring is full each change
 * overwrites the oldest, so memory stays fixed and /stats says what was lost. */
static void log_change(struct fb_server *srv)
{
    struct fb_log_entry *e = &srv->log[srv->log_total % LOG_RING];

    if (srv->log_total >= LOG_RING)
        srv->log_lost_t = e->t_us;
    e->t_us = clock_now_us();
    e->in_service = (uint32_t)srv->active.len;
    e->queued = (uint32_t)srv->queue.len;
    srv->log_total++;
}

/* The name a client may give its request (X-Queue-For) so that it can tell
 * an answer made for it from one a cache kept and replays to everyone: we
 * echo it back beside X-Queue-Us. Only a short token is echoed; anything
 * else could break the hand-written head of a reset (send_half_page). */
#define QUEUE_FOR_MAX 64

static const char *queue_for(struct evhttp_request *req)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Queue-For");
    size_t n = 0;

    if (v == NULL)
        return NULL;
    for (; v[n] != '\0'; n++)
        if (n == QUEUE_FOR_MAX
            || !((v[n] >= '0' && v[n] <= '9') || (v[n] >= 'a' && v[n] <= 'z')
                 || (v[n] >= 'A' && v[n] <= 'Z') || v[n] == '.' || v[n] == '-' || v[n] == '_'))
            return NULL;
    return n > 0 ? v : NULL;
}

/* Every answer says how long its request waited for a slot before its
 * delay began: a duration on our clock alone, so it stays true for a client
 * on another host, whose clock we do not share. Replaces what an earlier
 * call said (each request is first marked 0 on arrival). */
static void add_queue_headers(struct evhttp_request *req, uint64_t queue_us)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    const char *id = queue_for(req);
    char value[24];

    snprintf(value, sizeof value, "%" PRIu64, queue_us);
    evhttp_remove_header(headers, "X-Queue-Us");
    evhttp_remove_header(headers, "X-Queue-For");
    evhttp_add_header(headers, "X-Queue-Us", value);
    if (id != NULL)
        evhttp_add_header(headers, "X-Queue-For", id);
}

/* Sends a whole response with body (moved, caller still frees the empty
 * evbuffer); evhttp owns req from here on. */
static void reply_buffer(struct evhttp_request *req, int code, const char *reason,
                         const char *type, struct evbuffer *body)
{
    if (type != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, code, reason, body);
}

/* Sends a whole response with a copy of data as its body; evhttp owns req
 * from here on (it frees it once written, or at once if the client is gone). */
static void reply(struct evhttp_request *req, int code, const char *reason,
                  const char *type, const char *data, size_t len)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();

    if (body == NULL || evbuffer_add(body, data, len) != 0) {
        /* An empty 200 would look like success; say what happened. */
        code = HTTP_INTERNAL;
        reason = "Internal Server Error";
        type = NULL;
        if (body != NULL)
            evbuffer_drain(body, evbuffer_get_length(body));
    }
    if (type != NULL)
        evhttp_add_header(headers, "Content-Type", type);
    evhttp_send_reply(req, code, reason, body);
    if (body != NULL)
        evbuffer_free(body);
}

/* Unlike evhttp_send_error, keeps our extra headers (Allow) and keep-alive. */
static void reply_error(struct evhttp_request *req, int code, const char *reason)
{
    char text[160];
    int n = snprintf(text, sizeof text,
                     "<html><body><h1>%d %s</h1></body></html>\n", code, reason);

    reply(req, code, reason, "text/html", text, (size_t)n);
}

static void delay_free(struct fb_delay_req *d)
{
    if (d->timer != NULL)
        event_free(d->timer);
    if (d->watch != NULL)
        event_free(d->watch);
    free(d);
}

/* Takes d out of the queue or out of service and stops everything that could
 * call back into it. Its memory is freed later by the reaper, because this
 * runs inside d's own timer and watch callbacks. */
static void delay_retire(struct fb_delay_req *d)
{
    struct fb_server *srv = d->srv;

    if (d->state == DELAY_QUEUED)
        list_remove(&srv->queue, d);
    else
        list_remove(&srv->active, d);
    log_change(srv);
    /* The connection may outlive d (keep-alive): it must not call us again. */
    evhttp_connection_set_closecb(d->conn, NULL, NULL);
    event_del(d->timer);
    /* Before evhttp closes the fd, which could be reused at once. */
    event_del(d->watch);
    d->state = DELAY_DEAD;
    list_push(&srv->dead, d);
    event_active(srv->reaper, EV_TIMEOUT, 0);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    struct fb_server *srv = arg;
    struct fb_delay_req *d;

    while ((d = srv->dead.head) != NULL) {
        list_remove(&srv->dead, d);
        delay_free(d);
    }
}

static void delay_answer(struct fb_delay_req *d)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(d->req);

    if (d->capped)
        evhttp_add_header(headers, "X-Delay-Capped", "1");
    add_queue_headers(d->req, d->queue_us);
    reply(d->req, HTTP_OK, "OK", "text/html", page, sizeof page - 1);
    d->srv->completed++;
}

/* The delay is measured from here, not from arrival: that is what makes a
 * capacity show up as waves. */
static void enter_service(struct fb_server *srv, struct fb_delay_req *d)
{
    struct timeval tv = { .tv_sec = d->delay_ms / 1000,
                          .tv_usec = (d->delay_ms % 1000) * 1000 };

    /* The loop's cached time dates from before this iteration's callbacks,
     * which may have taken a while under a burst of arrivals. */
    event_base_update_cache_time(srv->base);
    d->state = DELAY_IN_SERVICE;
    list_push(&srv->active, d);
    if (srv->active.len > srv->max_in_service)
        srv->max_in_service = srv->active.len;
    log_change(srv);
    if (evtimer_add(d->timer, &tv) != 0) {
        struct evhttp_request *req = d->req;
        delay_retire(d);
        add_queue_headers(req, d->queue_us);
        reply_error(req, HTTP_SERVUNAVAIL, "Service Unavailable");
    }
}

static int has_room(const struct fb_server *srv)
{
    return srv->capacity == 0 || srv->active.len < (size_t)srv->capacity;
}

/* Fills free service slots from the head of the queue. */
static void promote(struct fb_server *srv)
{
    struct fb_delay_req *d;

    while ((d = srv->queue.head) != NULL && has_room(srv)) {
        list_remove(&srv->queue, d);
        d->queue_us = clock_now_us() - d->arrived_us;
        enter_service(srv, d);
    }
}

/* The status line, the headers of the whole page and half of it, straight
 * to the socket: evhttp has flushed all it wrote before handing us the
 * request, and it must not add the rest. A fresh socket's send buffer takes
 * these few hundred bytes whole; what it would not take is lost like the
 * rest of the page. */
static void send_half_page(struct fb_delay_req *d)
{
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(d->conn));
    const char *id = queue_for(d->req);
    char head[384];
    int n = snprintf(head, sizeof head,
                     "HTTP/%d.%d 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                     "X-Fault: reset\r\nX-Queue-Us: %" PRIu64 "\r\n%s%s%sConnection: close\r\n\r\n",
                     d->req->major, d->req->minor, sizeof page - 1, d->queue_us,
                     id != NULL ? "X-Queue-For: " : "", id != NULL ? id : "", id != NULL ? "\r\n" : "");
    struct iovec iov[2] = { { head, (size_t)n }, { (void *)page, (sizeof page - 1) / 2 } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

    (void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void on_delay_timer(evutil_socket_t fd, short what, void *arg)
{
    struct fb_delay_req *d = arg;
    struct fb_server *srv = d->srv;

    switch (d->fate) {
    case FATE_HANG:
        /* It keeps its slot until the client leaves: on_conn_close then
         * retires it like any abandoned request. */
        srv->hung++;
        return;
    case FATE_FAIL:
        delay_retire(d);
        evhttp_add_header(evhttp_request_get_output_headers(d->req), "X-Fault", "fail");
        /* It queued and held its slot like any other: that wait is true. */
        add_queue_headers(d->req, d->queue_us);
        reply_error(d->req, HTTP_SERVUNAVAIL, "Service Unavailable");
        srv->failed++;
        break;
    case FATE_RESET:
        delay_retire(d);
        send_half_page(d);
        /* Closes the socket after our bytes (a FIN: the client sent nothing
         * more, so no RST discards them) and frees the request; retiring
         * took our close callback off the connection. */
        evhttp_connection_free(d->conn);
        srv->reset++;
        break;
    case FATE_OK:
        delay_retire(d);
        delay_answer(d);
        break;
    }
    promote(srv);
}

/* Runs whenever evhttp frees the connection of a request we still hold: after
 * on_client_event saw the client leave, or if evhttp failed it itself. */
static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    struct fb_delay_req *d = arg;
    struct fb_server *srv = d->srv;
    struct evhttp_request *req = d->req;

    delay_retire(d);
    srv->abandoned++;
    /* On its own failures evhttp detaches an unanswered request from the
     * connection and leaves it to the user; then nobody else will free it.
     * Otherwise the request is still attached and evhttp frees it next. */
    if (evhttp_request_get_connection(req) == NULL)
        evhttp_request_free(req);
    promote(srv);
}

/* What the kernel knows of the client's end of a connection. */
enum fb_peer { PEER_THERE, PEER_FIN, PEER_GONE };

static enum fb_peer peer_state(evutil_socket_t fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;

    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return PEER_GONE;
    if (info.tcpi_state == TCP_ESTABLISHED)
        return PEER_THERE;
    /* We never close first while a request waits, so the only other states
     * are CLOSE_WAIT (the client sent FIN) and CLOSE (it reset). */
    return info.tcpi_state == TCP_CLOSE_WAIT ? PEER_FIN : PEER_GONE;
}

/* A FIN alone does not say whether the client closed or only shut down its
 * sending side, and a half-closed client is owed its answer. Only sending
 * tells them apart: a closed socket answers data with RST. An interim 102
 * is the one thing we may send before the answer (RFC 9110 15.2: HTTP/1.1
 * clients must take an unexpected 1xx); evhttp has flushed everything it
 * wrote before handing us the request, so the bytes cannot interleave.
 * Returns 0 when it went out whole or the send buffer is full (a client that
 * reads nothing; we cannot ask now and keep it), -1 when the client is gone
 * or the stream would be torn by a partial write. */
static int probe_peer(evutil_socket_t fd)
{
    static const char processing[] = "HTTP/1.1 102 Processing\r\n\r\n";
    ssize_t n = send(fd, processing, sizeof processing - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n == (ssize_t)(sizeof processing - 1))
        return 0;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    return -1;
}

/* evhttp 2.1 stops reading a connection while its request waits for an
 * answer, so it would notice a client that left only when writing to it. We
 * watch the socket ourselves, edge-triggered: the socket stays readable once
 * a pipelined byte or a FIN is in, and a level-triggered watch would spin.
 * Each edge (data, FIN, RST) brings us here, and the TCP state, not the
 * bytes, says what happened; the RST that answers our 102 is an edge too. */
static void on_client_event(evutil_socket_t fd, short what, void *arg)
{
    struct fb_delay_req *d = arg;

    switch (peer_state(fd)) {
    case PEER_THERE:
        return; /* a pipelined request: evhttp reads it after our answer */
    case PEER_FIN:
        if (d->probed)
            return;
        /* HTTP/1.0 has no interim answers, so its FIN cannot be told from
         * a close: we count it as gone rather than let a client that left
         * hold a slot for the whole delay. */
        if (d->can_probe && probe_peer(fd) == 0) {
            d->probed = 1;
            return;
        }
        break;
    case PEER_GONE:
        break;
    }
    /* Freeing the connection runs on_conn_close, which frees d's slot;
     * evhttp frees the request with the connection. */
    evhttp_connection_free(d->conn);
}

/* Returns a new request record watching its connection, or NULL. */
static struct fb_delay_req *delay_new(struct fb_server *srv,
                                      struct evhttp_request *req,
                                      unsigned ms, int capped)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct fb_delay_req *d = calloc(1, sizeof *d);
    evutil_socket_t fd;

    if (d == NULL || conn == NULL)
        goto fail;
    fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
    d->srv = srv;
    d->req = req;
    d->conn = conn;
    d->delay_ms = ms;
    d->capped = capped;
    d->can_probe = req->major > 1 || (req->major == 1 && req->minor >= 1);
    d->timer = evtimer_new(srv->base, on_delay_timer, d);
    if (d->timer == NULL)
        goto fail;
    d->watch = event_new(srv->base, fd, EV_READ | EV_CLOSED | EV_ET | EV_PERSIST,
                         on_client_event, d);
    if (d->watch == NULL || event_add(d->watch, NULL) != 0)
        goto fail;
    evhttp_connection_set_closecb(conn, on_conn_close, d);
    return d;

fail:
    if (d != NULL)
        delay_free(d);
    return NULL;
}

/* The key --fail-first counts by: what follows /url/, or when there is no
 * /url/, the delay itself ("/delay/100" is key "100"). The delay's digits
 * cannot hold "/", so the first /url/ is the one. */
static void fault_key(const char *rest, const char **key, size_t *len)
{
    const char *url = strstr(rest, "/url/");

    *key = url != NULL ? url + 5 : rest;
    *len = strlen(*key);
}

static void serve_delay(struct fb_server *srv, struct evhttp_request *req,
                        const char *rest)
{
    unsigned ms = 0;
    int capped = 0;
    int status = delaypath_parse(rest, &ms, &capped);
    enum fb_fate fate = FATE_OK;
    struct fb_delay_req *d;

    if (status == HTTP_NOTFOUND) {
        reply_error(req, HTTP_NOTFOUND, "Not Found");
        return;
    }
    if (status == HTTP_BADREQUEST) {
        reply_error(req, HTTP_BADREQUEST, "Bad Request");
        return;
    }
    if (srv->faulty) {
        const char *key;
        size_t len;
        fault_key(rest, &key, &len);
        if (faults_decide(&srv->plan, key, len, ms, &fate, &ms) != 0) {
            reply_error(req, HTTP_SERVUNAVAIL, "Service Unavailable");
            return;
        }
    }
    d = delay_new(srv, req, ms, capped);
    if (d == NULL) {
        reply_error(req, HTTP_SERVUNAVAIL, "Service Unavailable");
        return;
    }
    d->fate = fate;
    d->arrived_us = clock_now_us();
    srv->requests++;
    /* Newcomers never overtake the queue. */
    if (srv->queue.head == NULL && has_room(srv)) {
        enter_service(srv, d);
        return;
    }
    d->state = DELAY_QUEUED;
    list_push(&srv->queue, d);
    if (srv->queue.len > srv->max_queued)
        srv->max_queued = srv->queue.len;
    log_change(srv);
}

/* Reads /stats's query: log=1 asks for the log, since=<µs on
 * CLOCK_MONOTONIC> for only the changes at or after it. Unknown keys are
 * ignored. Returns 0, or -1 when since is not a non-negative integer. */
static int stats_query(const struct evhttp_uri *uri, int *log, uint64_t *since)
{
    const char *query = evhttp_uri_get_query(uri);
    struct evkeyvalq params;
    const char *value;
    int rc = 0;

    *log = 0;
    *since = 0;
    if (query == NULL)
        return 0;
    if (evhttp_parse_query_str(query, &params) != 0) {
        evhttp_clear_headers(&params);
        return 0;
    }
    value = evhttp_find_header(&params, "log");
    *log = value != NULL && strcmp(value, "1") == 0;
    value = evhttp_find_header(&params, "since");
    if (value != NULL && parse_u64(value, 0, UINT64_MAX, since) != 0)
        rc = -1;
    evhttp_clear_headers(&params);
    return rc;
}

/* The number of the oldest kept change at or after since (log_total when
 * none is): the ring is in time order, so a binary search. */
static uint64_t log_find(const struct fb_server *srv, uint64_t since)
{
    uint64_t lo = srv->log_total > LOG_RING ? srv->log_total - LOG_RING : 0;
    uint64_t hi = srv->log_total;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (srv->log[mid % LOG_RING].t_us < since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Appends ,"in_service_log":[[t_us,in_service,queued],...] and the loss
 * fields (the third column is newer: a reader of two takes the first two). Formatted
 * by hand into a chunk, no tree: 65,536 pairs take a few milliseconds, which
 * is all the loop stalls. Returns 0 or -1 (out of memory). */
static int add_log(const struct fb_server *srv, struct evbuffer *out, uint64_t since)
{
    static const char head[] = ",\"in_service_log\":[";
    char chunk[STATS_CHUNK];
    size_t len = sizeof head - 1;
    uint64_t lost = srv->log_total > LOG_RING ? srv->log_total - LOG_RING : 0;
    int truncated = lost > 0 && srv->log_lost_t >= since;
    uint64_t first = log_find(srv, since);

    memcpy(chunk, head, len);
    for (uint64_t k = first; k < srv->log_total; k++) {
        const struct fb_log_entry *e = &srv->log[k % LOG_RING];
        /* One row is at most 3 x 20 digits and 5 punctuation bytes. */
        if (len > sizeof chunk - 72) {
            if (evbuffer_add(out, chunk, len) != 0)
                return -1;
            len = 0;
        }
        if (k != first)
            chunk[len++] = ',';
        chunk[len++] = '[';
        len += jw_format_u64(chunk + len, e->t_us);
        chunk[len++] = ',';
        len += jw_format_u64(chunk + len, e->in_service);
        chunk[len++] = ',';
        len += jw_format_u64(chunk + len, e->queued);
        chunk[len++] = ']';
    }
    if (evbuffer_add(out, chunk, len) != 0)
        return -1;
    /* dropped counts the server's whole life; truncated says whether any
     * lost change was at or after since, i.e. whether this log is whole. */
    return evbuffer_add_printf(out, "],\"in_service_log_columns\":[\"t_us\",\"in_service\",\"queued\"]"
                               ",\"in_service_log_dropped\":%" PRIu64
                               ",\"in_service_log_truncated\":%s",
                               lost, truncated ? "true" : "false") < 0 ? -1 : 0;
}

static void serve_stats(struct fb_server *srv, struct evhttp_request *req,
                        const struct evhttp_uri *uri)
{
    struct evbuffer *out;
    uint64_t since;
    int log;

    if (stats_query(uri, &log, &since) != 0) {
        reply_error(req, HTTP_BADREQUEST, "Bad Request");
        return;
    }
    out = evbuffer_new();
    if (out == NULL
        || evbuffer_add_printf(out, "{\"requests\":%" PRIu64 ",\"in_service\":%zu"
                               ",\"max_in_service\":%zu,\"queued\":%zu,\"max_queued\":%zu"
                               ",\"completed\":%" PRIu64 ",\"abandoned\":%" PRIu64
                               ",\"failed\":%" PRIu64 ",\"reset\":%" PRIu64 ",\"hung\":%" PRIu64,
                               srv->requests, srv->active.len, srv->max_in_service,
                               srv->queue.len, srv->max_queued, srv->completed,
                               srv->abandoned, srv->failed, srv->reset, srv->hung) < 0
        || (log && add_log(srv, out, since) != 0)
        || evbuffer_add(out, "}", 1) != 0)
        reply_error(req, HTTP_INTERNAL, "Internal Server Error");
    else
        reply_buffer(req, HTTP_OK, "OK", "application/json", out);
    if (out != NULL)
        evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct fb_server *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    /* Until a /delay request queues: what is answered at once waited 0. */
    add_queue_headers(req, 0);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        reply_error(req, HTTP_BADMETHOD, "Method Not Allowed");
    } else if (path != NULL && strcmp(path, "/stats") == 0) {
        serve_stats(srv, req, uri);
    } else if (path != NULL && strncmp(path, "/delay/", 7) == 0) {
        serve_delay(srv, req, path + 7);
    } else {
        reply_error(req, HTTP_NOTFOUND, "Not Found");
    }
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    evconnlistener_enable(arg);
}

/* accept() failing (EMFILE above all) leaves the listening socket readable,
 * so without a pause the loop would spin on it. libevent hands this callback
 * evhttp's argument, not ours, hence no server pointer: the pause is a
 * one-shot event the base frees (it cannot outlive the listener, since the
 * loop has stopped before evhttp_free), and the warning is once per process. */
static void on_accept_error(struct evconnlistener *listener, void *unused)
{
    static int warned;
    int err = EVUTIL_SOCKET_ERROR();
    const struct timeval pause = { 0, ACCEPT_PAUSE_US };

    if (!warned) {
        fprintf(stderr, SERVE_PREFIX "accept: %s; pausing new connections briefly\n",
                strerror(err));
        warned = 1;
    }
    if (event_base_once(evconnlistener_get_base(listener), -1, EV_TIMEOUT,
                        on_accept_resume, listener, &pause) == 0)
        evconnlistener_disable(listener);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct fb_server *srv = arg;

    event_base_loopbreak(srv->base);
}

/* Frees requests still waiting or in service without answering them; evhttp
 * frees their connections and requests afterwards. */
static void drop_pending(struct fb_delay_list *list)
{
    struct fb_delay_req *d;

    while ((d = list->head) != NULL) {
        list_remove(list, d);
        evhttp_connection_set_closecb(d->conn, NULL, NULL);
        delay_free(d);
    }
}

/* Accepts a partly built server. Order: our records (they point into evhttp
 * connections) → evhttp (closes every connection and the listener) → our
 * events → the base (it finalizes bufferevents evhttp freed, and frees a
 * pending accept pause). */
static void server_free(struct fb_server *srv)
{
    if (srv == NULL)
        return;
    drop_pending(&srv->queue);
    drop_pending(&srv->active);
    /* Not drop_pending: a retired request's connection may be gone already. */
    on_reap(-1, 0, srv);
    if (srv->http != NULL)
        evhttp_free(srv->http);
    if (srv->reaper != NULL)
        event_free(srv->reaper);
    for (size_t i = 0; i < sizeof srv->stop / sizeof srv->stop[0]; i++)
        if (srv->stop[i] != NULL)
            event_free(srv->stop[i]);
    if (srv->base != NULL)
        event_base_free(srv->base);
    faults_plan_free(&srv->plan);
    free(srv->log);
    free(srv);
}

int server_run(int listen_fd, int capacity, const struct fb_faults *faults, int stop_signal)
{
    struct fb_server *srv = NULL;
    struct event_config *cfg;
    struct evhttp_bound_socket *bound;
    const char *why = NULL;
    int rc = -1;

    if (capacity < 0) {
        why = "capacity must not be negative";
        goto out;
    }
    /* A client gone before its answer is written would otherwise kill us. */
    signal(SIGPIPE, SIG_IGN);

    srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        why = "out of memory";
        goto out;
    }
    srv->capacity = capacity;
    faults_plan_init(&srv->plan, faults);
    srv->faulty = faults != NULL && faults_active(faults);
    srv->log = calloc(LOG_RING, sizeof *srv->log);
    if (srv->log == NULL) {
        why = "out of memory";
        goto out;
    }
    /* libevent's default clock on Linux is CLOCK_MONOTONIC_COARSE (1-4 ms
     * steps); the delays are what this server exists to keep. */
    cfg = event_config_new();
    if (cfg != NULL) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        /* The client watch relies on it (epoll has it). */
        event_config_require_features(cfg, EV_FEATURE_ET);
        srv->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (srv->base == NULL) {
        why = "cannot create the event loop";
        goto out;
    }
    srv->http = evhttp_new(srv->base);
    srv->reaper = event_new(srv->base, -1, 0, on_reap, srv);
    if (srv->http == NULL || srv->reaper == NULL) {
        why = "cannot set up the event loop";
        goto out;
    }
    /* libevent installs its own handler for each signal it watches; the
     * embedded child leaves SIGINT/SIGTERM as its parent set them (ignored:
     * a terminal's ^C is for the parent), so it watches only stop_signal. */
    {
        const int stops[2] = { stop_signal != 0 ? stop_signal : SIGINT,
                               stop_signal != 0 ? 0 : SIGTERM };
        for (size_t i = 0; i < 2 && stops[i] != 0; i++) {
            srv->stop[i] = evsignal_new(srv->base, stops[i], on_signal, srv);
            if (srv->stop[i] == NULL || event_add(srv->stop[i], NULL) != 0) {
                why = "cannot set up the event loop";
                goto out;
            }
        }
    }

    /* Every method reaches on_request, which answers 405 itself; evhttp
     * would send 501 for those it does not allow. */
    evhttp_set_allowed_methods(srv->http,
        EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT
        | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE
        | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(srv->http, MAX_HEADERS_BYTES);
    evhttp_set_max_body_size(srv->http, MAX_BODY_BYTES);
    evhttp_set_timeout(srv->http, IO_TIMEOUT_S);
    evhttp_set_gencb(srv->http, on_request, srv);

    bound = evhttp_accept_socket_with_handle(srv->http, listen_fd);
    if (bound == NULL) {
        why = "cannot accept on the listening socket";
        goto out;
    }
    listen_fd = -1; /* evhttp closes it */
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound), on_accept_error);

    if (event_base_dispatch(srv->base) < 0)
        why = "the event loop failed";
    else
        rc = 0;

out:
    server_free(srv);
    if (listen_fd >= 0)
        close(listen_fd);
    if (why != NULL)
        fprintf(stderr, SERVE_PREFIX "%s\n", why);
    return rc;
}

/* "a.b.c.d:port", or "[v6]:port" so that a URL can be made of it. */
static void format_hostport(char *buf, size_t len, const char *addr, int port)
{
    if (strchr(addr, ':') != NULL)
        snprintf(buf, len, "[%s]:%d", addr, port);
    else
        snprintf(buf, len, "%s:%d", addr, port);
}

int server_listen(const char *addr, int port, int *port_out, char *err, size_t errlen)
{
    struct addrinfo hints = { 0 }, *ai = NULL;
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    char service[16], where[128];
    const int one = 1;
    int fd = -1;

    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "port %d is outside 0..65535", port);
        return -1;
    }
    format_hostport(where, sizeof where, addr, port);
    /* Numeric only: a listen address should not depend on DNS. */
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(addr, service, &hints, &ai) != 0 || ai == NULL) {
        snprintf(err, errlen, "cannot listen on '%s': not a numeric IPv4 or IPv6 address",
                 addr);
        goto fail;
    }
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: socket: %s", where, strerror(errno));
        goto fail;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(fd, LISTEN_BACKLOG) != 0
        || getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        goto fail;
    }
    *port_out = bound.ss_family == AF_INET6
        ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
        : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    freeaddrinfo(ai);
    return fd;

fail:
    if (fd >= 0)
        close(fd);
    if (ai != NULL)
        freeaddrinfo(ai);
    return -1;
}

/* Ten thousand held connections need more descriptors than the usual soft
 * limit of 1024; we speak only when the old limit would have got in the way. */
static void raise_fd_limit(void)
{
    unsigned long long was, now;

    int raised = fdlimit_raise(&was, &now) == 1;
    if (now < WANTED_FDS)
        fprintf(stderr, SERVE_PREFIX "the open-file limit is %llu; fewer than 10000 "
                "concurrent requests will fit\n", now);
    else if (raised && was < WANTED_FDS)
        fprintf(stderr, SERVE_PREFIX "raised the open-file limit from %llu to %llu\n", was, now);
}

static const char serve_usage[] =
    "usage: fetchbench serve [--port P] [--bind ADDR] [--capacity K] [--fail-rate P]\n"
    "                        [--fail-first N] [--reset-rate P] [--hang-rate P]\n"
    "                        [--jitter-ms J] [--seed N]\n"
    "\n"
    "Runs the test HTTP server until SIGINT or SIGTERM. Once listening it\n"
    "prints one line, http://ADDR:PORT/, on stdout.\n"
    "\n"
    "  -p, --port P       TCP port, 0 for an ephemeral one (default 8080)\n"
    "  -b, --bind ADDR    numeric IPv4 or IPv6 address (default 127.0.0.1)\n"
    "  -c, --capacity K   serve at most K requests at once; the rest wait\n"
    "                     in arrival order (default: no limit)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Failures to inject into /delay requests. Each request's fate is drawn\n"
    "on arrival from a generator seeded with --seed, so the same arrivals meet\n"
    "the same faults. A failing request queues and takes its delay like any\n"
    "other, holding its slot, then:\n"
    "      --fail-rate P  a fraction P of requests is answered 503\n"
    "      --fail-first N the first N requests of each key are answered 503;\n"
    "                     the key is what follows /url/ (the delay itself when\n"
    "                     there is none)\n"
    "      --reset-rate P the headers and half the body are sent, then the\n"
    "                     connection is closed\n"
    "      --hang-rate P  no answer at all: the request holds its slot until\n"
    "                     the client leaves\n"
    "      --jitter-ms J  each delay drawn uniformly from [delay-J, delay+J]\n"
    "                     (at least 0)\n"
    "      --seed N       the generator's seed (default 1, as the client's)\n"
    "The three rates sum to at most 1; fail-first comes before them. Injected\n"
    "failures carry X-Fault: fail or reset; /stats counts failed, reset and\n"
    "hung (faults carried out; fail-first counts as failed).\n"
    "\n"
    "Endpoints (GET only):\n"
    "  /delay/MS[/url/ANY]  a 1 KiB HTML page, MS milliseconds after the\n"
    "                       request enters service (MS decimal, leading\n"
    "                       zeros and %3N-encoded digits allowed; capped\n"
    "                       at 600000, then with X-Delay-Capped: 1)\n"
    "  /stats[?log=1[&since=US]]\n"
    "                       counters as JSON (requests, completed, abandoned,\n"
    "                       failed, reset, hung, in_service, queued, ...);\n"
    "                       log=1 adds in_service_log,\n"
    "                       [[t_us, in_service, queued], ...] on\n"
    "                       CLOCK_MONOTONIC, at each change of either\n"
    "                       (in_service_log_columns names them):\n"
    "                       the newest 65536 changes, those at or after US;\n"
    "                       in_service_log_truncated says if any was lost\n"
    "\n"
    "Every answer carries X-Queue-Us: the microseconds its request waited for\n"
    "a slot before its delay began (0 when served at once), and echoes the\n"
    "request's X-Queue-For (a token of up to 64 letters, digits, '.', '-', '_').\n"
    "\n"
    "A client that closes its connection gives its place up at once. One\n"
    "that only half-closes (HTTP/1.1) is sent '102 Processing' to tell the\n"
    "two apart, then its answer; an HTTP/1.0 client's FIN counts as gone.\n"
    "\n"
    "Exit codes: 0 stopped by SIGINT/SIGTERM; 1 cannot serve (port in use,\n"
    "bad bind address); 2 bad usage.\n";

static int usage_error_value(const char *flag, const char *expected, const char *got)
{
    fprintf(stderr, SERVE_PREFIX "%s: expected %s, got '%s'\n", flag, expected, got);
    return 2;
}

/* A fraction from 0 to 1 into *out; 0, or 2 after the usage line. */
static int parse_rate(const char *flag, const char *s, double *out)
{
    double v;

    if (parse_double(s, &v) != 0 || !(v >= 0 && v <= 1))
        return usage_error_value(flag, "a fraction from 0 to 1", s);
    *out = v;
    return 0;
}

int server_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "port",     required_argument, NULL, 'p' },
        { "bind",     required_argument, NULL, 'b' },
        { "capacity", required_argument, NULL, 'c' },
        { "help",     no_argument,       NULL, 'h' },
        { "fail-rate",  required_argument, NULL, OPT_FAIL_RATE },
        { "fail-first", required_argument, NULL, OPT_FAIL_FIRST },
        { "reset-rate", required_argument, NULL, OPT_RESET_RATE },
        { "hang-rate",  required_argument, NULL, OPT_HANG_RATE },
        { "jitter-ms",  required_argument, NULL, OPT_JITTER },
        { "seed",       required_argument, NULL, OPT_SEED },
        { NULL, 0, NULL, 0 },
    };
    const char *bind_addr = "127.0.0.1";
    int port = 8080, capacity = 0, bound_port = 0;
    struct fb_faults faults = { .seed = CONFIG_DEFAULT_SEED };
    char err[256], hostport[128];
    uint64_t v;
    int ch, fd;

    /* main may have run getopt already; we print our own one-line errors. */
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":p:b:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            if (parse_int(optarg, 0, 65535, &port) != 0)
                return usage_error_value("--port", "an integer from 0 to 65535", optarg);
            break;
        case 'b':
            bind_addr = optarg;
            break;
        case 'c':
            if (parse_int(optarg, 1, 1000000, &capacity) != 0)
                return usage_error_value("--capacity", "an integer from 1 to 1000000",
                                         optarg);
            break;
        case OPT_FAIL_RATE:
            if (parse_rate("--fail-rate", optarg, &faults.fail_rate) != 0)
                return 2;
            break;
        case OPT_RESET_RATE:
            if (parse_rate("--reset-rate", optarg, &faults.reset_rate) != 0)
                return 2;
            break;
        case OPT_HANG_RATE:
            if (parse_rate("--hang-rate", optarg, &faults.hang_rate) != 0)
                return 2;
            break;
        case OPT_FAIL_FIRST:
            if (parse_u64(optarg, 0, SERVE_MAX_FAIL_FIRST, &v) != 0)
                return usage_error_value("--fail-first", "an integer from 0 to 1000000000", optarg);
            faults.fail_first = (uint32_t)v;
            break;
        case OPT_JITTER:
            if (parse_u64(optarg, 0, DELAYPATH_MAX_MS, &v) != 0)
                return usage_error_value("--jitter-ms", "an integer from 0 to 600000", optarg);
            faults.jitter_ms = (uint32_t)v;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, 0, SERVE_MAX_SEED, &faults.seed) != 0)
                return usage_error_value("--seed", "an integer from 0 to 9007199254740991", optarg);
            break;
        case 'h':
            fputs(serve_usage, stdout);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, SERVE_PREFIX "--help: writing stdout failed: %s\n", strerror(errno));
                return 1;
            }
            return 0;
        case ':':
            fprintf(stderr, SERVE_PREFIX "%s: missing value\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, SERVE_PREFIX "unknown option '-%c'\n", optopt);
            else
                fprintf(stderr, SERVE_PREFIX "unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, SERVE_PREFIX "unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    /* One draw decides a request's fate: the three shares must fit in it. */
    if (faults.fail_rate + faults.reset_rate + faults.hang_rate > 1 + 1e-9) {
        fprintf(stderr, SERVE_PREFIX "--fail-rate, --reset-rate and --hang-rate: their sum %g is above 1\n",
                faults.fail_rate + faults.reset_rate + faults.hang_rate);
        return 2;
    }

    raise_fd_limit();
    fd = server_listen(bind_addr, port, &bound_port, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, SERVE_PREFIX "%s\n", err);
        return 1;
    }
    format_hostport(hostport, sizeof hostport, bind_addr, bound_port);
    printf("http://%s/\n", hostport);
    fflush(stdout);
    return server_run(fd, capacity, &faults, 0) == 0 ? 0 : 1;
}
