#include "reportcmd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "humanfmt.h"
#include "reporthuman.h"
#include "reportload.h"
#include "summary.h"
#include "taskwalk.h"
#include "vocab.h"

enum format { FORMAT_TEXT, FORMAT_MARKDOWN, FORMAT_CSV, FORMAT_JSONL };

/* stdout went bad: a reader that left (EPIPE: SIGPIPE is ignored by main)
 * ends the command quietly; anything else is said once. */
static int out_broken;

static int check_out(void)
{
    if (out_broken)
        return -1;
    if (!ferror(stdout) && fflush(stdout) == 0)
        return 0;
    out_broken = errno == EPIPE ? 1 : 2;
    if (out_broken == 2)
        fprintf(stderr, "fetchbench report: writing the output failed: %s\n",
                errno ? strerror(errno) : "write error");
    return -1;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, its quotes
 * doubled. */
static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_int(FILE *out, int64_t v)
{
    fputc(',', out);
    if (v >= 0)
        fprintf(out, "%" PRId64, v);
}

/* The union of the named columns over every report, in order of first
 * sight: one header for every row whatever the vocabularies. */
struct columns {
    char names[2 * REPORTLOAD_MAX_NAMES][SUMMARY_NAME_MAX];
    size_t n;
};

static void add_column(struct columns *c, const char *prefix, const char *name)
{
    char full[SUMMARY_NAME_MAX];
    snprintf(full, sizeof(full), "%s%s", prefix, name);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], full) == 0)
            return;
    if (c->n < 2 * REPORTLOAD_MAX_NAMES)
        memcpy(c->names[c->n++], full, sizeof(full));
}

static const char *const fixed_columns = "file,mode,repeat,client,interrupted,tasks,wall_us,upstream_requests,"
                                         "server_requests,cache_hits,cache_misses,errors,stampede_max,waiters,"
                                         "p50_us,p90_us,p99_us,p99_9_us,max_us,mean_us";

static void csv_header(FILE *out, const struct columns *c)
{
    fputs(fixed_columns, out);
    for (int k = 0; k < STAGE_COUNT; k++)
        fprintf(out, ",errors.%s", vocab_stage_name((enum fb_stage)k));
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, ",%s", c->names[i]);
    fputs("\r\n", out);
}

static void csv_rows(FILE *out, const struct fb_loaded_report *r, const struct columns *c)
{
    for (size_t i = 0; i < r->nruns; i++) {
        const struct fb_loaded_run *run = &r->runs[i];
        const struct fb_summary *s = &run->summary;
        csv_field(out, r->path);
        fputc(',', out);
        csv_field(out, run->mode);
        csv_int(out, run->repeat);
        csv_int(out, run->client);
        fprintf(out, ",%s", run->interrupted ? "true" : "false");
        csv_int(out, s->tasks);
        fprintf(out, ",%" PRIu64 ",%" PRIu64, s->wall_us, s->upstream_requests);
        csv_int(out, s->server_requests);
        fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, s->cache_hits, s->cache_misses, s->errors_total);
        csv_int(out, s->stampede_max);
        csv_int(out, s->waiters);
        csv_int(out, s->p50_us);
        csv_int(out, s->p90_us);
        csv_int(out, s->p99_us);
        csv_int(out, s->p99_9_us);
        csv_int(out, s->max_us);
        csv_int(out, s->mean_us);
        for (int k = 0; k < STAGE_COUNT; k++)
            fprintf(out, ",%" PRIu64, s->errors[k]);
        /* A column this run's vocabulary lacks is empty, not 0. */
        for (size_t k = 0; k < c->n; k++) {
            uint64_t v;
            fputc(',', out);
            if (summary_get_named(s, c->names[k], &v) == 0)
                fprintf(out, "%" PRIu64, v);
        }
        fputs("\r\n", out);
    }
}

/* JSON Lines: the walk's state. */
struct lines {
    const struct fb_loaded_report *r;
    FILE *out;
};

/* Moves member name of from (if any) to the end of to. */
static void move_item(cJSON *to, cJSON *from, const char *name)
{
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(from, name);
    if (item)
        cJSON_AddItemToObject(to, name, item);
}

static int task_line(void *ctx, size_t run, cJSON *task)
{
    struct lines *l = ctx;
    size_t i = reportload_task_run(l->r, run);
    const struct fb_loaded_run *lr = i < l->r->nruns ? &l->r->runs[i] : NULL;
    cJSON *o = cJSON_CreateObject();
    int rc = 0;

    if (o == NULL || lr == NULL)
        goto out;
    cJSON_AddStringToObject(o, "file", l->r->path);
    cJSON_AddNumberToObject(o, "run", (double)i);
    cJSON_AddStringToObject(o, "mode", lr->mode);
    if (lr->repeat >= 0)
        cJSON_AddNumberToObject(o, "repeat", (double)lr->repeat);
    if (lr->client >= 0)
        cJSON_AddNumberToObject(o, "client", (double)lr->client);
    static const char *const keys[] = {"id", "key", "outcome", "start_us", "end_us", "wait_us", "waited_on", "error"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        move_item(o, task, keys[k]);
    char *line = cJSON_PrintUnformatted(o);
    if (line == NULL) {
        rc = -1;
        goto out;
    }
    fputs(line, l->out);
    fputc('\n', l->out);
    free(line);
    /* A reader gone (| head) ends the walk: no need to parse the rest. */
    if (ferror(l->out))
        rc = 1;
out:
    cJSON_Delete(o);
    return rc;
}

static int parse_format(const char *s, enum format *f)
{
    static const char *const names[] = {"text", "markdown", "csv", "jsonl"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (enum format)i;
            return 0;
        }
    return -1;
}

static void usage(FILE *f)
{
    fputs("Usage: fetchbench report [FILE...] [--format FORMAT]\n"
          "Shows saved reports (fetchbench/1 or /2); FILE '-' or none reads stdin.\n"
          "  --format FORMAT  text (the default), markdown, csv or jsonl:\n"
          "  text      a block per run: counts, errors by stage, outcomes, counters,\n"
          "            latency percentiles and histogram; per mode with repeats the\n"
          "            mean +/- sd, median and range; each mode against the slowest;\n"
          "            a check or cross per expectation (ASCII when the locale is not\n"
          "            UTF-8)\n"
          "  markdown  a table per report (medians and ranges), the comparisons and\n"
          "            the expectations: for CI job summaries and READMEs\n"
          "  csv       a row per run, one header (RFC 4180)\n"
          "  jsonl     a line per task: file, run, mode, repeat, client, id, key,\n"
          "            outcome, start_us, end_us, wait_us, waited_on, error\n"
          "Exit codes: 0 shown; 1 the output could not be written; 2 bad usage, or a\n"
          "file that cannot be read or is not a report (the others are still shown).\n",
          f);
}

/* Shows one report in a streaming format (text, markdown, jsonl). Returns 0,
 * -1 after a line naming the file. */
static int show(const char *path, enum format fmt, const struct fb_glyphs *g, int several)
{
    struct fb_loaded_report r;
    char err[512];
    int rc = 0;

    if (reportload_read(&r, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench report: %s: %s\n", path, err);
        reportload_free(&r);
        return -1;
    }
    if (fmt == FORMAT_TEXT) {
        if (several)
            printf("==> %s <==\n", path);
        rc = reporthuman_text(stdout, &r, g, err, sizeof(err));
    } else if (fmt == FORMAT_MARKDOWN) {
        reporthuman_markdown(stdout, &r);
    } else {
        struct lines l = {&r, stdout};
        rc = taskwalk_report(r.text, r.len, task_line, &l, err, sizeof(err));
    }
    if (rc < 0 && !ferror(stdout))
        fprintf(stderr, "fetchbench report: %s: %s\n", path, err);
    reportload_free(&r);
    return rc < 0 && !ferror(stdout) ? -1 : 0;
}

/* CSV needs every report's vocabulary before its header: all are read
 * first, their texts dropped (no tasks are shown). */
static int show_csv(char **paths, int n)
{
    struct fb_loaded_report *r = calloc((size_t)n, sizeof(*r));
    static struct columns cols;
    char err[512];
    int bad = 0;

    if (r == NULL) {
        fputs("fetchbench report: out of memory\n", stderr);
        return -1;
    }
    cols.n = 0;
    for (int i = 0; i < n; i++) {
        if (reportload_read(&r[i], paths[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "fetchbench report: %s: %s\n", paths[i], err);
            bad = 1;
            continue;
        }
        free(r[i].text);
        r[i].text = NULL;
        for (size_t k = 0; k < r[i].noutcomes; k++)
            add_column(&cols, "outcomes.", r[i].outcomes[k]);
        for (size_t k = 0; k < r[i].ncounters; k++)
            add_column(&cols, "counters.", r[i].counters[k]);
    }
    csv_header(stdout, &cols);
    for (int i = 0; i < n; i++)
        csv_rows(stdout, &r[i], &cols);
    for (int i = 0; i < n; i++)
        reportload_free(&r[i]);
    free(r);
    return bad ? -1 : 0;
}

int report_cmd_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char *stdin_only[] = {(char *)"-"};
    enum format fmt = FORMAT_TEXT;
    int c, bad = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_format(optarg, &fmt) < 0) {
                fprintf(stderr, "fetchbench report: --format: expected text, markdown, csv or jsonl, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return check_out() < 0 ? (out_broken == 1 ? 0 : 1) : 0;
        case ':':
            fprintf(stderr, "fetchbench report: %s: missing value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "fetchbench report: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    char **paths = optind < argc ? argv + optind : stdin_only;
    int n = optind < argc ? argc - optind : 1;
    int stdin_uses = 0;
    for (int i = 0; i < n; i++)
        stdin_uses += strcmp(paths[i], "-") == 0;
    if (stdin_uses > 1) {
        fputs("fetchbench report: '-' (stdin) named more than once\n", stderr);
        return 2;
    }
    const struct fb_glyphs *g = humanfmt_glyphs(fmt == FORMAT_TEXT ? humanfmt_locale_utf8() : 1);

    if (fmt == FORMAT_CSV)
        bad = show_csv(paths, n) < 0;
    else
        for (int i = 0; i < n && check_out() == 0; i++) {
            bad |= show(paths[i], fmt, g, n > 1) < 0;
        }
    check_out();
    if (out_broken)
        return out_broken == 1 ? (bad ? 2 : 0) : 1;
    return bad ? 2 : 0;
}
