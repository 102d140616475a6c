#include "compare.h"

#include <cjson/cJSON.h>
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

/* One side of the comparison: its runs' summaries. */
struct side {
    const char *path;
    struct fb_summary runs[MAX_RUNS];
    size_t n;
};

static int load_side(struct side *s, const char *path)
{
    char err[256];
    size_t len;

    s->path = path;
    s->n = 0;
    char *text = jsonread_file(path, MAX_REPORT_BYTES, &len, err, sizeof(err));
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
        fprintf(stderr, "fetchbench compare: %s: not a fetchbench/1 report (schema: %s)\n", path,
                cJSON_IsString(schema) ? schema->valuestring : "missing");
        goto out;
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
    rc = 0;
out:
    cJSON_Delete(doc);
    return rc;
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
               "Compares the summaries of two reports (single runs or --repeat runs).\n"
               "Counts must match; times and thread peaks may be worse by PCT per cent\n"
               "(default %.0f) beyond the runs' spread, or, at 5+ runs a side, must pass\n"
               "a one-sided Mann-Whitney U test (p < 0.05) to count as a regression.\n"
               "--counts-only judges only the counts: a gate for machines of any speed.\n"
               "Exit codes: 0 no regression; 1 regression; 2 bad usage or input.\n",
            DEFAULT_THRESHOLD_PCT);
}

int compare_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"counts-only", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double threshold = DEFAULT_THRESHOLD_PCT;
    int c, counts_only = 0;

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
        case 'h':
            usage(stdout);
            return 0;
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

    static struct side base, cur; /* large: not on the stack */
    if (load_side(&base, argv[optind]) < 0 || load_side(&cur, argv[optind + 1]) < 0)
        return 2;

    double *bv = malloc(base.n * sizeof(double)), *cv = malloc(cur.n * sizeof(double));
    int regressions = 0;
    if (bv == NULL || cv == NULL) {
        fputs("fetchbench compare: out of memory\n", stderr);
        free(bv);
        free(cv);
        return 2;
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
    printf("%zu base run%s, %zu new run%s, threshold %.1f%%: %s\n", base.n, base.n == 1 ? "" : "s", cur.n,
           cur.n == 1 ? "" : "s", threshold, regressions ? "REGRESSION" : "no regression");
    free(bv);
    free(cv);
    return regressions ? 1 : 0;
}
