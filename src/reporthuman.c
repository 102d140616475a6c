#include "reporthuman.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "histo.h"
#include "jsonread.h"
#include "taskwalk.h"
#include "vocab.h"

/* One metric over the runs of one mode. */
struct spread {
    size_t n;
    double mean, sd, median, min, max;  /* sd: sample (n - 1), 0 for one run */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The spread of metric over the runs of mode m; n 0 when a run lacks it. */
static struct spread spread_of(const struct fb_loaded_report *r, size_t m, const char *metric)
{
    struct spread s = {0};
    double *v = malloc((r->nruns ? r->nruns : 1) * sizeof(*v));
    if (v == NULL)
        return s;
    for (size_t i = 0; i < r->nruns; i++) {
        if (r->runs[i].mode_index != m)
            continue;
        if (metric_value(&r->runs[i].summary, metric, &v[s.n]) < 0) {
            s.n = 0;
            free(v);
            return s;
        }
        s.n++;
    }
    if (s.n) {
        qsort(v, s.n, sizeof(*v), cmp_double);
        double sum = 0, sq = 0;
        for (size_t i = 0; i < s.n; i++)
            sum += v[i];
        s.mean = sum / (double)s.n;
        for (size_t i = 0; i < s.n; i++)
            sq += (v[i] - s.mean) * (v[i] - s.mean);
        s.sd = s.n > 1 ? sqrt(sq / (double)(s.n - 1)) : 0;
        /* The lower middle, as summary_aggregate and compare take it. */
        s.median = v[(s.n - 1) / 2];
        s.min = v[0];
        s.max = v[s.n - 1];
    }
    free(v);
    return s;
}

/* "  Label:" padded to the values' column; width counts characters, not
 * bytes, so "Time (mean ± σ):" lines up with the ASCII labels. */
static void label(FILE *out, const char *text)
{
    size_t chars = 0;
    for (const char *c = text; *c; c++)
        chars += ((unsigned char)*c & 0xc0) != 0x80;
    fprintf(out, "  %s%*s", text, chars < 20 ? (int)(20 - chars) : 1, "");
}

static size_t runs_of(const struct fb_loaded_report *r, size_t m)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nruns; i++)
        n += r->runs[i].mode_index == m;
    return n;
}

static const char *op_text(enum fb_op op)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    return ops[op];
}

/* "✓ lock: upstream_requests == 1 (1)" for verdict v, without a newline. */
static void expectation_line(FILE *out, const cJSON *v, const struct fb_glyphs *g)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(v, "expect");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(v, "mode");
    const cJSON *actual = cJSON_GetObjectItemCaseSensitive(v, "actual");
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok"));
    struct fb_expect e;
    char err[256], shown[160];

    if (cJSON_IsString(text) && expect_parse(text->valuestring, &e, err, sizeof(err)) == 0)
        snprintf(shown, sizeof(shown), "%s: %s %s %.15g",
                 e.mode[0] ? e.mode : (cJSON_IsString(mode) ? mode->valuestring : "?"), e.metric, op_text(e.op),
                 e.value);
    else
        snprintf(shown, sizeof(shown), "%s", cJSON_IsString(text) ? text->valuestring : "?");
    jsonread_one_line(shown);
    fprintf(out, "%s %s (", ok ? g->check : g->cross, shown);
    if (cJSON_IsNumber(actual))
        fprintf(out, "%.15g)", actual->valuedouble);
    else
        fprintf(out, "no value)");
}

/* The comparison line of mode m against mode base, without a newline. */
static void comparison_line(FILE *out, const struct fb_loaded_report *r, size_t m, size_t base,
                            const struct fb_glyphs *g)
{
    struct spread a = spread_of(r, base, "wall_us"), b = spread_of(r, m, "wall_us");
    char ratio[32], sd[32];
    double q = b.mean > 0 ? a.mean / b.mean : 0;
    fprintf(out, "%s: %.2f", r->modes[m], q);
    if (a.n > 1 || b.n > 1) {
        /* Propagated from each side's relative spread, as hyperfine does. */
        double rel = 0;
        if (a.mean > 0)
            rel += (a.sd / a.mean) * (a.sd / a.mean);
        if (b.mean > 0)
            rel += (b.sd / b.mean) * (b.sd / b.mean);
        snprintf(sd, sizeof(sd), "%.2f", q * sqrt(rel));
        fprintf(out, " %s %s", g->pm, sd);
    }
    fprintf(out, " %s faster than %s", g->times, r->modes[base]);

    struct spread ua = spread_of(r, base, "upstream_requests"), ub = spread_of(r, m, "upstream_requests");
    if (ua.n == 0 || ub.n == 0)
        return;
    if (ub.mean == ua.mean)
        fprintf(out, ", as many upstream requests");
    else if (ub.mean == 0)
        fprintf(out, ", no upstream requests");
    else if (ua.mean == 0)
        fprintf(out, ", %.15g upstream requests (%s had none)", ub.mean, r->modes[base]);
    else if (ub.mean < ua.mean)
        fprintf(out, ", %s%s fewer upstream requests", humanfmt_ratio(ratio, sizeof(ratio), ua.mean / ub.mean),
                g->times);
    else
        fprintf(out, ", %s%s more upstream requests", humanfmt_ratio(ratio, sizeof(ratio), ub.mean / ua.mean),
                g->times);
}

/* The mode with the largest mean wall time (the first of equals). */
static size_t slowest_mode(const struct fb_loaded_report *r)
{
    size_t slow = 0;
    double worst = -1;
    for (size_t m = 0; m < r->nmodes; m++) {
        struct spread s = spread_of(r, m, "wall_us");
        if (s.n && s.mean > worst) {
            worst = s.mean;
            slow = m;
        }
    }
    return slow;
}

/* Each run's task durations, filled by the walk. */
struct durations {
    const struct fb_loaded_report *r;
    uint64_t **v;               /* [nruns] */
    size_t *n, *cap;
    int oom;
};

static int add_duration(void *ctx, size_t run, cJSON *task)
{
    struct durations *d = ctx;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(task, "start_us");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(task, "end_us");
    size_t i = reportload_task_run(d->r, run);
    if (i >= d->r->nruns || !cJSON_IsNumber(s) || !cJSON_IsNumber(e) || e->valuedouble < s->valuedouble)
        return 0; /* the summary's figures stand; the histogram skips what it cannot place */
    if (d->n[i] == d->cap[i]) {
        size_t cap = d->cap[i] ? 2 * d->cap[i] : 1024;
        uint64_t *p = realloc(d->v[i], cap * sizeof(*p));
        if (p == NULL) {
            d->oom = 1;
            return 1;
        }
        d->v[i] = p;
        d->cap[i] = cap;
    }
    d->v[i][d->n[i]++] = (uint64_t)(e->valuedouble - s->valuedouble);
    return 0;
}

static void print_count_unknown(FILE *out, const char *label, int64_t v)
{
    if (v >= 0)
        fprintf(out, "  %-20s%" PRId64 "\n", label, v);
}

static void print_run(FILE *out, const struct fb_loaded_report *r, size_t i, const struct durations *d,
                      const struct fb_glyphs *g)
{
    const struct fb_loaded_run *run = &r->runs[i];
    const struct fb_summary *s = &run->summary;
    size_t nmode = runs_of(r, run->mode_index);
    char a[32], b[32], c[32];

    fprintf(out, "%s", run->mode);
    if (nmode > 1 && run->repeat >= 0)
        fprintf(out, ", run %ld of %zu", run->repeat + 1, nmode);
    if (run->client > 0)
        fprintf(out, " (client %ld)", run->client);
    fprintf(out, "%s\n", run->interrupted ? " - INTERRUPTED: part of the workload" : "");
    fprintf(out, "  %-20s%s\n", "Wall time:", humanfmt_duration(a, sizeof(a), (double)s->wall_us, g));
    print_count_unknown(out, "Tasks:", s->tasks);
    fprintf(out, "  %-20s%" PRIu64, "Upstream requests:", s->upstream_requests);
    if (s->server_requests >= 0)
        fprintf(out, " (server saw %" PRId64 ")", s->server_requests);
    fprintf(out, "\n  %-20s%" PRIu64 " hit%s, %" PRIu64 " miss%s\n", "Cache:", s->cache_hits,
            s->cache_hits == 1 ? "" : "s", s->cache_misses, s->cache_misses == 1 ? "" : "es");
    print_count_unknown(out, "Stampede max:", s->stampede_max);
    print_count_unknown(out, "Waiters:", s->waiters);
    fprintf(out, "  %-20s", "Errors:");
    if (s->errors_total == 0)
        fprintf(out, "none\n");
    else {
        fprintf(out, "%" PRIu64 " (", s->errors_total);
        const char *sep = "";
        for (int k = 0; k < STAGE_COUNT; k++)
            if (s->errors[k]) {
                fprintf(out, "%s%s %" PRIu64, sep, vocab_stage_name((enum fb_stage)k), s->errors[k]);
                sep = ", ";
            }
        fprintf(out, ")\n");
    }
    /* Named figures print in the report's order, the vocabulary's. */
    for (int fam = 0; fam < 2; fam++) {
        const char *prefix = fam ? "counters." : "outcomes.";
        int any = 0;
        for (size_t k = 0; k < s->nnamed; k++) {
            /* Outcomes no task had are noise; a counter at 0 says something. */
            if (strncmp(s->named[k].name, prefix, 9) != 0 || (!fam && s->named[k].value == 0))
                continue;
            fprintf(out, "%s%s %" PRIu64, any ? ", " : (fam ? "  Counters:           " : "  Outcomes:           "),
                    s->named[k].name + 9, s->named[k].value);
            any = 1;
        }
        if (any)
            fputc('\n', out);
    }
    if (s->p50_us >= 0) {
        fprintf(out, "  %-20sp50 %s   p90 %s   p99 %s\n", "Latency:",
                humanfmt_duration(a, sizeof(a), (double)s->p50_us, g),
                humanfmt_duration(b, sizeof(b), (double)s->p90_us, g),
                humanfmt_duration(c, sizeof(c), (double)s->p99_us, g));
        fprintf(out, "  %-20sp99.9 %s   max %s   mean %s\n", "",
                humanfmt_duration(a, sizeof(a), (double)s->p99_9_us, g),
                humanfmt_duration(b, sizeof(b), (double)s->max_us, g),
                humanfmt_duration(c, sizeof(c), (double)s->mean_us, g));
    }
    if (d->n[i]) {
        struct fb_histo h;
        histo_build(d->v[i], d->n[i], &h);
        fprintf(out, "  Latency histogram (%zu tasks):\n", d->n[i]);
        histo_print(out, &h, "    ", g);
    }
}

/* hyperfine's lines for a mode with repeats. */
static void print_repeats(FILE *out, const struct fb_loaded_report *r, size_t m, const struct fb_glyphs *g)
{
    static const struct {
        const char *metric, *label;
    } counts[] = {{"upstream_requests", "Upstream requests:"}, {"server_requests", "Server requests:"},
                  {"cache_hits", "Cache hits:"},               {"errors", "Errors:"},
                  {"stampede_max", "Stampede max:"},           {"waiters", "Waiters:"}};
    struct spread w = spread_of(r, m, "wall_us");
    char a[32], b[32];

    char text[64];

    fprintf(out, "%s: %zu runs\n", r->modes[m], w.n);
    snprintf(text, sizeof(text), "Time (mean %s %s):", g->pm, g->sigma);
    label(out, text);
    fprintf(out, "%s %s %s\n", humanfmt_duration(a, sizeof(a), w.mean, g), g->pm,
            humanfmt_duration_as(b, sizeof(b), w.sd, w.mean, g));
    snprintf(text, sizeof(text), "Range (min %s max):", g->ellipsis);
    label(out, text);
    fprintf(out, "%s %s %s\n", humanfmt_duration_as(a, sizeof(a), w.min, w.max, g), g->ellipsis,
            humanfmt_duration(b, sizeof(b), w.max, g));
    label(out, "Median:");
    fprintf(out, "%s\n", humanfmt_duration(a, sizeof(a), w.median, g));
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        struct spread s = spread_of(r, m, counts[k].metric);
        if (s.n == 0)
            continue;
        label(out, counts[k].label);
        /* A count the runs agree on is the experiment's logic: one number. */
        if (s.min == s.max)
            fprintf(out, "%.15g in every run\n", s.min);
        else
            fprintf(out, "%.2f %s %.2f   median %.15g, range %.15g %s %.15g\n", s.mean, g->pm, s.sd, s.median,
                    s.min, g->ellipsis, s.max);
    }
}

int reporthuman_text(FILE *out, const struct fb_loaded_report *r, const struct fb_glyphs *g, char *err,
                     size_t errlen)
{
    struct durations d = {r, calloc(r->nruns, sizeof(uint64_t *)), calloc(r->nruns, sizeof(size_t)),
                          calloc(r->nruns, sizeof(size_t)), 0};
    int rc = -1;

    if (d.v == NULL || d.n == NULL || d.cap == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (taskwalk_report(r->text, r->len, add_duration, &d, err, errlen) < 0)
        goto out;
    if (d.oom) {
        snprintf(err, errlen, "out of memory reading the tasks");
        goto out;
    }
    for (size_t i = 0; i < r->nruns; i++) {
        print_run(out, r, i, &d, g);
        fputc('\n', out);
    }
    for (size_t m = 0; m < r->nmodes; m++)
        if (runs_of(r, m) > 1) {
            print_repeats(out, r, m, g);
            fputc('\n', out);
        }
    if (r->nmodes > 1) {
        size_t slow = slowest_mode(r);
        fprintf(out, "Comparison (against the slowest, %s):\n", r->modes[slow]);
        for (size_t m = 0; m < r->nmodes; m++)
            if (m != slow) {
                fputs("  ", out);
                comparison_line(out, r, m, slow, g);
                fputc('\n', out);
            }
        fputc('\n', out);
    }
    if (r->expectations && cJSON_GetArraySize(r->expectations) > 0) {
        const cJSON *v;
        fprintf(out, "Expectations:\n");
        cJSON_ArrayForEach(v, r->expectations) {
            fputs("  ", out);
            expectation_line(out, v, g);
            fputc('\n', out);
        }
        fputc('\n', out);
    }
    rc = ferror(out) ? 1 : 0;
out:
    for (size_t i = 0; d.v && i < r->nruns; i++)
        free(d.v[i]);
    free(d.v);
    free(d.n);
    free(d.cap);
    return rc;
}

/* A cell: the median of metric over mode m's runs, with the range when the
 * runs differ; durations (µs metrics) in a unit per value. */
static void md_cell(FILE *out, const struct fb_loaded_report *r, size_t m, const char *metric, int duration,
                    const struct fb_glyphs *g)
{
    struct spread s = spread_of(r, m, metric);
    char a[32], b[32], c[32];

    if (s.n == 0) {
        fputs(" n/a |", out);
        return;
    }
    if (duration) {
        fprintf(out, " %s", humanfmt_duration(a, sizeof(a), s.median, g));
        if (s.min != s.max)
            fprintf(out, " (%s %s %s)", humanfmt_duration(b, sizeof(b), s.min, g), g->ellipsis,
                    humanfmt_duration(c, sizeof(c), s.max, g));
    } else {
        fprintf(out, " %.15g", s.median);
        if (s.min != s.max)
            fprintf(out, " (%.15g %s %.15g)", s.min, g->ellipsis, s.max);
    }
    fputs(" |", out);
}

void reporthuman_markdown(FILE *out, const struct fb_loaded_report *r)
{
    static const struct {
        const char *metric, *title;
        int duration;
    } cols[] = {{"wall_us", "wall time", 1},
                {"upstream_requests", "upstream requests", 0},
                {"server_requests", "server saw", 0},
                {"cache_hits", "cache hits", 0},
                {"errors", "errors", 0},
                {"stampede_max", "stampede max", 0},
                {"waiters", "waiters", 0},
                {"p50_us", "p50", 1},
                {"p99_us", "p99", 1},
                {"max_us", "max", 1}};
    const struct fb_glyphs *g = humanfmt_glyphs(1);
    size_t ncols = sizeof(cols) / sizeof(cols[0]);
    int repeated = 0;

    fprintf(out, "### `%s`\n\n| mode | runs |", r->path);
    for (size_t k = 0; k < ncols; k++)
        fprintf(out, " %s |", cols[k].title);
    fputs("\n| --- | ---: |", out);
    for (size_t k = 0; k < ncols; k++)
        fputs(" ---: |", out);
    fputc('\n', out);
    for (size_t m = 0; m < r->nmodes; m++) {
        size_t n = runs_of(r, m);
        repeated |= n > 1;
        fprintf(out, "| %s | %zu |", r->modes[m], n);
        for (size_t k = 0; k < ncols; k++)
            md_cell(out, r, m, cols[k].metric, cols[k].duration, g);
        fputc('\n', out);
    }
    if (repeated)
        fprintf(out, "\nMedians over each mode's runs; (min %s max) where the runs differ.\n", g->ellipsis);
    if (r->nmodes > 1) {
        size_t slow = slowest_mode(r);
        fputc('\n', out);
        for (size_t m = 0; m < r->nmodes; m++)
            if (m != slow) {
                fputs("- ", out);
                comparison_line(out, r, m, slow, g);
                fputc('\n', out);
            }
    }
    if (r->expectations && cJSON_GetArraySize(r->expectations) > 0) {
        const cJSON *v;
        fputc('\n', out);
        cJSON_ArrayForEach(v, r->expectations) {
            fputs("- ", out);
            expectation_line(out, v, g);
            fputc('\n', out);
        }
    }
    fputc('\n', out);
}
