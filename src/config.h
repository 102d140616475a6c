#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "expect.h"

struct fb_mode;

/* What the command line asked for; filled by cli_parse, read-only after. */
struct fb_config {
    uint32_t tasks;
    const struct fb_mode *mode;
    const char *url;            /* NULL: start the embedded server */
    uint32_t delay_ms;          /* the embedded server's delay */
    uint32_t capacity;          /* the embedded server's; 0 = unlimited */
    uint32_t timeout_ms;
    uint64_t max_body;
    uint32_t max_connections;   /* 0: a new connection per fetch */
    const char *output;         /* NULL: stdout */
    const char *trace;          /* a Chrome trace file too, or NULL */
    int quiet;
    uint32_t proc_sample_ms;    /* /proc thread-count sampling period; 0 = off */
    int progress;               /* stderr is a terminal and not --quiet */
    uint32_t repeat;            /* runs; the report details the last */
    struct fb_expect *expects;  /* --expect, judged on the median run */
    size_t nexpects;
};

#define CONFIG_DEFAULT_TASKS      20
#define CONFIG_DEFAULT_DELAY_MS   4600
#define CONFIG_DEFAULT_TIMEOUT_MS 60000
#define CONFIG_DEFAULT_MAX_BODY   (16u << 20)
#define CONFIG_DEFAULT_PROC_SAMPLE_MS 10

/* Frees what cli_parse allocated in cfg. */
void config_free(struct fb_config *cfg);

#endif
