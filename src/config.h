#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "expect.h"
#include "faults.h"
#include "strategy.h"

#define CONFIG_MAX_MODES 16
#define CONFIG_MAX_PROCESSES 64
#define CONFIG_RUN_ID_MAX 64

/* What the command line asked for; filled by cli_parse, read-only after. */
struct fb_config {
    uint32_t tasks;             /* arrivals (unless duration_ms) */
    const struct fb_strategy *modes[CONFIG_MAX_MODES]; /* --mode a,b,c: run in this order */
    size_t nmodes;
    /* The workload, shared by every run. */
    uint64_t seed;
    uint32_t keys;
    double zipf;                /* 0 = uniform */
    double rate;                /* arrivals per second; 0 = all at once */
    uint32_t duration_ms;       /* 0 = `tasks` arrivals */
    uint32_t ttl_ms;            /* 0 = entries never expire */
    const char *url;            /* NULL: start the embedded server */
    const char *store;          /* --store: NULL or "mem": in-process; "redis":
                                 * the embedded redis-server; redis://HOST:PORT[/DB] */
    const char *backend_stats;  /* with url: a fetchbench serve's /stats behind it */
    uint32_t delay_ms;          /* the embedded server's delay */
    uint32_t capacity;          /* the embedded server's; 0 = unlimited */
    struct fb_faults faults;    /* the embedded server's; its seed is `seed` */
    struct fb_strategy_params params; /* --beta, --lock-timeout-ms, --lease-ms, --retry-ms */
    uint32_t timeout_ms;
    uint64_t max_body;
    uint32_t max_connections;   /* 0: a new connection per fetch */
    const char *output;         /* NULL: stdout */
    const char *trace;          /* a Chrome trace file too, or NULL */
    uint32_t trace_tasks;       /* task tracks per run in it; the rest as counters */
    int quiet;
    uint32_t proc_sample_ms;    /* /proc thread-count sampling period; 0 = off */
    int progress;               /* stderr is a terminal and not --quiet */
    uint32_t repeat;            /* runs of each mode, interleaved */
    uint32_t warmup;            /* runs of each mode first, not recorded (0..1000) */
    const char *cacert;         /* --cacert: CA bundle for HTTPS targets; NULL = the system's CAs */
    int insecure;               /* --insecure: HTTPS peers are not verified */
    uint32_t processes;         /* --processes: client processes, 1..CONFIG_MAX_PROCESSES */
    const char *run_id;         /* --run-id, or run_id_own */
    char run_id_own[CONFIG_RUN_ID_MAX + 1]; /* the one made per invocation */
    struct fb_expect *expects;  /* --expect, judged per mode on its median run */
    size_t nexpects;
};

#define CONFIG_DEFAULT_TASKS      20
#define CONFIG_DEFAULT_SEED       1
#define CONFIG_DEFAULT_DELAY_MS   4600
#define CONFIG_DEFAULT_TIMEOUT_MS 60000
#define CONFIG_DEFAULT_MAX_BODY   (16u << 20)
#define CONFIG_DEFAULT_PROC_SAMPLE_MS 10
#define CONFIG_DEFAULT_TRACE_TASKS 10000 /* a 100,000-task trace would be 100+ MB */
#define CONFIG_DEFAULT_BETA       1.0     /* the XFetch paper's */
#define CONFIG_DEFAULT_LOCK_TIMEOUT_MS 5000 /* nginx's proxy_cache_lock_timeout */
#define CONFIG_DEFAULT_LEASE_MS   10000   /* the memcache leases paper's */
#define CONFIG_DEFAULT_RETRY_MS   500     /* nginx's cache-lock waiters poll at most this far apart */

/* Frees what cli_parse allocated in cfg. */
void config_free(struct fb_config *cfg);

#endif
