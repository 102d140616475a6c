#include "fleet.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "run.h"
#include "sig.h"
#include "stats.h"
#include "target.h"
#include "threads.h"
#include "workload.h"

/* ------------------------------------------------------------ the child */

/* SIGUSR1 from the parent: the signal the parent got, passed on only when
 * the group's own ^C has not reached us (a second SIGINT would kill us). */
static void on_parent_signal(int signo)
{
    (void)signo;
    if (!sig_pending())
        raise(SIGINT);
}

/* Client p's part of one round: its run, written as a run object into fd.
 * Never returns. */
static void child_main(const struct fb_config *cfg, const struct fb_target *shared, const struct fb_strategy *st,
                       uint32_t repeat, int warmup, uint32_t p, unsigned fetch_cap, int fd)
{
    struct fb_config c = *cfg;
    struct fb_workload wl = {0};
    struct fb_target t = *shared;
    struct fb_server_stats none = {0};
    struct fb_run_record r = {0};
    char err[512];
    int code = EXIT_RUN_FAILED;

    /* Our own wake-up pipe: the parent's is shared by every child, and one
     * child's drain would eat another's wake-up. */
    if (sig_init() < 0)
        _exit(EXIT_RUN_FAILED);
    signal(SIGUSR1, on_parent_signal);
    c.quiet = 1;
    c.progress = 0;
    /* The server is the parent's: not ours to stop, its counts the fleet's. */
    t.child = 0;
    t.remote_stats = 0;
    struct fb_workload_opts wo = {
        .seed = cfg->seed + p,
        .keys = cfg->keys,
        .zipf_s = cfg->zipf,
        .rate_per_s = cfg->rate,
        .duration_us = (uint64_t)cfg->duration_ms * 1000,
        .tasks = cfg->tasks,
        .max_tasks = 100000000u,
    };
    struct fb_run_opts o = {
        .cfg = &c, .strategy = st, .workload = &wl, .url = t.url, .fetch_cap = fetch_cap, .client = p,
        .repeat = repeat, .warmup = warmup,
    };
    if (workload_draw(&wl, &wo, err, sizeof(err)) < 0 || (r.run = run_new(&o, err, sizeof(err))) == NULL
        || run_execute(r.run, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: client %" PRIu32 ": %s\n", p, err);
        _exit(EXIT_RUN_FAILED);
    }
    r.target = &t;
    r.server = &none;
    FILE *f = fdopen(fd, "w");
    if (threads_snapshot(&r.lives, &r.nlives, &r.samples, &r.nsamples, &r.peak_threads, &r.threads_failed) < 0
        || report_summarize(&r) < 0) {
        fprintf(stderr, "fetchbench: client %" PRIu32 ": out of memory summing the run up\n", p);
    } else {
        r.baseline = r.nsamples ? r.samples[0].count : 1;
        if (f && report_run_alone(f, &r) == 0 && fflush(f) == 0)
            code = EXIT_OK;
        else
            fprintf(stderr, "fetchbench: client %" PRIu32 ": writing its run failed: %s\n", p, strerror(errno));
    }
    /* No cleanup: the process ends, and the parent's state we share by
     * copy (the output's temporary, the server) is not ours to touch. */
    _exit(code);
}

/* ------------------------------------------------------------ aggregate */

void fleet_sum(const struct fb_summary *runs, size_t n, struct fleet_durations *d, int64_t server_requests,
               struct fb_summary *out)
{
    struct fb_percentiles p;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const struct fb_summary *s = &runs[i];
        out->tasks += s->tasks > 0 ? s->tasks : 0;
        out->wall_us = s->wall_us > out->wall_us ? s->wall_us : out->wall_us;
        out->upstream_requests += s->upstream_requests;
        out->cache_hits += s->cache_hits;
        out->cache_misses += s->cache_misses;
        for (int k = 0; k < STAGE_COUNT; k++)
            out->errors[k] += s->errors[k];
        out->errors_total += s->errors_total;
        /* Each process has its own threads and connections: the fleet's
         * are their sum (the peaks may not coincide: an upper bound). */
        out->peak_threads += s->peak_threads;
        out->threads_created += s->threads_created;
        out->threads_failed += s->threads_failed;
        out->peak_connections += s->peak_connections;
        out->wait_us += s->wait_us > 0 ? s->wait_us : 0;
        out->waiters += s->waiters > 0 ? s->waiters : 0;
        /* Per key and per process: no process sees another's fetches. */
        out->stampede_max = s->stampede_max > out->stampede_max ? s->stampede_max : out->stampede_max;
        for (size_t k = 0; k < s->nnamed; k++) {
            uint64_t have = 0;
            summary_get_named(out, s->named[k].name, &have);
            summary_set_named(out, s->named[k].name, have + s->named[k].value);
        }
    }
    out->server_requests = server_requests;
    summary_set_latency(out, 0, stats_percentiles(d->all, d->nall, &p) == 0 ? &p : NULL);
    summary_set_latency(out, 1,
                        d->nwaiters == (size_t)out->waiters && stats_percentiles(d->waiters, d->nwaiters, &p) == 0
                            ? &p
                            : NULL);
}

static int push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        uint32_t *nv = realloc(*v, c * sizeof(**v));
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

int fleet_durations(const cJSON *run, struct fleet_durations *d)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(run, "tasks")) {
        const cJSON *spans = cJSON_GetObjectItemCaseSensitive(t, "spans");
        double s = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "start_us"));
        double e = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "end_us"));
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(t, "outcome");
        int cancelled = cJSON_IsString(o) && strcmp(o->valuestring, "cancelled") == 0;
        if ((cJSON_GetArraySize(spans) == 0 && cancelled) || !(e >= s))
            continue; /* had not arrived: cut by an interrupt */
        if (push(&d->all, &d->nall, &d->capall, (uint32_t)(e - s)) < 0)
            return -1;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "waiter"))
            && push(&d->waiters, &d->nwaiters, &d->capwaiters, (uint32_t)(e - s)) < 0)
            return -1;
    }
    return 0;
}

void fleet_durations_free(struct fleet_durations *d)
{
    free(d->all);
    free(d->waiters);
    memset(d, 0, sizeof(*d));
}

cJSON *fleet_group_json(const char *mode, uint32_t repeat, const uint32_t *clients, const struct fb_summary *per,
                        const int *interrupted, size_t n, const uint32_t *lost, size_t nlost,
                        const struct fb_summary *agg)
{
    cJSON *o = cJSON_CreateObject(), *cl = cJSON_AddArrayToObject(o, "clients");
    cJSON *ls = cJSON_AddArrayToObject(o, "lost"), *pc = cJSON_AddArrayToObject(o, "per_client");
    int any = 0;

    cJSON_AddStringToObject(o, "mode", mode);
    cJSON_AddNumberToObject(o, "repeat", repeat);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(cl, cJSON_CreateNumber(clients[i]));
        cJSON_AddNumberToObject(e, "client", clients[i]);
        cJSON_AddNumberToObject(e, "tasks", (double)per[i].tasks);
        cJSON_AddNumberToObject(e, "upstream_requests", (double)per[i].upstream_requests);
        cJSON_AddNumberToObject(e, "cache_hits", (double)per[i].cache_hits);
        cJSON_AddNumberToObject(e, "errors", (double)per[i].errors_total);
        cJSON_AddNumberToObject(e, "wall_us", (double)per[i].wall_us);
        cJSON_AddBoolToObject(e, "interrupted", interrupted[i]);
        cJSON_AddItemToArray(pc, e);
        any |= interrupted[i];
    }
    for (size_t i = 0; i < nlost; i++)
        cJSON_AddItemToArray(ls, cJSON_CreateNumber(lost[i]));
    cJSON_AddBoolToObject(o, "interrupted", any);
    cJSON_AddItemToObject(o, "summary", summary_to_json(agg));
    if (cJSON_GetObjectItemCaseSensitive(o, "summary") == NULL || pc == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------ the parent */

/* A child's file, whole, NUL-terminated; NULL when empty or unreadable. */
static char *slurp(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)k;
    }
    if (buf)
        buf[got] = '\0';
    return buf;
}

/* Waits for every child; passes a signal we got on to them (SIGUSR1, see
 * on_parent_signal) a moment after it came, so that a group's ^C reaches
 * them first on its own. status[i] as waitpid gives it. */
static void reap(const pid_t *pids, int *status, uint32_t n)
{
    uint32_t left = n;
    int passed = 0, ticks_since_signal = 0;
    int *done = calloc(n, sizeof(*done));

    while (left > 0) {
        for (uint32_t i = 0; i < n; i++) {
            if ((done && done[i]) || pids[i] <= 0)
                continue;
            pid_t w = waitpid(pids[i], &status[i], WNOHANG);
            if (w == pids[i] || (w < 0 && errno == ECHILD)) {
                if (done)
                    done[i] = 1;
                left--;
            }
        }
        if (done == NULL) { /* no memory to poll: block on each */
            for (uint32_t i = 0; i < n; i++)
                while (pids[i] > 0 && waitpid(pids[i], &status[i], 0) < 0 && errno == EINTR)
                    ;
            return;
        }
        if (left == 0)
            break;
        if (sig_pending() && !passed && ++ticks_since_signal > 10) {
            for (uint32_t i = 0; i < n; i++)
                if (!done[i] && pids[i] > 0)
                    kill(pids[i], SIGUSR1);
            passed = 1;
        }
        nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
    }
    free(done);
}

/* Sets up the round's one target: the embedded server, or --url (with
 * --backend-stats' baseline). 0, or an exit code after a message. */
static int round_target(const struct fb_config *cfg, struct fb_target *t, int *stats_told)
{
    char err[512];

    memset(t, 0, sizeof(*t));
    if (cfg->url) {
        if (target_from_url(t, cfg->url, err, sizeof(err)) < 0
            || (cfg->backend_stats && target_use_backend_stats(t, cfg->backend_stats, err, sizeof(err)) < 0)) {
            fprintf(stderr, "fetchbench: %s (see --help)\n", err);
            return EXIT_USAGE;
        }
        t->cacert = cfg->cacert;
        t->insecure = cfg->insecure;
        if (cfg->backend_stats && target_stats_baseline(t, err, sizeof(err)) < 0 && !*stats_told) {
            fprintf(stderr, "fetchbench: %s\n", err);
            *stats_told = 1;
        }
        return 0;
    }
    if (target_start_embedded(t, cfg->delay_ms, cfg->capacity, &cfg->faults, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    return 0;
}

/* One round's state: the children and what they handed back. */
struct round {
    uint32_t n;
    pid_t pids[CONFIG_MAX_PROCESSES];
    int fds[CONFIG_MAX_PROCESSES];
    int status[CONFIG_MAX_PROCESSES];
    char *text[CONFIG_MAX_PROCESSES];       /* the run object, or NULL: lost */
};

static void round_free(struct round *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->fds[i] >= 0)
            close(r->fds[i]);
        free(r->text[i]);
    }
    memset(r, 0, sizeof(*r));
}

/* Forks the P clients of a round and collects their run objects. 0, or -1
 * when no temporary or process could be made (the ones started are
 * reaped; a message said why). */
static int round_fork(const struct fb_config *cfg, const struct fb_target *t, const struct fb_strategy *st,
                      uint32_t repeat, int warmup, unsigned fetch_cap, struct round *r)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int rc = 0;

    memset(r, 0, sizeof(*r));
    for (uint32_t p = 0; p < cfg->processes; p++)
        r->fds[p] = -1;
    fflush(NULL); /* nothing buffered twice */
    for (uint32_t p = 0; p < cfg->processes && rc == 0; p++) {
        snprintf(path, sizeof(path), "%s/fetchbench-client-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            fprintf(stderr, "fetchbench: cannot make a temporary file for client %" PRIu32 " (%s): %s\n", p, path,
                    strerror(errno));
            rc = -1;
            break;
        }
        unlink(path); /* nothing left behind, whatever kills us */
        r->fds[p] = fd;
        r->n = p + 1;
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fetchbench: cannot start client %" PRIu32 ": %s\n", p, strerror(errno));
            rc = -1;
            break;
        }
        if (pid == 0)
            child_main(cfg, t, st, repeat, warmup, p, fetch_cap, fd);
        r->pids[p] = pid;
    }
    reap(r->pids, r->status, r->n);
    for (uint32_t p = 0; p < r->n; p++) {
        int st_ = r->status[p];
        if (r->pids[p] <= 0)
            continue;
        if (WIFEXITED(st_) && WEXITSTATUS(st_) == 0)
            r->text[p] = slurp(r->fds[p]);
        if (r->text[p] == NULL) {
            if (WIFSIGNALED(st_))
                fprintf(stderr, "fetchbench: client %" PRIu32 " (pid %ld) died by signal %d: its run is not in "
                        "the report\n", p, (long)r->pids[p], WTERMSIG(st_));
            else
                fprintf(stderr, "fetchbench: client %" PRIu32 " (pid %ld) handed back no run (exit %d): its run "
                        "is not in the report\n", p, (long)r->pids[p], WIFEXITED(st_) ? WEXITSTATUS(st_) : -1);
        }
    }
    return rc;
}

int fleet_run(const struct fb_config *cfg, FILE *json, unsigned fetch_cap, uint64_t fd_limit,
              struct fb_mode_runs *modes, struct fb_fleet_result *res)
{
    struct round *r = calloc(1, sizeof(*r));
    int stats_told = 0, code = 0;
    char hostname[256] = "unknown";
    uint32_t rounds = cfg->warmup + cfg->repeat;

    memset(res, 0, sizeof(*res));
    gethostname(hostname, sizeof(hostname) - 1);
    res->fleet = cJSON_CreateObject();
    cJSON *groups = cJSON_CreateArray();
    if (r == NULL || res->fleet == NULL || groups == NULL) {
        cJSON_Delete(groups);
        free(r);
        fputs("fetchbench: out of memory\n", stderr);
        return EXIT_RUN_FAILED;
    }
    cJSON_AddNumberToObject(res->fleet, "processes", cfg->processes);
    cJSON_AddBoolToObject(res->fleet, "same_host", 1);
    cJSON *hosts = cJSON_AddArrayToObject(res->fleet, "hostnames");
    cJSON_AddItemToArray(hosts, cJSON_CreateString(hostname));
    if (cfg->warmup && !cfg->quiet)
        fprintf(stderr, "fetchbench: warm-up: %" PRIu32 " fleet run%s of each mode, not recorded\n", cfg->warmup,
                cfg->warmup == 1 ? "" : "s");
    for (uint32_t round = 0; round < rounds && code == 0; round++) {
        int recorded = round >= cfg->warmup;
        uint32_t repeat = recorded ? round - cfg->warmup : round;
        for (size_t m = 0; m < cfg->nmodes && code == 0; m++) {
            struct fb_target t;
            if ((res->ngroups || !recorded) && sig_pending())
                goto out;
            if ((code = round_target(cfg, &t, &stats_told)) != 0)
                goto out;
            int forked = round_fork(cfg, &t, cfg->modes[m], repeat, !recorded, fetch_cap, r);
            /* The server's own count: every client's requests. */
            struct fb_server_stats ss;
            target_server_stats(&t, 0, &ss);
            free(ss.log);
            target_stop(&t);
            if (forked < 0) {
                round_free(r);
                code = EXIT_RUN_FAILED;
                goto out;
            }
            if (!recorded) {
                round_free(r);
                continue;
            }
            struct fb_summary *per = calloc(r->n ? r->n : 1, sizeof(*per));
            uint32_t clients[CONFIG_MAX_PROCESSES], lost[CONFIG_MAX_PROCESSES];
            struct fleet_durations dur = {0};
            int intr[CONFIG_MAX_PROCESSES];
            size_t n = 0, nlost = 0;
            for (uint32_t p = 0; p < r->n && per; p++) {
                cJSON *run = r->text[p] ? cJSON_Parse(r->text[p]) : NULL;
                char err[256];
                if (run == NULL || summary_from_json(cJSON_GetObjectItemCaseSensitive(run, "summary"), &per[n], err,
                                                     sizeof(err)) < 0
                    || fleet_durations(run, &dur) < 0) {
                    if (r->text[p] != NULL)
                        fprintf(stderr, "fetchbench: client %" PRIu32 "'s run cannot be read back\n", p);
                    free(r->text[p]);
                    r->text[p] = NULL;
                    lost[nlost++] = p;
                    cJSON_Delete(run);
                    continue;
                }
                intr[n] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted"));
                res->failed_runs += per[n].errors_total != 0;
                clients[n++] = p;
                cJSON_Delete(run);
            }
            struct fb_summary agg;
            fleet_sum(per ? per : &agg, per ? n : 0, &dur, ss.valid ? (int64_t)ss.requests : -1, &agg);
            cJSON *g = per ? fleet_group_json(cfg->modes[m]->name, repeat, clients, per, intr, n, lost, nlost, &agg)
                           : NULL;
            free(per);
            fleet_durations_free(&dur);
            if (g == NULL) {
                round_free(r);
                fputs("fetchbench: out of memory\n", stderr);
                code = EXIT_RUN_FAILED;
                goto out;
            }
            if (n == 0) { /* no run to report: the round did not happen */
                cJSON_Delete(g);
                round_free(r);
                res->lost += (int)nlost;
                code = EXIT_RUN_FAILED;
                goto out;
            }
            if (!res->wrote_head) {
                struct fb_report_head h = {cfg, &t, cfg->tasks, fetch_cap, fd_limit};
                struct fb_workload wl0 = {0};
                struct fb_workload_opts wo = {.seed = cfg->seed, .keys = cfg->keys, .zipf_s = cfg->zipf,
                                              .rate_per_s = cfg->rate, .duration_us = (uint64_t)cfg->duration_ms * 1000,
                                              .tasks = cfg->tasks, .max_tasks = 100000000u};
                char err[256];
                if (workload_draw(&wl0, &wo, err, sizeof(err)) == 0)
                    h.ntasks = wl0.ntasks; /* client 0's: the single-process plan */
                workload_free(&wl0);
                if (report_begin(json, &h) < 0) {
                    cJSON_Delete(g);
                    round_free(r);
                    code = EXIT_RUN_FAILED;
                    goto out;
                }
                res->wrote_head = 1;
            }
            for (uint32_t p = 0; p < r->n; p++)
                if (r->text[p] && report_run_text(r->text[p]) < 0) {
                    cJSON_Delete(g);
                    round_free(r);
                    code = EXIT_RUN_FAILED;
                    goto out;
                }
            cJSON_AddItemToArray(groups, g);
            modes[m].runs[modes[m].n++] = agg;
            res->ngroups++;
            res->lost += (int)nlost;
            if (!cfg->quiet) {
                fprintf(stderr, "fetchbench: mode %s, %zu process%s, %" PRId64 " tasks in all: wall %.3f s (the "
                        "slowest) | upstream requests %" PRIu64 " | server saw ", cfg->modes[m]->name, n,
                        n == 1 ? "" : "es", agg.tasks, agg.wall_us / 1e6, agg.upstream_requests);
                if (agg.server_requests >= 0)
                    fprintf(stderr, "%" PRId64, agg.server_requests);
                else
                    fputs("-", stderr);
                fprintf(stderr, " | cache hits %" PRIu64 " | errors %" PRIu64 "\n", agg.cache_hits,
                        agg.errors_total);
            }
            int interrupted = 0;
            for (size_t i = 0; i < n; i++)
                interrupted |= intr[i];
            round_free(r);
            if (nlost) {
                code = EXIT_RUN_FAILED; /* the series stops: the runs so far are kept */
                goto out;
            }
            if (interrupted || sig_pending())
                goto out;
        }
    }
out:
    cJSON_AddNumberToObject(res->fleet, "lost_clients", res->lost);
    cJSON_AddItemToObject(res->fleet, "groups", groups);
    free(r);
    return code;
}
