#include "merge.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fleet.h"
#include "outfile.h"
#include "summary.h"

/* The config members that make two reports one experiment: the workload
 * and what each client does with it. Where the clients ran, against which
 * address, their limits and run_id (checked apart) may differ. */
static const char *const same_keys[] = {
    "tasks", "modes", "repeat", "delay_ms", "capacity", "timeout_ms", "max_body", "max_connections", "workload",
    "params", "faults", NULL,
};

struct input {
    const char *path;
    cJSON *doc;
    uint32_t first_client, nclients;
};

static void merge_usage(FILE *f)
{
    fputs("Usage: fetchbench merge A.json B.json... [-o OUT]\n"
          "\n"
          "One fetchbench/2 report from the reports of one experiment: the same\n"
          "run_id (--run-id) and workload config. Each file's clients are numbered\n"
          "after the previous files' (client + offset); each mode and repeat gets a\n"
          "fleet summary over all of them (fleet.groups). Times stay relative to each\n"
          "run's own start: fleet.same_host says whether start_monotonic_us of runs\n"
          "from different files may be compared (one machine's clock).\n"
          "\n"
          "  -o, --output OUT  write here (atomically) instead of stdout\n"
          "  -h, --help        this help\n"
          "\n"
          "Exit codes: 0 written; 1 a file unreadable or the output not written;\n"
          "2 bad usage, or reports of different experiments.\n",
          f);
}

/* The whole file parsed; NULL after a message. */
static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        fprintf(stderr, "fetchbench merge: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                fprintf(stderr, "fetchbench merge: %s: out of memory\n", path);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + len, 1, 65536, f);
        len += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    cJSON *doc = NULL;
    if (!bad) {
        buf[len] = '\0';
        doc = cJSON_ParseWithLength(buf, len);
    }
    free(buf);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (doc == NULL || !cJSON_IsString(schema) || strcmp(schema->valuestring, "fetchbench/2") != 0
        || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "config"))
        || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "runs"))) {
        fprintf(stderr, "fetchbench merge: %s: not a fetchbench/2 report\n", path);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* 0 when b is of a's experiment, else -1 after one line. */
static int same_experiment(const struct input *a, const struct input *b)
{
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a->doc, "config");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(b->doc, "config");
    const char *ra = str_of(ca, "run_id"), *rb = str_of(cb, "run_id");

    if (ra == NULL || rb == NULL || strcmp(ra, rb) != 0) {
        fprintf(stderr, "fetchbench merge: %s: run_id '%s' is not %s's '%s' (not one experiment; see --run-id)\n",
                b->path, rb ? rb : "(none)", a->path, ra ? ra : "(none)");
        return -1;
    }
    for (int i = 0; same_keys[i]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(ca, same_keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(cb, same_keys[i]);
        if (!(x == NULL && y == NULL) && !cJSON_Compare(x, y, 1)) {
            fprintf(stderr, "fetchbench merge: %s: config.%s differs from %s's (not one experiment)\n", b->path,
                    same_keys[i], a->path);
            return -1;
        }
    }
    return 0;
}

/* The number of clients a report holds: one past its largest client id. */
static uint32_t clients_of(const cJSON *doc)
{
    uint32_t n = 1;
    const cJSON *run;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(doc, "runs")) {
        double c = num_of(run, "client", 0);
        if (c >= 0 && c + 1 > n)
            n = (uint32_t)c + 1;
    }
    return n;
}

/* The server's count for (mode, repeat) in one report: its fleet group's,
 * or its single client's run's; -1 unknown. */
static int64_t server_count(const cJSON *doc, const char *mode, uint32_t repeat)
{
    const cJSON *g, *run;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "fleet"),
                                                           "groups")) {
        if (strcmp(str_of(g, "mode") ? str_of(g, "mode") : "", mode) == 0 && num_of(g, "repeat", -1) == repeat)
            return (int64_t)num_of(cJSON_GetObjectItemCaseSensitive(g, "summary"), "server_requests", -1);
    }
    if (cJSON_GetObjectItemCaseSensitive(doc, "fleet"))
        return -1;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(doc, "runs")) {
        if (strcmp(str_of(run, "mode") ? str_of(run, "mode") : "", mode) == 0 && num_of(run, "repeat", -1) == repeat)
            return (int64_t)num_of(cJSON_GetObjectItemCaseSensitive(run, "summary"), "server_requests", -1);
    }
    return -1;
}

/* Lost clients of (mode, repeat) in one report, offset, appended to lost. */
static void lost_of(const cJSON *doc, const char *mode, uint32_t repeat, uint32_t offset, uint32_t *lost,
                    size_t *nlost, size_t max)
{
    const cJSON *g, *c;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "fleet"),
                                                           "groups")) {
        if (strcmp(str_of(g, "mode") ? str_of(g, "mode") : "", mode) != 0 || num_of(g, "repeat", -1) != repeat)
            continue;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "lost"))
            if (*nlost < max && cJSON_IsNumber(c))
                lost[(*nlost)++] = (uint32_t)c->valuedouble + offset;
    }
}

/* Moves every run of (mode, repeat) from the inputs into runs, clients
 * renumbered, and appends the group's fleet entry; its aggregate goes to
 * agg. -1 out of memory or an unreadable summary (said). */
static int merge_group(struct input *in, size_t nin, const char *mode, uint32_t repeat, cJSON *runs, cJSON *groups,
                       struct fb_summary *agg)
{
    size_t cap = 16, n = 0, nlost = 0;
    struct fleet_durations dur = {0};
    struct fb_summary *per = malloc(cap * sizeof(*per));
    uint32_t *clients = malloc(cap * sizeof(*clients)), lost[1024];
    int *intr = malloc(cap * sizeof(*intr));
    int64_t server = 0;
    int rc = 0;

    for (size_t f = 0; f < nin && rc == 0 && per && clients && intr; f++) {
        int64_t sc = server_count(in[f].doc, mode, repeat);
        int had = 0;
        cJSON *frs = cJSON_GetObjectItemCaseSensitive(in[f].doc, "runs"), *run = frs ? frs->child : NULL;
        lost_of(in[f].doc, mode, repeat, in[f].first_client, lost, &nlost, sizeof(lost) / sizeof(lost[0]));
        while (run && rc == 0) {
            cJSON *next = run->next;
            if (strcmp(str_of(run, "mode") ? str_of(run, "mode") : "", mode) != 0
                || num_of(run, "repeat", -1) != repeat) {
                run = next;
                continue;
            }
            had = 1;
            cJSON_DetachItemViaPointer(frs, run);
            uint32_t client = (uint32_t)num_of(run, "client", 0) + in[f].first_client;
            char err[256];
            cJSON_ReplaceItemInObjectCaseSensitive(run, "client", cJSON_CreateNumber(client));
            cJSON *t;
            cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(run, "tasks")) {
                /* After "id", as a fleet's own report writes it. */
                cJSON_DeleteItemFromObjectCaseSensitive(t, "client");
                cJSON *c = cJSON_CreateNumber(client);
                if (c && t->child)
                    c->string = strdup("client");
                if (c && t->child && c->string) {
                    c->next = t->child->next;
                    c->prev = t->child;
                    if (t->child->next)
                        t->child->next->prev = c;
                    else
                        t->child->prev = c;
                    t->child->next = c;
                } else {
                    cJSON_Delete(c);
                }
            }
            if (n == cap) {
                cap *= 2;
                per = realloc(per, cap * sizeof(*per));
                clients = realloc(clients, cap * sizeof(*clients));
                intr = realloc(intr, cap * sizeof(*intr));
                if (!per || !clients || !intr) {
                    cJSON_Delete(run);
                    rc = -1;
                    break;
                }
            }
            if (summary_from_json(cJSON_GetObjectItemCaseSensitive(run, "summary"), &per[n], err, sizeof(err)) < 0) {
                fprintf(stderr, "fetchbench merge: %s: a %s run's summary: %s\n", in[f].path, mode, err);
                cJSON_Delete(run);
                rc = -1;
                break;
            }
            if (fleet_durations(run, &dur) < 0) {
                cJSON_Delete(run);
                rc = -1;
                break;
            }
            intr[n] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted"));
            clients[n++] = client;
            cJSON_AddItemToArray(runs, run);
            run = next;
        }
        /* The servers' counts add up: each report's is its own server's (or
         * its --backend-stats deltas). */
        if (had)
            server = sc < 0 || server < 0 ? -1 : server + sc;
    }
    if (rc == 0 && per && clients && intr) {
        fleet_sum(per, n, &dur, n ? server : -1, agg);
        cJSON *g = fleet_group_json(mode, repeat, clients, per, intr, n, lost, nlost, agg);
        if (g)
            cJSON_AddItemToArray(groups, g);
        else
            rc = -1;
    } else {
        rc = -1;
    }
    free(per);
    free(clients);
    free(intr);
    fleet_durations_free(&dur);
    return rc;
}

/* "repeats" over each mode's group aggregates, as report.c writes it. */
static cJSON *repeats_json(const cJSON *modes, struct fb_summary *const *by_mode, const size_t *counts)
{
    cJSON *a = cJSON_CreateArray();
    const cJSON *m;
    size_t i = 0;
    cJSON_ArrayForEach(m, modes) {
        if (counts[i]) {
            struct fb_summary med, min, max;
            summary_aggregate(by_mode[i], counts[i], &med, &min, &max);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "mode", m->valuestring);
            cJSON_AddNumberToObject(o, "count", (double)counts[i]);
            cJSON_AddItemToObject(o, "median", summary_to_json(&med));
            cJSON_AddItemToObject(o, "min", summary_to_json(&min));
            cJSON_AddItemToObject(o, "max", summary_to_json(&max));
            cJSON_AddItemToArray(a, o);
        }
        i++;
    }
    return a;
}

int merge_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = "-";
    int c, code = EXIT_RUN_FAILED;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            merge_usage(stdout);
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUN_FAILED;
        case ':':
            fprintf(stderr, "fetchbench merge: %s: missing value (see --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "fetchbench merge: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    size_t nin = (size_t)(argc - optind);
    if (nin < 1) {
        fputs("fetchbench merge: expected one or more reports (see --help)\n", stderr);
        return EXIT_USAGE;
    }
    struct input *in = calloc(nin, sizeof(*in));
    struct fb_summary **by_mode = NULL;
    size_t *counts = NULL;
    cJSON *doc = NULL;
    struct fb_outfile o = {0};
    int nmodes = 0;
    char err[512];
    if (in == NULL)
        goto oom;
    uint32_t next_client = 0;
    for (size_t i = 0; i < nin; i++) {
        in[i].path = argv[optind + (int)i];
        if ((in[i].doc = load(in[i].path)) == NULL)
            goto out;
        if (i > 0 && same_experiment(&in[0], &in[i]) < 0) {
            code = EXIT_USAGE;
            goto out;
        }
        in[i].first_client = next_client;
        in[i].nclients = clients_of(in[i].doc);
        next_client += in[i].nclients;
    }
    /* Before any work: a bad output path costs nothing. */
    if (outfile_open(&o, out_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench merge: --output: %s\n", err);
        code = EXIT_USAGE;
        goto out;
    }

    cJSON *cfg0 = cJSON_GetObjectItemCaseSensitive(in[0].doc, "config");
    const cJSON *modes = cJSON_GetObjectItemCaseSensitive(cfg0, "modes");
    nmodes = cJSON_GetArraySize(modes);
    uint32_t repeat = (uint32_t)num_of(cfg0, "repeat", 1);
    doc = cJSON_CreateObject();
    cJSON *runs = cJSON_CreateArray(), *fleet = cJSON_CreateObject(), *groups = cJSON_CreateArray();
    cJSON *hosts = cJSON_CreateArray(), *sources = cJSON_CreateArray();
    by_mode = calloc((size_t)(nmodes > 0 ? nmodes : 1), sizeof(*by_mode));
    counts = calloc((size_t)(nmodes > 0 ? nmodes : 1), sizeof(*counts));
    if (!doc || !runs || !fleet || !groups || !hosts || !sources || !by_mode || !counts) {
        cJSON_Delete(runs);
        cJSON_Delete(fleet);
        cJSON_Delete(groups);
        cJSON_Delete(hosts);
        cJSON_Delete(sources);
        goto oom;
    }
    int same_host = 1, interrupted = 0;
    const char *host0 = str_of(cfg0, "hostname");
    for (size_t i = 0; i < nin; i++) {
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(in[i].doc, "config");
        const char *h = str_of(ci, "hostname");
        same_host &= h != NULL && host0 != NULL && strcmp(h, host0) == 0;
        interrupted |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in[i].doc, "interrupted"));
        cJSON_AddItemToArray(hosts, cJSON_CreateString(h ? h : "unknown"));
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "file", in[i].path);
        cJSON_AddNumberToObject(s, "first_client", in[i].first_client);
        cJSON_AddNumberToObject(s, "clients", in[i].nclients);
        cJSON_AddItemToArray(sources, s);
    }
    /* Rounds in the order the first report ran them: modes interleaved. */
    for (uint32_t r = 0; r < repeat; r++) {
        int m = 0;
        const cJSON *mode;
        cJSON_ArrayForEach(mode, modes) {
            struct fb_summary agg;
            int any = 0;
            const cJSON *run;
            for (size_t i = 0; i < nin && !any; i++)
                cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(in[i].doc, "runs"))
                    any |= strcmp(str_of(run, "mode") ? str_of(run, "mode") : "", mode->valuestring) == 0
                           && num_of(run, "repeat", -1) == r;
            if (any) {
                if (merge_group(in, nin, mode->valuestring, r, runs, groups, &agg) < 0) {
                    cJSON_Delete(runs);
                    cJSON_Delete(fleet);
                    cJSON_Delete(groups);
                    cJSON_Delete(hosts);
                    cJSON_Delete(sources);
                    fputs("fetchbench merge: out of memory or an unreadable run\n", stderr);
                    goto out;
                }
                struct fb_summary *nb = realloc(by_mode[m], (counts[m] + 1) * sizeof(*nb));
                if (nb) {
                    by_mode[m] = nb;
                    nb[counts[m]++] = agg;
                }
            }
            m++;
        }
    }
    cJSON *cfg = cJSON_DetachItemFromObjectCaseSensitive(in[0].doc, "config");
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "processes", cJSON_CreateNumber(next_client));
    cJSON_AddStringToObject(doc, "schema", "fetchbench/2");
    cJSON_AddItemToObject(doc, "tool", cJSON_DetachItemFromObjectCaseSensitive(in[0].doc, "tool"));
    cJSON_AddItemToObject(doc, "config", cfg);
    cJSON_AddItemToObject(doc, "vocabulary", cJSON_DetachItemFromObjectCaseSensitive(in[0].doc, "vocabulary"));
    cJSON_AddItemToObject(doc, "runs", runs);
    cJSON_AddNumberToObject(fleet, "processes", next_client);
    cJSON_AddBoolToObject(fleet, "same_host", same_host);
    cJSON_AddItemToObject(fleet, "hostnames", hosts);
    int nlost = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
        nlost += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "lost"));
    cJSON_AddNumberToObject(fleet, "lost_clients", nlost);
    cJSON_AddItemToObject(fleet, "groups", groups);
    cJSON_AddItemToObject(fleet, "sources", sources);
    cJSON_AddItemToObject(doc, "fleet", fleet);
    if (repeat > 1)
        cJSON_AddItemToObject(doc, "repeats", repeats_json(modes, by_mode, counts));
    cJSON_AddBoolToObject(doc, "interrupted", interrupted);

    FILE *f = outfile_stream(&o, err, sizeof(err));
    char *text = f ? cJSON_PrintUnformatted(doc) : NULL;
    if (f == NULL || text == NULL || fputs(text, f) < 0 || fputc('\n', f) < 0
        || outfile_commit(&o, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench merge: writing %s failed: %s\n", out_path, f && text ? err : "out of memory");
        free(text);
        goto out;
    }
    free(text);
    code = EXIT_OK;
    goto out;
oom:
    fputs("fetchbench merge: out of memory\n", stderr);
out:
    outfile_abort(&o);
    for (size_t i = 0; in && i < nin; i++)
        cJSON_Delete(in[i].doc);
    for (int m = 0; by_mode && m < nmodes; m++)
        free(by_mode[m]);
    free(by_mode);
    free(counts);
    free(in);
    cJSON_Delete(doc);
    return code;
}
