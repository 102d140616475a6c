#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strategy.h"
#include "parse.h"
#include "stdfds.h"
#include "redisaddr.h"

#define MAX_TASKS       100000000u
#define MAX_DELAY_MS    600000u
#define MAX_CAPACITY    1000000u
#define MAX_TIMEOUT_MS  86400000u
#define MAX_BODY        (1ull << 32)
#define MAX_CONNECTIONS 1000000u
#define MAX_REPEAT      1000u
#define MAX_WARMUP      1000u
#define MAX_KEYS        10000000u
#define MAX_DURATION_S  3600.0      /* a run's times are 32-bit µs: 71 minutes at most */
#define MAX_RATE        10000000.0
#define MAX_ZIPF        10.0
#define MAX_TTL_MS      3600000u
#define MAX_SEED        9007199254740991ull /* 2^53 - 1: exact in every JSON reader */
#define MAX_BETA        1000.0
#define MAX_FAIL_FIRST  1000000000u

enum { OPT_MAX_BODY = 256, OPT_MAX_CONNECTIONS, OPT_TRACE, OPT_EXPECT, OPT_REPEAT, OPT_PROC_SAMPLE,
       OPT_KEYS, OPT_ZIPF, OPT_RATE, OPT_DURATION, OPT_TTL, OPT_SEED, OPT_BETA, OPT_LOCK_TIMEOUT,
       OPT_LEASE, OPT_RETRY, OPT_FAIL_RATE, OPT_FAIL_FIRST, OPT_RESET_RATE, OPT_HANG_RATE, OPT_JITTER,
       OPT_BACKEND_STATS, OPT_TRACE_TASKS, OPT_WARMUP, OPT_CACERT, OPT_INSECURE,
       OPT_PROCESSES, OPT_RUN_ID, OPT_STORE };

#define RUN_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

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
    {"trace-tasks", required_argument, NULL, OPT_TRACE_TASKS},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"processes", required_argument, NULL, OPT_PROCESSES},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"proc-sample-ms", required_argument, NULL, OPT_PROC_SAMPLE},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"zipf", required_argument, NULL, OPT_ZIPF},
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"ttl-ms", required_argument, NULL, OPT_TTL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"beta", required_argument, NULL, OPT_BETA},
    {"lock-timeout-ms", required_argument, NULL, OPT_LOCK_TIMEOUT},
    {"lease-ms", required_argument, NULL, OPT_LEASE},
    {"retry-ms", required_argument, NULL, OPT_RETRY},
    {"store", required_argument, NULL, OPT_STORE},
    {"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
    {"fail-first", required_argument, NULL, OPT_FAIL_FIRST},
    {"reset-rate", required_argument, NULL, OPT_RESET_RATE},
    {"hang-rate", required_argument, NULL, OPT_HANG_RATE},
    {"jitter-ms", required_argument, NULL, OPT_JITTER},
    {"backend-stats", required_argument, NULL, OPT_BACKEND_STATS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *f)
{
    fprintf(f,
        "Usage: fetchbench [OPTIONS]            run the experiment, write the JSON report\n"
        "       fetchbench SUBCOMMAND [ARGS]\n"
        "\n"
        "N tasks on one event loop fetch slow URLs through a shared cache, each\n"
        "strategy (a lock or none around check-fetch-store) on the same workload;\n"
        "every state, fetch phase and thread is recorded. The JSON goes to stdout\n"
        "when it is a pipe or a file; on a terminal, to a new file\n"
        "fetchbench-YYYYMMDD-HHMMSS.json in the current directory (its name is\n"
        "printed), with the summary on stderr.\n"
        "\n"
        "Subcommands (fetchbench SUBCOMMAND --help for their options):\n"
        "  serve                    the delay server alone, for --url runs and proxies\n"
        "  compare BASE NEW         two reports: counts must match, times within a\n"
        "                           threshold; exit 1 on a regression\n"
        "  report FILE...           the human summary of saved reports (text,\n"
        "                           markdown, csv, jsonl)\n"
        "  merge A.json B.json...   one report from the reports of one experiment\n"
        "                           (one --run-id, the same workload)\n"
        "\n"
        "  -n, --tasks N            tasks (arrivals; default %d)\n"
        "  -m, --mode A[,B...]      strategies, run in turn on the same workload\n"
        "                           (default lock):\n",
        CONFIG_DEFAULT_TASKS);
    int width = 0;
    for (size_t i = 0; i < strategy_count(); i++)
        if ((int)strlen(strategy_at(i)->name) > width)
            width = (int)strlen(strategy_at(i)->name);
    for (size_t i = 0; i < strategy_count(); i++)
        fprintf(f, "                             %-*s %s\n", width, strategy_at(i)->name, strategy_at(i)->help);
    fprintf(f,
        "      --keys K             distinct keys (default 1); the embedded server\n"
        "                           serves key k at /delay/MS/url/k\n"
        "      --zipf S             Zipf-distributed keys with exponent S > 0 (key 0\n"
        "                           hottest; default uniform)\n"
        "      --rate R             Poisson arrivals, R per second (default: all at\n"
        "                           once, like asyncio.gather)\n"
        "      --duration SEC       arrivals for SEC seconds instead of --tasks\n"
        "                           (needs --rate)\n"
        "      --ttl-ms T           cache entries expire T ms after they are stored\n"
        "                           (default: never)\n"
        "      --seed N             the workload's seed (default %d): the same seed,\n"
        "                           the same keys and arrivals\n"
        "\n"
        "Strategy knobs (each read only by the strategies named):\n"
        "      --beta B             xfetch: recompute early when now - delta*B*ln(rand)\n"
        "                           >= expiry (default %g; 0: never early)\n"
        "      --lock-timeout-ms T  stale: a task waits at most T for a key's first\n"
        "                           fill, then fetches without storing (default %d,\n"
        "                           nginx's proxy_cache_lock_timeout)\n"
        "      --lease-ms L         lease: at most one lease per key per L (default %d)\n"
        "      --retry-ms R         lease: a task told to wait asks again after R\n"
        "                           (default %d, the poll of nginx's cache lock)\n"
        "      --store S            the cache and its locks: mem (in-process, default),\n"
        "                           redis (a redis-server of its own on loopback) or\n"
        "                           redis://HOST:PORT[/DB] (shared: rlock's lease is\n"
        "                           --lease-ms)\n"
        "\n"
        "Failures the embedded server injects (seeded by --seed: every run meets\n"
        "the same faults in the same order). A failing request queues and takes\n"
        "its delay like any other, then:\n"
        "      --fail-rate P        a fraction P of requests is answered 503\n"
        "      --fail-first N       the first N requests of each key are answered 503\n"
        "      --reset-rate P       half the body is sent, then the connection dropped\n"
        "      --hang-rate P        no answer at all (the client's --timeout-ms ends it)\n"
        "      --jitter-ms J        each delay drawn uniformly from [delay-J, delay+J]\n",
        CONFIG_DEFAULT_SEED, CONFIG_DEFAULT_BETA, CONFIG_DEFAULT_LOCK_TIMEOUT_MS, CONFIG_DEFAULT_LEASE_MS,
        CONFIG_DEFAULT_RETRY_MS);
    fprintf(f,
        "  -u, --url URL            fetch URL instead of the embedded delay server;\n"
        "                           {key} in it is replaced by the task's key\n"
        "      --backend-stats URL  with --url (a proxy, say): the /stats of the\n"
        "                           fetchbench serve behind it, read before and after\n"
        "                           each run, so the report has the backend's counts\n"
        "      --cacert FILE        for HTTPS targets with their own certificates:\n"
        "                           trust the CAs in FILE (PEM) instead of the system's\n"
        "      --insecure           for HTTPS targets with their own certificates:\n"
        "                           do not verify the server's certificate or name\n"
        "  -d, --delay-ms MS        the embedded server's delay (default %d)\n"
        "  -c, --capacity K         the embedded server serves K at once (default: no limit)\n"
        "  -t, --timeout-ms MS      per-fetch timeout (default %d)\n"
        "      --max-body BYTES     larger responses fail (default %u)\n"
        "      --max-connections C  reuse connections, at most C open (default: a new\n"
        "                           connection and name resolution per fetch)\n"
        "  -o, --output FILE        write the JSON to FILE (- is stdout, even a terminal):\n"
        "                           a regular file (a symlink's target) is replaced\n"
        "                           atomically, a FIFO or device is written through\n"
        "      --trace FILE         also write a Chrome trace (open it in Perfetto)\n"
        "      --trace-tasks N      at most N task tracks per run in it, the rest as\n"
        "                           per-state counters (default %u)\n"
        "      --repeat R           R runs of each mode, interleaved (a b a b); the\n"
        "                           report keeps every run and each mode's\n"
        "                           median/min/max\n"
        "      --warmup W           W runs of each mode first (interleaved like\n"
        "                           --repeat), not recorded in the report\n"
        "      --processes P        P client processes (1 to %d), each its own loop and\n"
        "                           the N tasks with the seed plus its index, against\n"
        "                           one server; one report with every process's runs\n"
        "                           (client 0..P-1) and a fleet summary per run\n"
        "      --run-id ID          the experiment's id ([A-Za-z0-9_.-], at most 64);\n"
        "                           invocations with one id merge (fetchbench merge);\n"
        "                           default: made from the time and the process id\n"
        "      --expect EXPR        a gate, repeatable: [MODE:]METRIC OP VALUE with OP\n"
        "                           one of == != <= >= < >, e.g. upstream_requests==1,\n"
        "                           'lock: p99_ms < 6000', errors==0; judged for each\n"
        "                           mode (or MODE) on the median of its runs (with\n"
        "                           --processes, of its fleet summaries); a\n"
        "                           line each on stderr: held or failed\n"
        "      --proc-sample-ms MS  also sample the thread count from /proc every MS\n"
        "                           (a cross-check of the exact record; 0 = off;\n"
        "                           default %d)\n"
        "  -q, --quiet              no summary, progress, hints or expectation lines\n"
        "                           on stderr (failed expectations are still listed)\n"
        "  -h, --help               this help\n"
        "  -V, --version            the version\n"
        "\n"
        "Exit codes: 0 every task succeeded and every --expect held; 1 the run\n"
        "failed or some tasks failed (the JSON is still written); 2 bad usage;\n"
        "3 an --expect did not hold (listed on stderr, verdicts in the JSON);\n"
        "130/143 interrupted by SIGINT/SIGTERM (the JSON says \"interrupted\": true).\n"
        "Metrics: wall_us wall_ms wall_s tasks upstream_requests server_requests\n"
        "cache_hits cache_misses errors errors.STAGE peak_threads threads_created\n"
        "threads_failed peak_connections stampede_max waiters p50_ms p90_ms p99_ms\n"
        "p99_9_ms max_ms mean_ms (and _us), waiter_p50_ms .. waiter_mean_ms (the\n"
        "tasks that waited for another), wait_ms wait_ms.STATE outcomes.OUTCOME\n"
        "counters.COUNTER.\n",
        CONFIG_DEFAULT_DELAY_MS, CONFIG_DEFAULT_TIMEOUT_MS, CONFIG_DEFAULT_MAX_BODY, CONFIG_DEFAULT_TRACE_TASKS,
        CONFIG_MAX_PROCESSES, CONFIG_DEFAULT_PROC_SAMPLE_MS);
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

/* After printing what was asked for on stdout (errno cleared before it):
 * was it written? Returns the exit code; a write error (a full disk, a
 * closed stdout) is one line and 1, as for the report. A text longer than
 * stdio's buffer fails while it is printed, so the cause may be in errno
 * already, before the final flush. */
static int stdout_done(const char *what)
{
    int failed = 0, saved = 0, earlier = errno;

    errno = 0;
    if (stdfds_closed(STDOUT_FILENO)) {
        failed = 1;
        saved = EBADF; /* it went to the /dev/null that stdfds_guard put there */
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        failed = 1;
        saved = errno ? errno : earlier ? earlier : EIO;
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

/* A positive finite number up to max. */
static int number_real(const char *flag, const char *s, double max, double *out)
{
    double v;
    if (parse_double(s, &v) < 0 || !(v > 0) || v > max)
        return usage_error("%s: expected a number above 0 and at most %g, got '%s'", flag, max, s);
    *out = v;
    return 0;
}

/* A fraction from 0 to 1. */
static int number_prob(const char *flag, const char *s, double *out)
{
    double v;
    if (parse_double(s, &v) < 0 || !(v >= 0 && v <= 1))
        return usage_error("%s: expected a fraction from 0 to 1, got '%s'", flag, s);
    *out = v;
    return 0;
}

/* "a,b,c": known strategies, each once. */
static int parse_modes(const char *list, struct fb_config *cfg)
{
    const char *p = list;

    cfg->nmodes = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        char name[64];
        if (n == 0 || n >= sizeof(name))
            return usage_error("--mode: expected a comma-separated list of %s, got '%s'", strategy_names(),
                               list);
        memcpy(name, p, n);
        name[n] = '\0';
        const struct fb_strategy *s = strategy_find(name);
        if (s == NULL)
            return usage_error("--mode: unknown mode '%s' (expected %s)", name, strategy_names());
        for (size_t i = 0; i < cfg->nmodes; i++)
            if (cfg->modes[i] == s)
                return usage_error("--mode: '%s' given twice in '%s'", name, list);
        if (cfg->nmodes == CONFIG_MAX_MODES)
            return usage_error("--mode: at most %d modes", CONFIG_MAX_MODES);
        cfg->modes[cfg->nmodes++] = s;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int cli_parse(int argc, char **argv, struct fb_config *cfg, int *exit_code)
{
    int delay_given = 0, capacity_given = 0, tasks_given = 0, c, rc = 0;
    const char *fault_flag = NULL;
    uint64_t v;

    memset(cfg, 0, sizeof(*cfg));
    cfg->tasks = CONFIG_DEFAULT_TASKS;
    cfg->seed = CONFIG_DEFAULT_SEED;
    cfg->keys = 1;
    cfg->delay_ms = CONFIG_DEFAULT_DELAY_MS;
    cfg->timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
    cfg->max_body = CONFIG_DEFAULT_MAX_BODY;
    cfg->repeat = 1;
    cfg->trace_tasks = CONFIG_DEFAULT_TRACE_TASKS;
    cfg->processes = 1;
    cfg->proc_sample_ms = CONFIG_DEFAULT_PROC_SAMPLE_MS;
    cfg->params.beta = CONFIG_DEFAULT_BETA;
    cfg->params.lock_timeout_us = CONFIG_DEFAULT_LOCK_TIMEOUT_MS * 1000u;
    cfg->params.lease_us = CONFIG_DEFAULT_LEASE_MS * 1000u;
    cfg->params.retry_us = CONFIG_DEFAULT_RETRY_MS * 1000u;
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
            tasks_given = 1;
            break;
        case 'm':
            rc = parse_modes(optarg, cfg);
            break;
        case OPT_KEYS:
            rc = number_u32("--keys", optarg, 1, MAX_KEYS, &cfg->keys);
            break;
        case OPT_ZIPF:
            rc = number_real("--zipf", optarg, MAX_ZIPF, &cfg->zipf);
            break;
        case OPT_RATE:
            rc = number_real("--rate", optarg, MAX_RATE, &cfg->rate);
            break;
        case OPT_DURATION: {
            double secs = 0;
            rc = number_real("--duration", optarg, MAX_DURATION_S, &secs);
            cfg->duration_ms = (uint32_t)(secs * 1000 + 0.5);
            if (rc == 0 && cfg->duration_ms == 0)
                rc = usage_error("--duration: at least 0.001 s, got '%s'", optarg);
            break;
        }
        case OPT_TTL:
            rc = number_u32("--ttl-ms", optarg, 1, MAX_TTL_MS, &cfg->ttl_ms);
            break;
        case OPT_SEED:
            if (parse_u64(optarg, 0, MAX_SEED, &cfg->seed) < 0)
                rc = usage_error("--seed: expected an integer from 0 to %" PRIu64 ", got '%s'", (uint64_t)MAX_SEED,
                                 optarg);
            break;
        case OPT_BETA:
            if (parse_double(optarg, &cfg->params.beta) < 0 || !(cfg->params.beta >= 0 && cfg->params.beta <= MAX_BETA))
                rc = usage_error("--beta: expected a number from 0 to %g, got '%s'", MAX_BETA, optarg);
            break;
        case OPT_LOCK_TIMEOUT:
        case OPT_LEASE:
        case OPT_RETRY: {
            /* µs in 32 bits, like every time in a run: at most 71 minutes. */
            uint32_t ms = 0;
            const char *flag = c == OPT_LOCK_TIMEOUT ? "--lock-timeout-ms" : c == OPT_LEASE ? "--lease-ms" : "--retry-ms";
            rc = number_u32(flag, optarg, 1, MAX_TTL_MS, &ms);
            *(c == OPT_LOCK_TIMEOUT ? &cfg->params.lock_timeout_us
              : c == OPT_LEASE      ? &cfg->params.lease_us
                                    : &cfg->params.retry_us) = ms * 1000u;
            break;
        }
        case OPT_FAIL_RATE:
            rc = number_prob("--fail-rate", optarg, &cfg->faults.fail_rate);
            fault_flag = "--fail-rate";
            break;
        case OPT_RESET_RATE:
            rc = number_prob("--reset-rate", optarg, &cfg->faults.reset_rate);
            fault_flag = "--reset-rate";
            break;
        case OPT_HANG_RATE:
            rc = number_prob("--hang-rate", optarg, &cfg->faults.hang_rate);
            fault_flag = "--hang-rate";
            break;
        case OPT_FAIL_FIRST:
            rc = number_u32("--fail-first", optarg, 0, MAX_FAIL_FIRST, &cfg->faults.fail_first);
            fault_flag = "--fail-first";
            break;
        case OPT_JITTER:
            rc = number_u32("--jitter-ms", optarg, 0, MAX_DELAY_MS, &cfg->faults.jitter_ms);
            fault_flag = "--jitter-ms";
            break;
        case OPT_BACKEND_STATS:
            cfg->backend_stats = optarg;
            break;
        case OPT_STORE: {
            struct fb_redis_addr addr;
            char why[300];
            cfg->store = optarg;
            if (strcmp(optarg, "mem") != 0 && strcmp(optarg, "redis") != 0
                && redis_addr_parse(optarg, &addr, why, sizeof(why)) < 0)
                rc = usage_error("%s", why);
            break;
        }
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
        case OPT_TRACE_TASKS:
            rc = number_u32("--trace-tasks", optarg, 1, MAX_TASKS, &cfg->trace_tasks);
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
        case OPT_WARMUP:
            rc = number_u32("--warmup", optarg, 0, MAX_WARMUP, &cfg->warmup);
            break;
        case OPT_CACERT:
            /* Now, not at the first handshake: a typo costs no run. */
            if (*optarg == '\0' || access(optarg, R_OK) != 0)
                rc = usage_error("--cacert: cannot read '%s': %s", optarg,
                                 *optarg ? strerror(errno) : "empty file name");
            cfg->cacert = optarg;
            break;
        case OPT_INSECURE:
            cfg->insecure = 1;
            break;
        case OPT_PROCESSES:
            rc = number_u32("--processes", optarg, 1, CONFIG_MAX_PROCESSES, &cfg->processes);
            break;
        case OPT_RUN_ID:
            /* It prefixes shared keys and names files: a closed alphabet. */
            if (*optarg == '\0' || strlen(optarg) > CONFIG_RUN_ID_MAX
                || strspn(optarg, RUN_ID_CHARS) != strlen(optarg))
                rc = usage_error("--run-id: expected 1 to %d of A-Z a-z 0-9 _ . -, got '%s'", CONFIG_RUN_ID_MAX,
                                 optarg);
            cfg->run_id = optarg;
            break;
        case 'q':
            cfg->quiet = 1;
            break;
        case 'h':
            errno = 0;
            cli_usage(stdout);
            *exit_code = stdout_done("--help");
            return -1;
        case 'V':
            errno = 0;
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
    if (cfg->duration_ms && cfg->rate == 0)
        return usage_error("--duration: needs --rate (arrivals per second)");
    if (cfg->duration_ms && tasks_given)
        return usage_error("--duration: not with --tasks (the duration decides how many tasks arrive)");
    if (cfg->nmodes == 0)
        cfg->modes[cfg->nmodes++] = strategy_find("lock");
    for (size_t i = 0; i < cfg->nexpects; i++) {
        const char *m = cfg->expects[i].mode;
        int known = m[0] == '\0';
        for (size_t k = 0; k < cfg->nmodes && !known; k++)
            known = strcmp(cfg->modes[k]->name, m) == 0;
        if (!known)
            return usage_error("--expect: '%s' names mode '%s', which this invocation does not run",
                               cfg->expects[i].text, m);
    }
    if (cfg->url && (delay_given || capacity_given || fault_flag))
        return usage_error("%s: configures the embedded server; it cannot be used with --url",
                           delay_given ? "--delay-ms" : capacity_given ? "--capacity" : fault_flag);
    if (cfg->backend_stats && !cfg->url)
        return usage_error("--backend-stats: for --url targets (the embedded server is asked already)");
    /* One draw decides a request's fate: the three shares must fit in it. */
    if (cfg->faults.fail_rate + cfg->faults.reset_rate + cfg->faults.hang_rate > 1 + 1e-9)
        return usage_error("--fail-rate, --reset-rate and --hang-rate: their sum %g is above 1",
                           cfg->faults.fail_rate + cfg->faults.reset_rate + cfg->faults.hang_rate);
    cfg->faults.seed = cfg->seed;
    if (cfg->processes > 1 && cfg->trace)
        return usage_error("--trace: one process's view; not with --processes above 1");
    if (cfg->run_id == NULL) {
        /* Unique per invocation on a host: the time and our pid. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(cfg->run_id_own, sizeof(cfg->run_id_own), "%lld-%ld", (long long)ts.tv_sec, (long)getpid());
        cfg->run_id = cfg->run_id_own;
    }
    if (cfg->insecure && !cfg->quiet)
        fputs("fetchbench: --insecure: HTTPS certificates and host names are not verified\n", stderr);
    cfg->progress = !cfg->quiet && isatty(STDERR_FILENO);
    *exit_code = EXIT_OK;
    return 0;
}

void config_free(struct fb_config *cfg)
{
    free(cfg->expects);
    cfg->expects = NULL;
}
