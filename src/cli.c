#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mode.h"
#include "parse.h"
#include "stdfds.h"

#define MAX_TASKS       100000000u
#define MAX_DELAY_MS    600000u
#define MAX_CAPACITY    1000000u
#define MAX_TIMEOUT_MS  86400000u
#define MAX_BODY        (1ull << 32)
#define MAX_CONNECTIONS 1000000u
#define MAX_REPEAT      1000u

enum { OPT_MAX_BODY = 256, OPT_MAX_CONNECTIONS, OPT_TRACE, OPT_EXPECT, OPT_REPEAT, OPT_PROC_SAMPLE };

static const struct option longopts[] = {
    {"tasks", required_argument, NULL, 'n'},
    {"mode", required_argument, NULL, 'm'},
    {"url", required_argument, NULL, 'u'},
    {"delay-ms", required_argument, NULL, 'd'},
    {"capacity", required_argument, NULL, 'c'},
    {"timeout-ms", required_argument, NULL, 't'},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"output", required_argument, NULL, 'o'},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"proc-sample-ms", required_argument, NULL, OPT_PROC_SAMPLE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *f)
{
    fprintf(f,
        "Usage: fetchbench [OPTIONS]            run the experiment, JSON on stdout\n"
        "       fetchbench serve [--port P] [--bind ADDR] [--capacity K]\n"
        "       fetchbench compare BASE.json NEW.json [--threshold PCT] [--counts-only]\n"
        "\n"
        "N tasks on one event loop fetch the same slow URL through a shared cache,\n"
        "with or without a lock around check-fetch-store; every state, fetch phase\n"
        "and thread is recorded.\n"
        "\n"
        "  -n, --tasks N            tasks spawned at once (default %d)\n"
        "  -m, --mode MODE          %s (default lock):\n",
        CONFIG_DEFAULT_TASKS, mode_names());
    for (int i = 0; fb_modes[i]; i++)
        fprintf(f, "                             %-7s %s\n", fb_modes[i]->name, fb_modes[i]->help);
    fprintf(f,
        "  -u, --url URL            fetch URL instead of the embedded delay server\n"
        "  -d, --delay-ms MS        the embedded server's delay (default %d)\n"
        "  -c, --capacity K         the embedded server serves K at once (default: no limit)\n"
        "  -t, --timeout-ms MS      per-fetch timeout (default %d)\n"
        "      --max-body BYTES     larger responses fail (default %u)\n"
        "      --max-connections C  reuse connections, at most C open (default: a new\n"
        "                           connection and name resolution per fetch)\n"
        "  -o, --output FILE        write the JSON to FILE instead of stdout (- is stdout):\n"
        "                           a regular file (a symlink's target) is replaced\n"
        "                           atomically, a FIFO or device is written through\n"
        "      --trace FILE         also write a Chrome trace (open it in Perfetto)\n"
        "      --repeat R           R runs; the report keeps every run's summary and\n"
        "                           their median/min/max, and details the last run\n"
        "      --expect EXPR        a gate, repeatable: METRIC OP VALUE with OP one of\n"
        "                           == != <= >= < >, e.g. upstream_requests==1,\n"
        "                           wall_ms<6000, peak_threads<=2, errors==0; judged\n"
        "                           on the median of --repeat runs\n"
        "      --proc-sample-ms MS  also sample the thread count from /proc every MS\n"
        "                           (a cross-check of the exact record; 0 = off;\n"
        "                           default %d)\n"
        "  -q, --quiet              no summary or progress on stderr\n"
        "  -h, --help               this help\n"
        "  -V, --version            the version\n"
        "\n"
        "Exit codes: 0 every task succeeded and every --expect held; 1 the run\n"
        "failed or some tasks failed (the JSON is still written); 2 bad usage;\n"
        "3 an --expect did not hold (listed on stderr, verdicts in the JSON);\n"
        "130/143 interrupted by SIGINT/SIGTERM (the JSON says \"interrupted\": true).\n"
        "Metrics: wall_us wall_ms wall_s upstream_requests server_requests cache_hits\n"
        "cache_misses errors peak_threads threads_created peak_connections.\n",
        CONFIG_DEFAULT_DELAY_MS, CONFIG_DEFAULT_TIMEOUT_MS, CONFIG_DEFAULT_MAX_BODY,
        CONFIG_DEFAULT_PROC_SAMPLE_MS);
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("fetchbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    return -1;
}

/* After printing what was asked for on stdout: was it written? Returns the
 * exit code; a write error (a full disk, a closed stdout) is one line and 1,
 * as for the report. */
static int stdout_done(const char *what)
{
    int failed = 0, saved = 0;

    errno = 0;
    if (stdfds_closed(STDOUT_FILENO)) {
        failed = 1;
        saved = EBADF; /* it went to the /dev/null that stdfds_guard put there */
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        failed = 1;
        saved = errno ? errno : EIO;
    }
    if (failed)
        fprintf(stderr, "fetchbench: %s: writing stdout failed: %s\n", what, strerror(saved));
    return failed ? EXIT_RUN_FAILED : EXIT_OK;
}

static int number_u32(const char *flag, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, min, max, &v) < 0)
        return usage_error("%s: expected an integer from %" PRIu32 " to %" PRIu32 ", got '%s'", flag,
                           min, max, s);
    *out = (uint32_t)v;
    return 0;
}

int cli_parse(int argc, char **argv, struct fb_config *cfg, int *exit_code)
{
    int delay_given = 0, capacity_given = 0, c, rc = 0;
    uint64_t v;

    memset(cfg, 0, sizeof(*cfg));
    cfg->tasks = CONFIG_DEFAULT_TASKS;
    cfg->mode = mode_find("lock");
    cfg->delay_ms = CONFIG_DEFAULT_DELAY_MS;
    cfg->timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
    cfg->max_body = CONFIG_DEFAULT_MAX_BODY;
    cfg->repeat = 1;
    cfg->proc_sample_ms = CONFIG_DEFAULT_PROC_SAMPLE_MS;
    *exit_code = EXIT_USAGE;
    /* At most one expectation per argument; freed by config_free. */
    cfg->expects = calloc((size_t)argc, sizeof(*cfg->expects));
    if (cfg->expects == NULL) {
        fputs("fetchbench: out of memory\n", stderr);
        *exit_code = EXIT_RUN_FAILED;
        return -1;
    }

    opterr = 0; /* our messages, naming the flag */
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, ":n:m:u:d:c:t:o:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            rc = number_u32("--tasks", optarg, 1, MAX_TASKS, &cfg->tasks);
            break;
        case 'm':
            cfg->mode = mode_find(optarg);
            if (cfg->mode == NULL)
                rc = usage_error("--mode: unknown mode '%s' (expected %s)", optarg, mode_names());
            break;
        case 'u':
            cfg->url = optarg;
            break;
        case 'd':
            rc = number_u32("--delay-ms", optarg, 0, MAX_DELAY_MS, &cfg->delay_ms);
            delay_given = 1;
            break;
        case 'c':
            rc = number_u32("--capacity", optarg, 1, MAX_CAPACITY, &cfg->capacity);
            capacity_given = 1;
            break;
        case 't':
            rc = number_u32("--timeout-ms", optarg, 1, MAX_TIMEOUT_MS, &cfg->timeout_ms);
            break;
        case OPT_MAX_BODY:
            if (parse_u64(optarg, 1, MAX_BODY, &v) < 0)
                rc = usage_error("--max-body: expected an integer from 1 to %llu, got '%s'", MAX_BODY,
                                 optarg);
            cfg->max_body = v;
            break;
        case OPT_MAX_CONNECTIONS:
            rc = number_u32("--max-connections", optarg, 1, MAX_CONNECTIONS, &cfg->max_connections);
            break;
        case 'o':
            if (*optarg == '\0')
                rc = usage_error("--output: empty file name");
            cfg->output = optarg;
            break;
        case OPT_TRACE:
            if (*optarg == '\0')
                rc = usage_error("--trace: empty file name");
            cfg->trace = optarg;
            break;
        case OPT_EXPECT: {
            char err[256];
            if (expect_parse(optarg, &cfg->expects[cfg->nexpects], err, sizeof(err)) < 0)
                rc = usage_error("%s", err);
            else
                cfg->nexpects++;
            break;
        }
        case OPT_PROC_SAMPLE:
            rc = number_u32("--proc-sample-ms", optarg, 0, 60000, &cfg->proc_sample_ms);
            break;
        case OPT_REPEAT:
            rc = number_u32("--repeat", optarg, 1, MAX_REPEAT, &cfg->repeat);
            break;
        case 'q':
            cfg->quiet = 1;
            break;
        case 'h':
            cli_usage(stdout);
            *exit_code = stdout_done("--help");
            return -1;
        case 'V':
            printf("fetchbench %s\n", FB_VERSION);
            *exit_code = stdout_done("--version");
            return -1;
        case ':':
            rc = usage_error("%s: missing value", argv[optind - 1]);
            break;
        default:
            if (optopt && optopt < 256)
                rc = usage_error("unknown option '-%c'", optopt);
            else
                rc = usage_error("unknown option '%s'", argv[optind - 1]);
            break;
        }
    }
    if (rc < 0)
        return -1;
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (cfg->url && (delay_given || capacity_given))
        return usage_error("%s: configures the embedded server; it cannot be used with --url",
                           delay_given ? "--delay-ms" : "--capacity");
    cfg->progress = !cfg->quiet && isatty(STDERR_FILENO);
    *exit_code = EXIT_OK;
    return 0;
}

void config_free(struct fb_config *cfg)
{
    free(cfg->expects);
    cfg->expects = NULL;
}
