#include "compare.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"
#include "parse.h"
#include "summary.h"

#define MAX_REPORT_BYTES (4ull << 30)
#define MAX_RUNS         1000
#define DEFAULT_THRESHOLD_PCT 10.0
#define ALPHA            0.05

/* One side of the comparison: its runs' summaries and what says whether
 * they are comparable at all. */
struct side {
    const char *path;
    struct fb_summary runs[MAX_RUNS];
    size_t n;
    cJSON *config;              /* the report's "config", or NULL; owned */
    int interrupted;
};

/* Reads the report at path into s. Returns 0, or -1 after printing one line
 * naming the file. An interrupted report is refused unless allow_interrupted
 * (then a warning is printed and s->interrupted set). */
static int load_side(struct side *s, const char *path, int allow_interrupted)
{
    char err[256];
    size_t len;

    s->path = path;
    s->n = 0;
    s->config = NULL;
    s->interrupted = 0;
    char *text = jsonread_report_file(path, MAX_REPORT_BYTES, &len, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "fetchbench compare: %s: %s\n", path, err);
        return -1;
    }
    cJSON *doc = jsonread_report(text, len, err, sizeof(err));
    free(text);
    if (doc == NULL) {
        fprintf(stderr, "fetchbench compare: %s: %s\n", path, err);
        return -1;
    }
    int rc = -1;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "fetchbench/1") != 0) {
        /* The file's own text, so cut short and kept on one line. */
        snprintf(err, sizeof(err), "%s", cJSON_IsString(schema) ? schema->valuestring : "missing");
        jsonread_one_line(err);
        fprintf(stderr, "fetchbench compare: %s: not a fetchbench/1 report (schema: %.64s)\n", path, err);
        goto out;
    }
    /* Anywhere among the members: the writer puts it last, so that a signal
     * arriving while the report is written still marks it. Missing (a report
     * cut short has no end to parse anyway) means not interrupted. */
    const cJSON *interrupted = cJSON_GetObjectItemCaseSensitive(doc, "interrupted");
    if (interrupted && !cJSON_IsBool(interrupted)) {
        fprintf(stderr, "fetchbench compare: %s: interrupted: not true or false\n", path);
        goto out;
    }
    if (cJSON_IsTrue(interrupted)) {
        if (!allow_interrupted) {
            fprintf(stderr, "fetchbench compare: %s: an interrupted run, its numbers cover part of "
                            "the workload (--allow-interrupted compares it anyway)\n", path);
            goto out;
        }
        fprintf(stderr, "fetchbench compare: WARNING: %s: an interrupted run, its numbers cover part "
                        "of the workload; compared anyway (--allow-interrupted)\n", path);
        s->interrupted = 1;
    }
    const cJSON *repeats = cJSON_GetObjectItemCaseSensitive(doc, "repeats");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(repeats, "runs");
    if (cJSON_IsArray(runs) && cJSON_GetArraySize(runs) > 0) {
        const cJSON *run;
        cJSON_ArrayForEach(run, runs) {
            if (s->n == MAX_RUNS) {
                fprintf(stderr, "fetchbench compare: %s: more than %d runs\n", path, MAX_RUNS);
                goto out;
            }
            if (summary_from_json(run, &s->runs[s->n], err, sizeof(err)) < 0) {
                fprintf(stderr, "fetchbench compare: %s: repeats.runs[%zu].%s\n", path, s->n, err);
                goto out;
            }
            s->n++;
        }
    } else {
        if (summary_from_json(cJSON_GetObjectItemCaseSensitive(doc, "summary"), &s->runs[0], err,
                              sizeof(err)) < 0) {
            fprintf(stderr, "fetchbench compare: %s: %s\n", path, err);
            goto out;
        }
        s->n = 1;
    }
    /* --repeat runs share one config: the top-level one describes them all. */
    s->config = cJSON_DetachItemFromObjectCaseSensitive(doc, "config");
    rc = 0;
out:
    cJSON_Delete(doc);
    return rc;
}

/* The keys that make two runs the same experiment. */
static const char *const workload_keys[] = {"tasks", "mode", "delay_ms", "capacity", "url",
                                            "max_connections", NULL};

size_t compare_workloads(const cJSON *base, const cJSON *cur, FILE *out, const char *prefix)
{
    size_t n = 0;
    /* The embedded server listens on an ephemeral port, so its URLs differ
     * from run to run; delay_ms and capacity say what it served. */
    int both_embedded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(base, "embedded_server"))
                        && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cur, "embedded_server"));

    for (int i = 0; workload_keys[i]; i++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(base, workload_keys[i]);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(cur, workload_keys[i]);
        /* Missing from an older report: unknown, which is no difference. */
        if (b == NULL || c == NULL || cJSON_Compare(b, c, 1))
            continue;
        if (strcmp(workload_keys[i], "url") == 0 && both_embedded)
            continue;
        /* Printed as JSON: a string from the file cannot break the line. */
        char *bs = cJSON_PrintUnformatted(b), *cs = cJSON_PrintUnformatted(c);
        fprintf(out, "%sworkloads differ: config.%s %s vs %s\n", prefix, workload_keys[i],
                bs ? bs : "?", cs ? cs : "?");
        free(bs);
        free(cs);
        n++;
    }
    return n;
}

/* Flushes stdout: 0, or -1 after one line on stderr saying why the output is
 * incomplete (a closed pipe, a full disk: SIGPIPE is ignored by main). */
static int finish_output(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "fetchbench compare: writing the output failed: %s\n",
            errno ? strerror(errno) : "write error");
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of ways to place ranks so that the U statistic of a sample of size
 * m against n equals u: the standard recurrence, memoised on the heap. */
static double exact_upper_tail(size_t m, size_t n, double u_obs)
{
    size_t umax = m * n;
    /* f[i][j][u] over i <= m, j <= n; rolling over j is enough here. */
    double *prev = calloc((m + 1) * (umax + 1), sizeof(double));
    double *cur = calloc((m + 1) * (umax + 1), sizeof(double));
    double p = NAN;

    if (prev == NULL || cur == NULL)
        goto out;
#define F(t, i, u) (t)[(i) * (umax + 1) + (u)]
    /* j = 0: only U = 0, one way. */
    for (size_t i = 0; i <= m; i++)
        F(prev, i, 0) = 1;
    for (size_t j = 1; j <= n; j++) {
        memset(cur, 0, (m + 1) * (umax + 1) * sizeof(double));
        F(cur, 0, 0) = 1;
        for (size_t i = 1; i <= m; i++)
            for (size_t u = 0; u <= i * j; u++) {
                /* The largest value is from the first sample (adds j to U)
                 * or from the second (adds nothing). */
                double v = F(prev, i, u);
                if (u >= j)
                    v += F(cur, i - 1, u - j);
                F(cur, i, u) = v;
            }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double total = 0, tail = 0;
    for (size_t u = 0; u <= umax; u++) {
        total += F(prev, m, u);
        if ((double)u >= u_obs - 1e-9)
            tail += F(prev, m, u);
    }
#undef F
    p = tail / total;
out:
    free(prev);
    free(cur);
    return p;
}

double compare_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    /* U of b: pairs (a_i, b_j) with b_j > a_i, ties counting a half. */
    double u = 0;
    int ties = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (b[j] > a[i])
                u += 1;
            else if (b[j] == a[i]) {
                u += 0.5;
                ties = 1;
            }
        }
    if (!ties && na * nb <= 400) {
        double p = exact_upper_tail(nb, na, u);
        if (!isnan(p))
            return p;
    }
    double mean = na * nb / 2.0;
    double sd = sqrt(na * nb * (na + nb + 1) / 12.0);
    if (sd == 0)
        return 1.0;
    double z = (u - 0.5 - mean) / sd; /* continuity correction */
    return 0.5 * erfc(z / sqrt(2.0));
}

enum verdict { SAME, BETTER, WORSE_WITHIN, REGRESSION, UNKNOWN, NOT_JUDGED };

static const char *verdict_name[] = {"same", "better", "worse (within noise)", "REGRESSION", "n/a",
                                     "not judged (--counts-only)"};

static enum verdict judge(const struct fb_metric *m, const double *base, size_t nb, const double *cur,
                          size_t nc, double threshold, const char **why)
{
    double bmed = base[(nb - 1) / 2], cmed = cur[(nc - 1) / 2];
    double sign = m->higher_is_better ? -1 : 1; /* > 0: cur is worse */
    double worse = sign * (cmed - bmed);

    *why = "";
    if (worse == 0)
        return SAME;
    if (worse < 0)
        return BETTER;
    if (m->kind == METRIC_COUNT) {
        *why = "counts must match";
        return REGRESSION;
    }
    double limit = fabs(bmed) * threshold / 100.0;
    if (worse <= limit) {
        *why = "within the threshold";
        return WORSE_WITHIN;
    }
    if (nb >= 5 && nc >= 5) {
        double p = m->higher_is_better ? compare_mann_whitney_p(cur, nc, base, nb)
                                       : compare_mann_whitney_p(base, nb, cur, nc);
        *why = p < ALPHA ? "Mann-Whitney U p < 0.05" : "Mann-Whitney U: not significant";
        return p < ALPHA ? REGRESSION : WORSE_WITHIN;
    }
    if (nb > 1 || nc > 1) {
        /* Beyond the spread: the best new run is worse than the worst base
         * run by more than the threshold. */
        double best_cur = m->higher_is_better ? cur[nc - 1] : cur[0];
        double worst_base = m->higher_is_better ? base[0] : base[nb - 1];
        if (sign * (best_cur - worst_base) > limit) {
            *why = "beyond the runs' spread";
            return REGRESSION;
        }
        *why = "within the runs' spread";
        return WORSE_WITHIN;
    }
    *why = "beyond the threshold";
    return REGRESSION;
}

/* The values of metric name over a side's runs, sorted; -1 if any is
 * unknown. */
static int values(const struct side *s, const char *name, double *out)
{
    for (size_t i = 0; i < s->n; i++)
        if (metric_value(&s->runs[i], name, &out[i]) < 0)
            return -1;
    qsort(out, s->n, sizeof(*out), cmp_double);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: fetchbench compare BASE.json NEW.json [--threshold PCT] [--counts-only]\n"
               "                          [--allow-interrupted] [--allow-different]\n"
               "Compares the summaries of two reports (single runs or --repeat runs).\n"
               "Counts must match; times and thread peaks may be worse by PCT per cent\n"
               "(default %.0f) beyond the runs' spread, or, at 5+ runs a side, must pass\n"
               "a one-sided Mann-Whitney U test (p < 0.05) to count as a regression.\n"
               "--counts-only judges only the counts: a gate for machines of any speed.\n"
               "Refused (exit 2): a file that does not begin like a report ({\"schema\":\n"
               "\"fetchbench/...\" within its first %d bytes), a report with a duplicate\n"
               "key, an interrupted run (--allow-interrupted: compared with a warning),\n"
               "and two workloads that differ in config.tasks, mode, delay_ms, capacity,\n"
               "url or max_connections (--allow-different: compared with a warning);\n"
               "a key an older report lacks is unknown, not a difference.\n"
               "Exit codes: 0 no regression; 1 regression, or the output could not be\n"
               "written; 2 bad usage or input.\n",
            DEFAULT_THRESHOLD_PCT, JSONREAD_PREFIX_MAX);
}

int compare_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"counts-only", no_argument, NULL, 'c'},
        {"allow-interrupted", no_argument, NULL, 'I'},
        {"allow-different", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct side base, cur; /* large: not on the stack */
    double threshold = DEFAULT_THRESHOLD_PCT;
    double *bv = NULL, *cv = NULL;
    int c, counts_only = 0, allow_interrupted = 0, allow_different = 0;
    int code = 2;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":t:ch", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_double(optarg, &threshold) < 0 || threshold < 0 || threshold > 10000) {
                fprintf(stderr, "fetchbench compare: --threshold: expected a percentage from 0 to 10000, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'c':
            counts_only = 1;
            break;
        case 'I':
            allow_interrupted = 1;
            break;
        case 'D':
            allow_different = 1;
            break;
        case 'h':
            usage(stdout);
            return finish_output() < 0 ? 1 : 0;
        case ':':
            fprintf(stderr, "fetchbench compare: %s: missing value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "fetchbench compare: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "fetchbench compare: expected two reports, BASE.json NEW.json (see --help)\n");
        return 2;
    }

    if (load_side(&base, argv[optind], allow_interrupted) < 0
        || load_side(&cur, argv[optind + 1], allow_interrupted) < 0)
        goto out;
    size_t differences = compare_workloads(base.config, cur.config, stderr,
                                           allow_different ? "fetchbench compare: WARNING: "
                                                           : "fetchbench compare: ");
    if (differences && !allow_different)
        goto out;
    if (differences)
        fprintf(stderr, "fetchbench compare: WARNING: compared anyway (--allow-different): the "
                        "verdict is about different experiments\n");

    bv = malloc(base.n * sizeof(double));
    cv = malloc(cur.n * sizeof(double));
    int regressions = 0;
    if (bv == NULL || cv == NULL) {
        fputs("fetchbench compare: out of memory\n", stderr);
        goto out;
    }
    printf("%-18s %14s %14s %14s %9s  %s\n", "metric", "base", "new", "delta", "delta%", "verdict");
    for (int i = 0; fb_metrics[i].name; i++) {
        const struct fb_metric *m = &fb_metrics[i];
        const char *why = "";
        if (values(&base, m->name, bv) < 0 || values(&cur, m->name, cv) < 0) {
            printf("%-18s %14s %14s %14s %9s  %s\n", m->name, "-", "-", "-", "-", verdict_name[UNKNOWN]);
            continue;
        }
        double b = bv[(base.n - 1) / 2], n = cv[(cur.n - 1) / 2];
        enum verdict v = counts_only && m->kind == METRIC_MEASURE
                             ? NOT_JUDGED
                             : judge(m, bv, base.n, cv, cur.n, threshold, &why);
        regressions += v == REGRESSION;
        char rel[32];
        if (b != 0)
            snprintf(rel, sizeof(rel), "%+.1f%%", (n - b) / fabs(b) * 100.0);
        else
            snprintf(rel, sizeof(rel), n == 0 ? "0.0%%" : "new");
        printf("%-18s %14.0f %14.0f %+14.0f %9s  %s%s%s%s\n", m->name, b, n, n - b, rel, verdict_name[v],
               *why ? " (" : "", why, *why ? ")" : "");
    }
    /* The caveats go on the verdict line too: it is the line a CI log shows. */
    printf("%zu base run%s, %zu new run%s, threshold %.1f%%: %s%s%s%s%s%s\n", base.n,
           base.n == 1 ? "" : "s", cur.n, cur.n == 1 ? "" : "s", threshold,
           regressions ? "REGRESSION" : "no regression",
           base.interrupted || cur.interrupted || differences ? " (UNRELIABLE:" : "",
           base.interrupted ? " the base run was interrupted;" : "",
           cur.interrupted ? " the new run was interrupted;" : "",
           differences ? " the workloads differ;" : "",
           base.interrupted || cur.interrupted || differences ? " compared anyway)" : "");
    code = regressions ? 1 : 0;
    if (finish_output() < 0)
        code = 1;
out:
    free(bv);
    free(cv);
    cJSON_Delete(base.config);
    cJSON_Delete(cur.config);
    base.config = cur.config = NULL;
    return code;
}
