#ifndef FB_TARGET_H
#define FB_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the tasks fetch: a URL the user named, or the embedded delay server
 * started in a child process (its own threads and CPU are then not the
 * client's). */
struct fb_target {
    char url[2048];             /* what is fetched: may hold credentials */
    char shown_url[2048];       /* what every output shows: credentials as *** */
    char host[256];             /* the name the client connects to */
    int host_resolved;          /* does that name go through the resolver? */
    int embedded;
    pid_t child;                /* the embedded server, or 0 */
    char control_url[2048];     /* the server's /stats: the embedded one's by
                                 * numeric address, or --backend-stats */
    int remote_stats;           /* control_url is --backend-stats: a server that
                                 * outlives the run, its counts taken as deltas */
    char shown_stats[2048];     /* --backend-stats as outputs show it */
    uint64_t base_requests, base_failed, base_reset, base_hung; /* before the run */
    const char *cacert;         /* HTTPS /stats: as the transfers' (xfer.h) */
    int insecure;
};

/* The embedded server's /stats. */
struct fb_server_stats {
    int valid;
    uint64_t requests, in_service, max_in_service, queued, max_queued;
    int64_t (*log)[3];          /* [monotonic µs, in service, queued] at each
                                 * change of either; caller frees */
    size_t nlog;
    int log_queued;             /* the log has the queued column (a server of
                                 * an older build sends two) */
    int log_truncated;          /* the server's ring lost part of this run's log */
    uint64_t failed, reset, hung;   /* faults it injected (faults.h) */
};

struct fb_faults;

/* Starts `fetchbench serve` in a child on an ephemeral loopback port and
 * waits until it answers. Call before any thread exists. Returns 0, or -1
 * with a one-line reason in err. */
int target_start_embedded(struct fb_target *t, uint32_t delay_ms, uint32_t capacity,
                          const struct fb_faults *faults, char *err, size_t errlen);
/* Checks url (http or https, with a host) and fills t. Returns 0, or -1 with
 * a reason in err. */
int target_from_url(struct fb_target *t, const char *url, char *err, size_t errlen);
/* --backend-stats URL: the /stats of a `fetchbench serve` behind t (a
 * proxy's backend), read before and after each run. Checks the URL: 0, or
 * -1 with a reason in err (a usage error). */
int target_use_backend_stats(struct fb_target *t, const char *url, char *err, size_t errlen);
/* Reads the backend's counts before a run: 0, or -1 with a one-line reason
 * in err when no fetchbench serve answers there (then the run has no
 * server counts). */
int target_stats_baseline(struct fb_target *t, char *err, size_t errlen);
/* Reads the server's /stats (the embedded one's, or the backend's after
 * target_stats_baseline: this run's deltas), with its in-service log from
 * since_us (absolute monotonic µs; the same host's clock) on; s->valid says
 * whether it answered. */
void target_server_stats(const struct fb_target *t, uint64_t since_us, struct fb_server_stats *s);
/* Stops the child, if any (its stop signal, then SIGKILL after 2 s). */
void target_stop(struct fb_target *t);

#endif
