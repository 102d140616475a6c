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
#include "reportload.h"
#include "summary.h"

/* The Mann-Whitney U test visits every pair of a base and a new run: a
 * bound on the time a comparison takes (reportload reads more). */
#define MAX_RUNS         1000
#define DEFAULT_THRESHOLD_PCT 10.0
#define ALPHA            0.05

/* Reads the report at path into r (reportload.h), keeping only what is
 * judged. Returns 0, or -1 after printing one line naming the file. An
 * interrupted report is refused unless allow_interrupted (then a warning is
 * printed and *interrupted set). */
static int load_side(struct fb_loaded_report *r, const char *path, int allow_interrupted, int *interrupted)
{
    char err[512];

    *interrupted = 0;
    if (reportload_read(r, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench compare: %s: %s\n", path, err);
        return -1;
    }
    /* The summaries are judged, never the tasks: the text can go. */
    free(r->text);
    r->text = NULL;
    r->len = 0;
    if (r->nruns > MAX_RUNS) {
        fprintf(stderr, "fetchbench compare: %s: more than %d runs\n", path, MAX_RUNS);
        return -1;
    }
    /* A run cut short covers part of the workload, whether or not the
     * report's end was written after it. */
    int cut = r->interrupted;
    for (size_t i = 0; i < r->nruns; i++)
        cut |= r->runs[i].interrupted;
    if (cut) {
        if (!allow_interrupted) {
            fprintf(stderr, "fetchbench compare: %s: an interrupted run, its numbers cover part of "
                            "the workload (--allow-interrupted compares it anyway)\n", path);
            return -1;
        }
        fprintf(stderr, "fetchbench compare: WARNING: %s: an interrupted run, its numbers cover part "
                        "of the workload; compared anyway (--allow-interrupted)\n", path);
        *interrupted = 1;
    }
    return 0;
}

/* The keys that make two runs the same experiment (the modes are compared
 * on their own); and config.workload's, each of them (v2). */
static const char *const workload_keys[] = {"tasks", "delay_ms", "capacity", "url", "max_connections", NULL};

/* One line when the values of KEY differ; 1 if it did. */
static size_t compare_key(const cJSON *b, const cJSON *c, const char *key, FILE *out, const char *prefix)
{
    /* Missing from an older report: unknown, which is no difference. */
    if (b == NULL || c == NULL || cJSON_Compare(b, c, 1))
        return 0;
    /* Printed as JSON: a string from the file cannot break the line. */
    char *bs = cJSON_PrintUnformatted(b), *cs = cJSON_PrintUnformatted(c);
    char name[128];
    snprintf(name, sizeof(name), "%s", key);
    jsonread_one_line(name);
    fprintf(out, "%sworkloads differ: config.%s %s vs %s\n", prefix, name, bs ? bs : "?", cs ? cs : "?");
    free(bs);
    free(cs);
    return 1;
}

size_t compare_workloads(const cJSON *base, const cJSON *cur, FILE *out, const char *prefix)
{
    size_t n = 0;
    /* The embedded server listens on an ephemeral port, so its URLs differ
     * from run to run; delay_ms and capacity say what it served. */
    int both_embedded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(base, "embedded_server"))
                        && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cur, "embedded_server"));

    for (int i = 0; workload_keys[i]; i++) {
        if (strcmp(workload_keys[i], "url") == 0 && both_embedded)
            continue;
        n += compare_key(cJSON_GetObjectItemCaseSensitive(base, workload_keys[i]),
                         cJSON_GetObjectItemCaseSensitive(cur, workload_keys[i]), workload_keys[i], out, prefix);
    }
    /* Every key either side's workload has; one the other lacks is unknown. */
    const cJSON *bw = cJSON_GetObjectItemCaseSensitive(base, "workload");
    const cJSON *cw = cJSON_GetObjectItemCaseSensitive(cur, "workload"), *k;
    char key[128];
    if (bw && cw && !(cJSON_IsObject(bw) && cJSON_IsObject(cw)))
        n += compare_key(bw, cw, "workload", out, prefix);
    else if (cJSON_IsObject(bw) && cJSON_IsObject(cw))
        cJSON_ArrayForEach(k, bw) {
            snprintf(key, sizeof(key), "workload.%s", k->string);
            n += compare_key(k, cJSON_GetObjectItemCaseSensitive(cw, k->string), key, out, prefix);
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

enum verdict { SAME, BETTER, CHANGED, WORSE_WITHIN, REGRESSION, UNKNOWN, NOT_JUDGED };

static const char *verdict_name[] = {"same", "better", "changed", "worse (within noise)", "REGRESSION", "n/a",
                                     "not judged (--counts-only)"};

/* How one metric is judged: kind, and 1/0 when higher/lower is better, -1
 * when neither is (a count that changed is a difference, not a regression). */
static enum verdict judge(enum fb_metric_kind kind, int higher_is_better, const double *base, size_t nb,
                          const double *cur, size_t nc, double threshold, const char **why)
{
    double bmed = base[(nb - 1) / 2], cmed = cur[(nc - 1) / 2];
    double sign = higher_is_better > 0 ? -1 : 1; /* > 0: cur is worse */
    double worse = sign * (cmed - bmed);

    *why = "";
    if (worse == 0)
        return SAME;
    if (higher_is_better < 0) {
        *why = "no better direction";
        return CHANGED;
    }
    if (worse < 0)
        return BETTER;
    if (kind == METRIC_COUNT) {
        *why = "counts must match";
        return REGRESSION;
    }
    double limit = fabs(bmed) * threshold / 100.0;
    if (worse <= limit) {
        *why = "within the threshold";
        return WORSE_WITHIN;
    }
    if (nb >= 5 && nc >= 5) {
        double p = higher_is_better ? compare_mann_whitney_p(cur, nc, base, nb)
                                    : compare_mann_whitney_p(base, nb, cur, nc);
        *why = p < ALPHA ? "Mann-Whitney U p < 0.05" : "Mann-Whitney U: not significant";
        return p < ALPHA ? REGRESSION : WORSE_WITHIN;
    }
    if (nb > 1 || nc > 1) {
        /* Beyond the spread: the best new run is worse than the worst base
         * run by more than the threshold. */
        double best_cur = higher_is_better ? cur[nc - 1] : cur[0];
        double worst_base = higher_is_better ? base[0] : base[nb - 1];
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

/* The values of metric name over the runs of a side's mode, sorted, into
 * out; their number, or 0 if any run has none. */
static size_t values(const struct fb_loaded_report *r, size_t mode, const char *name, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nruns; i++) {
        if (r->runs[i].mode_index != mode)
            continue;
        if (metric_value(&r->runs[i].summary, name, &out[k]) < 0)
            return 0;
        k++;
    }
    qsort(out, k, sizeof(*out), cmp_double);
    return k;
}

/* Whether any run of a side's mode has the named figure. */
static int has_named(const struct fb_loaded_report *r, size_t mode, const char *name)
{
    uint64_t v;
    for (size_t i = 0; i < r->nruns; i++)
        if (r->runs[i].mode_index == mode && summary_get_named(&r->runs[i].summary, name, &v) == 0)
            return 1;
    return 0;
}

/* Whether the report's vocabulary marks the outcome ("ok": false) failing. */
static int is_failing(const struct fb_loaded_report *r, const char *outcome)
{
    for (size_t i = 0; i < r->noutcomes; i++)
        if (!r->outcome_ok[i] && strcmp(r->outcomes[i], outcome) == 0)
            return 1;
    return 0;
}

/* The comparison of one mode of each side. */
struct pairing {
    size_t bm, cm;              /* mode indexes in base and cur */
    const struct fb_loaded_report *base, *cur;
    double *bv, *cv;            /* room for every run of a side */
    double threshold;
    int counts_only;
    int regressions;
};

static void print_row(const char *name, const char *b, const char *n, const char *d, const char *rel,
                      const char *verdict, const char *why)
{
    printf("%-24s %14s %14s %14s %9s  %s%s%s%s\n", name, b, n, d, rel, verdict, *why ? " (" : "", why,
           *why ? ")" : "");
}

/* One row: name judged over both sides' runs of the pair's modes, shown
 * as label. */
static void compare_metric(struct pairing *p, const char *name, const char *label, enum fb_metric_kind kind,
                           int higher_is_better)
{
    const char *why = "";
    size_t nb = values(p->base, p->bm, name, p->bv), nc = values(p->cur, p->cm, name, p->cv);
    if (nb == 0 || nc == 0) {
        print_row(label, "-", "-", "-", "-", verdict_name[UNKNOWN], "");
        return;
    }
    double b = p->bv[(nb - 1) / 2], n = p->cv[(nc - 1) / 2];
    enum verdict v = p->counts_only && kind == METRIC_MEASURE
                         ? NOT_JUDGED
                         : judge(kind, higher_is_better, p->bv, nb, p->cv, nc, p->threshold, &why);
    p->regressions += v == REGRESSION;
    char bs[32], ns[32], ds[32], rel[32];
    snprintf(bs, sizeof(bs), "%.0f", b);
    snprintf(ns, sizeof(ns), "%.0f", n);
    snprintf(ds, sizeof(ds), "%+.0f", n - b);
    if (b != 0)
        snprintf(rel, sizeof(rel), "%+.1f%%", (n - b) / fabs(b) * 100.0);
    else
        snprintf(rel, sizeof(rel), n == 0 ? "0.0%%" : "new");
    print_row(label, bs, ns, ds, rel, verdict_name[v], why);
}

/* Adds the named counts of a side's mode to names (n so far, room for cap),
 * each once, in order of first sight. */
static size_t collect_named(const struct fb_loaded_report *r, size_t mode, char (*names)[SUMMARY_NAME_MAX], size_t n,
                            size_t cap)
{
    for (size_t i = 0; i < r->nruns; i++) {
        if (r->runs[i].mode_index != mode)
            continue;
        for (size_t j = 0; j < r->runs[i].summary.nnamed; j++) {
            const char *name = r->runs[i].summary.named[j].name;
            size_t k = 0;
            if (strncmp(name, "outcomes.", 9) != 0 && strncmp(name, "counters.", 9) != 0)
                continue;
            while (k < n && strcmp(names[k], name) != 0)
                k++;
            if (k == n && n < cap)
                memcpy(names[n++], name, SUMMARY_NAME_MAX);
        }
    }
    return n;
}

/* The named counts (outcomes.X, counters.X) of the pair's modes: judged
 * where every run of both sides has them, listed where only one side does.
 * An outcome either vocabulary marks failing is a count where more is
 * worse (error, timed_out, ...); the others, and counters, have no better
 * direction: a change is shown, and the fixed counts it moves with
 * (upstream_requests, cache_hits, errors) carry the verdict. */
static void compare_named(struct pairing *p)
{
    /* Each run holds at most SUMMARY_MAX_NAMED: two sides, twice as many. */
    static char names[2 * SUMMARY_MAX_NAMED][SUMMARY_NAME_MAX];
    size_t n = collect_named(p->base, p->bm, names, 0, 2 * SUMMARY_MAX_NAMED);
    n = collect_named(p->cur, p->cm, names, n, 2 * SUMMARY_MAX_NAMED);

    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        char label[SUMMARY_NAME_MAX];
        snprintf(label, sizeof(label), "%.*s", SUMMARY_NAME_MAX - 1, name);
        jsonread_one_line(label);
        int in_base = has_named(p->base, p->bm, name), in_cur = has_named(p->cur, p->cm, name);
        if (!in_base || !in_cur) {
            print_row(label, "-", "-", "-", "-", verdict_name[UNKNOWN], in_base ? "only in base" : "only in new");
            continue;
        }
        int failing = strncmp(name, "outcomes.", 9) == 0
                      && (is_failing(p->base, name + 9) || is_failing(p->cur, name + 9));
        compare_metric(p, name, label, METRIC_COUNT, failing ? 0 : -1);
    }
}

/* Prints the table of one pair of modes; returns its regressions. */
static int compare_mode(struct pairing *p)
{
    size_t nb = 0, nc = 0;
    for (size_t i = 0; i < p->base->nruns; i++)
        nb += p->base->runs[i].mode_index == p->bm;
    for (size_t i = 0; i < p->cur->nruns; i++)
        nc += p->cur->runs[i].mode_index == p->cm;
    p->regressions = 0;
    if (strcmp(p->base->modes[p->bm], p->cur->modes[p->cm]) == 0)
        printf("mode %s:\n", p->base->modes[p->bm]);
    else
        printf("mode %s vs %s:\n", p->base->modes[p->bm], p->cur->modes[p->cm]);
    printf("%-24s %14s %14s %14s %9s  %s\n", "metric", "base", "new", "delta", "delta%", "verdict");
    for (int i = 0; fb_metrics[i].name; i++) {
        const struct fb_metric *m = &fb_metrics[i];
        /* What an older report lacks (tasks, the percentiles) is left out
         * rather than shown as n/a on every v1 comparison; server_requests
         * is n/a without a server, as it always was. */
        if (strcmp(m->name, "server_requests") != 0
            && (values(p->base, p->bm, m->name, p->bv) == 0 || values(p->cur, p->cm, m->name, p->cv) == 0))
            continue;
        compare_metric(p, m->name, m->name, m->kind, m->higher_is_better);
    }
    compare_named(p);
    printf("%s: %zu base run%s, %zu new run%s: %s\n\n", p->cur->modes[p->cm], nb, nb == 1 ? "" : "s", nc,
           nc == 1 ? "" : "s", p->regressions ? "REGRESSION" : "no regression");
    return p->regressions;
}

/* Pairs the modes of base and cur: pair[i] is the cur mode of base mode i,
 * or -1. When each side has one mode and they differ, they are paired
 * anyway (the one experiment of each), and that is a difference. Writes one
 * line when the modes differ; returns 1 if they did. */
static size_t pair_modes(const struct fb_loaded_report *base, const struct fb_loaded_report *cur, long *pair, FILE *out,
                         const char *prefix)
{
    int differ = base->nmodes != cur->nmodes;
    for (size_t i = 0; i < base->nmodes; i++) {
        pair[i] = -1;
        for (size_t j = 0; j < cur->nmodes; j++)
            if (strcmp(base->modes[i], cur->modes[j]) == 0)
                pair[i] = (long)j;
        differ |= pair[i] < 0;
    }
    if (!differ)
        return 0;
    if (base->nmodes == 1 && cur->nmodes == 1)
        pair[0] = 0;
    fprintf(out, "%smodes differ: base [", prefix);
    for (size_t i = 0; i < base->nmodes; i++)
        fprintf(out, "%s\"%s\"", i ? "," : "", base->modes[i]);
    fprintf(out, "] vs new [");
    for (size_t j = 0; j < cur->nmodes; j++)
        fprintf(out, "%s\"%s\"", j ? "," : "", cur->modes[j]);
    fprintf(out, "]\n");
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: fetchbench compare BASE.json NEW.json [--threshold PCT] [--counts-only]\n"
               "                          [--allow-interrupted] [--allow-different]\n"
               "Compares the summaries of two reports (fetchbench/1 or /2, single runs or\n"
               "--repeat runs), mode by mode: each mode in both is compared on its own.\n"
               "Counts must match; times (wall, latency percentiles) and thread peaks may\n"
               "be worse by PCT per cent (default %.0f) beyond the runs' spread, or, at 5+\n"
               "runs a side, must pass a one-sided Mann-Whitney U test (p < 0.05) to count\n"
               "as a regression. Outcomes the vocabulary marks failing may not grow; other\n"
               "outcomes and counters that change are shown as changed.\n"
               "--counts-only judges only the counts: a gate for machines of any speed.\n"
               "Refused (exit 2): a file that does not begin like a report ({\"schema\":\n"
               "\"fetchbench/...\" within its first %d bytes), a report with a duplicate\n"
               "key, an interrupted run (--allow-interrupted: compared with a warning),\n"
               "and reports whose modes differ or whose workloads differ in config.tasks,\n"
               "delay_ms, capacity, url, max_connections or config.workload\n"
               "(--allow-different: compared with a warning, the common modes only, or\n"
               "the one mode of each); a key an older report lacks is unknown, not a\n"
               "difference.\n"
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
    struct fb_loaded_report base = {0}, cur = {0};
    int base_interrupted = 0, cur_interrupted = 0;
    double threshold = DEFAULT_THRESHOLD_PCT;
    long pair[REPORTLOAD_MAX_MODES];
    struct pairing p = {0};
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

    if (load_side(&base, argv[optind], allow_interrupted, &base_interrupted) < 0
        || load_side(&cur, argv[optind + 1], allow_interrupted, &cur_interrupted) < 0)
        goto out;
    const char *prefix = allow_different ? "fetchbench compare: WARNING: " : "fetchbench compare: ";
    size_t workloads = compare_workloads(base.config, cur.config, stderr, prefix);
    size_t modes = pair_modes(&base, &cur, pair, stderr, prefix);
    if ((workloads || modes) && !allow_different)
        goto out;
    size_t npairs = 0;
    for (size_t i = 0; i < base.nmodes; i++)
        npairs += pair[i] >= 0;
    if (npairs == 0) {
        fprintf(stderr, "fetchbench compare: no mode in common: nothing to compare\n");
        goto out;
    }
    if (workloads || modes)
        fprintf(stderr, "fetchbench compare: WARNING: compared anyway (--allow-different): the "
                        "verdict is about different experiments\n");

    p.base = &base;
    p.cur = &cur;
    p.threshold = threshold;
    p.counts_only = counts_only;
    p.bv = malloc((base.nruns ? base.nruns : 1) * sizeof(double));
    p.cv = malloc((cur.nruns ? cur.nruns : 1) * sizeof(double));
    if (p.bv == NULL || p.cv == NULL) {
        fputs("fetchbench compare: out of memory\n", stderr);
        goto out;
    }
    /* Which modes regressed, for the verdict line: the line a CI log shows. */
    char regressed[REPORTLOAD_MAX_MODES * (REPORTLOAD_MODE_MAX + 2)] = "";
    for (size_t i = 0; i < base.nmodes; i++) {
        if (pair[i] < 0)
            continue;
        p.bm = i;
        p.cm = (size_t)pair[i];
        if (compare_mode(&p)) {
            size_t len = strlen(regressed);
            snprintf(regressed + len, sizeof(regressed) - len, "%s%s", len ? ", " : "", cur.modes[p.cm]);
        }
    }
    /* The modes not compared are listed (they were warned about). */
    for (size_t i = 0; i < base.nmodes; i++)
        if (pair[i] < 0)
            printf("mode %s: only in base, not compared\n", base.modes[i]);
    for (size_t j = 0; j < cur.nmodes; j++) {
        int paired = 0;
        for (size_t i = 0; i < base.nmodes; i++)
            paired |= pair[i] == (long)j;
        if (!paired)
            printf("mode %s: only in new, not compared\n", cur.modes[j]);
    }
    int unreliable = base_interrupted || cur_interrupted || workloads || modes;
    printf("%zu mode%s compared, threshold %.1f%%: %s%s%s%s%s%s%s%s\n", npairs, npairs == 1 ? "" : "s",
           threshold, *regressed ? "REGRESSION in " : "no regression", regressed,
           unreliable ? " (UNRELIABLE:" : "", base_interrupted ? " the base run was interrupted;" : "",
           cur_interrupted ? " the new run was interrupted;" : "", modes ? " the modes differ;" : "",
           workloads ? " the workloads differ;" : "", unreliable ? " compared anyway)" : "");
    code = *regressed ? 1 : 0;
    if (finish_output() < 0)
        code = 1;
out:
    free(p.bv);
    free(p.cv);
    reportload_free(&base);
    reportload_free(&cur);
    return code;
}
