#ifndef FB_XFER_H
#define FB_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "runq.h"
#include "timeline.h"

/* HTTP fetches through libcurl's multi_socket interface, driven by the run's
 * libevent loop. This file is the only one that talks to both libraries. */

struct event_base;
struct event;

struct fb_xfer_opts {
    long timeout_ms;
    size_t max_body;            /* larger bodies fail with STAGE_BODY_TOO_LARGE */
    int reuse_connections;      /* 0: every fetch is a new client session: new
                                 * connection, new name resolution */
    unsigned max_inflight;      /* transfers in libcurl at once; the rest wait
                                 * in FIFO order (0 = no limit) */
    const char *cacert;         /* HTTPS: trust only this PEM bundle; NULL = the system's */
    int insecure;               /* HTTPS: verify neither certificate nor name */
};

struct fb_xfer_result {
    int ok;
    enum fb_stage stage;        /* when !ok */
    long http_status;           /* 0 when no response arrived */
    const char *message;        /* one line, valid during the callback */
    char *body;                 /* malloc'd; the callback may take it (set NULL) */
    size_t len;
    uint32_t phase_us[PHASE_COUNT]; /* offsets from start_us, monotonic, 0 = not reached */
    uint64_t start_us;          /* absolute: where libcurl's clock for the transfer
                                 * started; 0 = libcurl never ran it */
};

/* Called once per fetch, from the loop (never from inside fetcher_start). */
typedef void fb_xfer_done_fn(void *ctx, struct fb_node *owner, struct fb_xfer_result *r);
/* Called when a fetch is handed to libcurl: a request upstream (a fetch
 * still waiting for a slot when the run is cut short never is). */
typedef void fb_xfer_sent_fn(void *ctx, struct fb_node *owner);

struct fb_transfer;
struct fb_sock;

struct fb_xfer {
    struct event_base *base;
    void *multi;                /* CURLM * */
    struct event *timer;
    struct fb_xfer_opts opts;
    fb_xfer_done_fn *done;
    fb_xfer_sent_fn *sent;      /* or NULL */
    void *ctx;
    struct fb_queue waiting;    /* transfers not yet handed to libcurl */
    struct fb_transfer *active; /* in libcurl, doubly linked */
    struct fb_transfer *unstarted; /* added to libcurl since its last call */
    struct fb_sock *socks;      /* sockets libcurl asked us to watch */
    unsigned inflight;
    uint64_t started;           /* requests made upstream */
    uint64_t waited;            /* fetches that waited for a slot first */
    uint64_t nonce;             /* names this client's requests to the server */
    unsigned open_connections, peak_connections;
    uint64_t connections_opened;
};

/* Sets up the multi handle on base. Returns 0, or -1 (out of memory). */
int xfer_init(struct fb_xfer *x, struct event_base *base, const struct fb_xfer_opts *opts,
              fb_xfer_done_fn *done, void *ctx);
/* Fetches url (borrowed: it must outlive the fetch) for owner; done is
 * called later. Returns 0, or -1 when the fetch could not even be set up. */
int xfer_fetch(struct fb_xfer *x, const char *url, struct fb_node *owner);
/* Ends every unfinished fetch now (an interrupted run), calling cb instead
 * of the done callback with how far each got: its phases so far, ok = 0,
 * stage STAGE_OTHER and message "cancelled". */
void xfer_abort_all(struct fb_xfer *x, fb_xfer_done_fn *cb, void *ctx);
/* Abandons unfinished fetches without calling done, then frees everything,
 * in the order libcurl documents. Call before event_base_free. */
void xfer_cleanup(struct fb_xfer *x);

#endif
