/* fetchbench: why concurrent code on one event loop still needs a lock.
 * main wires the pieces together: command line -> target -> run(s) ->
 * report, and owns the exit code. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "fdlimit.h"
#include "fleet.h"
#include "merge.h"
#include "outfile.h"
#include "progress.h"
#include "redisd.h"
#include "report.h"
#include "reportcmd.h"
#include "run.h"
#include "strategy.h"
#include "server.h"
#include "sig.h"
#include "stdfds.h"
#include "target.h"
#include "threads.h"
#include "trace.h"

/* A stampede opens a socket per task; the hard limit is ours to take. */
static void raise_fd_limit(int quiet)
{
    unsigned long long was, now;
    if (fdlimit_raise(&was, &now) == 1 && !quiet)
        fprintf(stderr, "fetchbench: raised the open-file limit from %llu to %llu\n", was, now);
}

/* Transfers libcurl may hold at once before the rest queue: what the
 * open-file limit allows, 0 when it sets none. A fresh fetch holds its
 * socket and, while its name resolves, the resolver's socket pair; some
 * descriptors stay for the rest of the process. */
static unsigned fd_budget(uint64_t *limit)
{
    struct rlimit rl;
    *limit = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    *limit = rl.rlim_cur;
    rlim_t spare = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
    return (unsigned)(spare / 3 > 0 ? spare / 3 : 1);
}

/* --backend-stats named no fetchbench serve: the report says so (server
 * null) and the exit code too. */
static int backend_stats_failed;

/* One run and everything gathered about it. */
struct fb_attempt {
    struct fb_target target;
    struct fb_server_stats stats;
    struct fb_run_record rec;
};

static void attempt_free(struct fb_attempt *a)
{
    report_record_free(&a->rec);
    free(a->stats.log);
    threads_reset();
    run_free(a->rec.run);
    target_stop(&a->target);
    memset(a, 0, sizeof(*a));
}

/* Sets up the target, runs, and gathers the record. Returns 0, or an exit
 * code after printing why. */
static int attempt(struct fb_attempt *a, const struct fb_config *cfg, struct fb_run_opts *o)
{
    char err[512];

    memset(a, 0, sizeof(*a));
    if (cfg->url) {
        if (target_from_url(&a->target, cfg->url, err, sizeof(err)) < 0
            || (cfg->backend_stats && target_use_backend_stats(&a->target, cfg->backend_stats, err, sizeof(err)) < 0)) {
            fprintf(stderr, "fetchbench: %s (see --help)\n", err);
            return EXIT_USAGE;
        }
        a->target.cacert = cfg->cacert;
        a->target.insecure = cfg->insecure;
        /* Said once; the runs go on without server counts, and the exit
         * code says so. */
        if (cfg->backend_stats && target_stats_baseline(&a->target, err, sizeof(err)) < 0) {
            if (!backend_stats_failed)
                fprintf(stderr, "fetchbench: %s\n", err);
            backend_stats_failed = 1;
        }
    } else if (target_start_embedded(&a->target, cfg->delay_ms, cfg->capacity, &cfg->faults, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    o->url = a->target.url;
    a->rec.run = run_new(o, err, sizeof(err));
    if (a->rec.run == NULL || run_execute(a->rec.run, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    target_server_stats(&a->target, run_totals(a->rec.run)->t0_us, &a->stats);
    target_stop(&a->target);

    struct fb_run_record *r = &a->rec;
    r->target = &a->target;
    r->server = &a->stats;
    if (threads_snapshot(&r->lives, &r->nlives, &r->samples, &r->nsamples, &r->peak_threads,
                         &r->threads_failed) < 0
        || report_summarize(r) < 0) {
        fputs("fetchbench: out of memory summing the run up\n", stderr);
        return EXIT_RUN_FAILED;
    }
    r->baseline = r->nsamples ? r->samples[0].count : 1;
    return 0;
}

/* Writes a part of an output: opened on first use (a FIFO only then). */
static int write_part(struct fb_outfile *o, int rc_write)
{
    char err[512];
    if (rc_write < 0) {
        snprintf(err, sizeof(err), "writing %s failed: %s", o->kind == OUTFILE_STDOUT ? "stdout" : o->path,
                 strerror(errno ? errno : EIO));
        fprintf(stderr, "fetchbench: %s\n", err);
        return -1;
    }
    return 0;
}

static FILE *stream_of(struct fb_outfile *o)
{
    char err[512];
    FILE *f = outfile_stream(o, err, sizeof(err));
    if (f == NULL)
        fprintf(stderr, "fetchbench: %s\n", err);
    return f;
}

static int commit(struct fb_outfile *o)
{
    char err[512];
    if (outfile_commit(o, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        return -1;
    }
    return 0;
}

/* A trace that cannot be written costs the trace, not the report. */
static FILE *drop_trace(struct fb_outfile *o, int *failed)
{
    outfile_abort(o);
    *failed = 1;
    return NULL;
}

/* A line per verdict, held or not; with --quiet only the failed ones, in
 * the words scripts grep for. */
static void print_verdicts(const struct fb_verdict *v, size_t n, int quiet, int utf8)
{
    for (size_t i = 0; i < n; i++) {
        if (!quiet) {
            expect_print(stderr, &v[i], utf8);
            continue;
        }
        if (v[i].ok)
            continue;
        if (v[i].known)
            fprintf(stderr, "fetchbench: expectation failed: %s for %s (actual %g)\n", v[i].e->text, v[i].mode,
                    v[i].actual);
        else
            fprintf(stderr, "fetchbench: expectation failed: %s for %s (no value for %s)\n", v[i].e->text,
                    v[i].mode, v[i].e->metric);
    }
}

/* hyperfine's block for a mode's --repeat runs: mean ± σ and range of the
 * wall time, then of the counts that tell strategies apart, each with the
 * median the report keeps. */
static void print_repeats(const char *mode, const struct fb_summary *runs, size_t n,
                          const struct fb_summary *median, int utf8)
{
    static const struct {
        const char *metric, *label;
    } counts[] = {
        {"upstream_requests", "upstream requests"}, {"server_requests", "server saw"},
        {"cache_hits", "cache hits"}, {"stampede_max", "stampede max"}, {"errors", "errors"},
    };
    const char *pm = utf8 ? "±" : "+/-", *to = utf8 ? "…" : "...", *sigma = utf8 ? "σ" : "sd";
    double mean, sd, lo, hi, med;

    fprintf(stderr, "fetchbench: %s over %zu runs\n", mode, n);
    if (summary_spread(runs, n, "wall_us", &mean, &sd, &lo, &hi) && metric_value(median, "wall_us", &med) == 0) {
        double unit = mean >= 1e6 ? 1e6 : 1e3;
        const char *u = unit == 1e6 ? "s" : "ms";
        fprintf(stderr, "  Time (mean %s %s):   %8.3f %s %s %8.3f %s    median %.3f %s\n", pm, sigma, mean / unit, u,
                pm, sd / unit, u, med / unit, u);
        fprintf(stderr, "  Range (min %s max): %8.3f %s %s %8.3f %s\n", to, lo / unit, u, to, hi / unit, u);
    }
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        if (summary_spread(runs, n, counts[i].metric, &mean, &sd, &lo, &hi) == 0
            || metric_value(median, counts[i].metric, &med) < 0)
            continue;
        fprintf(stderr, "  %-18s %g %s %.3g  (%g %s %g)  median %g\n", counts[i].label, mean, pm, sd, lo, to, hi,
                med);
    }
}

/* The target answered like a fetchbench serve: its X-Queue-Us made the
 * request phase split at in_service (timeline.c), on some task's fetch. */
static int answered_like_serve(struct fb_run *run)
{
    const struct fb_run_totals *t = run_totals(run);
    struct fb_task_view v;

    for (uint32_t i = 0; i < t->ntasks; i++) {
        if (run_task_view(run, i, &v) < 0)
            return 0;
        for (int k = 0; k < v.nspans; k++)
            if (strcmp(run_state_name(run, v.spans[k].state), "in_service") == 0)
                return 1;
    }
    return 0;
}

/* Hints about a --url target, each said once, after the run that shows it. */
static void print_hints(const struct fb_config *cfg, struct fb_attempt *a)
{
    static int told_resolver, told_serve;

    if (cfg->quiet || cfg->url == NULL)
        return;
    if (!told_resolver && !a->target.host_resolved)
        fprintf(stderr, "fetchbench: hint: libcurl resolves %s without a resolver thread, so threads_created "
                        "will be 0\n", a->target.host);
    told_resolver = 1;
    if (!told_serve && cfg->backend_stats == NULL && answered_like_serve(a->rec.run)) {
        const char *url = a->target.shown_url, *scheme = strstr(url, "://");
        const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
        int len = path ? (int)(path - url) : (int)strlen(url);
        fprintf(stderr, "fetchbench: hint: the URL is a fetchbench serve: --backend-stats %.*s/stats gives the "
                        "server's own counts\n", len, url);
        told_serve = 1;
    }
}

/* A terminal gets no JSON: the report goes to a new file in the current
 * directory, fetchbench-YYYYMMDD-HHMMSS[-N].json. The name is taken now,
 * by creating it empty (never an existing file), and the report replaces
 * it atomically like any --output. Returns 0, or -1 with errno. */
static int reserve_report_name(char *path, size_t n)
{
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);

    if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    for (unsigned i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(path, n, "fetchbench-%s.json", stamp);
        else
            snprintf(path, n, "fetchbench-%s-%u.json", stamp, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return close(fd);
        if (errno != EEXIST)
            return -1;
    }
    return -1; /* errno is EEXIST */
}

static int run_main(int argc, char **argv)
{
    struct fb_config cfg;
    struct fb_outfile json_out = {0}, trace_out = {0};
    struct fb_attempt a;
    struct fb_workload wl = {0};
    struct fb_mode_runs modes[CONFIG_MAX_MODES];
    struct fb_verdict *verdicts = NULL;
    size_t nverdicts = 0;
    char err[512];
    int code, guard_json = -1, guard_trace = -1, guard_auto = -1, utf8 = progress_utf8();
    FILE *json = NULL, *trace = NULL;
    char auto_path[64] = "";    /* the report's own file when stdout is a terminal */
    int auto_reserved = 0;      /* auto_path is our empty placeholder, to remove on failure */
    cJSON *fleet = NULL;        /* --processes: the report's "fleet" member, until written */

    memset(&a, 0, sizeof(a));
    memset(modes, 0, sizeof(modes));
    if (cli_parse(argc, argv, &cfg, &code) < 0)
        goto out;
    /* Before any run, so a bad path costs nothing. No --output is "-". */
    const char *json_path = cfg.output ? cfg.output : "-";
    code = EXIT_USAGE;
    if (stdfds_closed(STDOUT_FILENO)
        && (outfile_is_stdout(json_path) || (cfg.trace && outfile_is_stdout(cfg.trace)))) {
        fputs("fetchbench: stdout is closed; use --output FILE\n", stderr);
        goto out;
    }
    if (cfg.trace && outfile_same(json_path, cfg.trace)) {
        fprintf(stderr, "fetchbench: --trace %s: the same file as the report%s (see --help)\n", cfg.trace,
                cfg.output ? "'s --output" : " on stdout");
        goto out;
    }
    struct fb_workload_opts wo = {
        .seed = cfg.seed,
        .keys = cfg.keys,
        .zipf_s = cfg.zipf,
        .rate_per_s = cfg.rate,
        .duration_us = (uint64_t)cfg.duration_ms * 1000,
        .tasks = cfg.tasks,
        .max_tasks = 100000000u,
    };
    int drawn = workload_draw(&wl, &wo, err, sizeof(err));
    if (drawn < 0) {
        fprintf(stderr, "fetchbench: %s%s\n", err, drawn == -1 ? " (see --help)" : "");
        code = drawn == -1 ? EXIT_USAGE : EXIT_RUN_FAILED;
        goto out;
    }
    if (wl.ntasks == 0) {
        fprintf(stderr, "fetchbench: --duration %g s at --rate %g/s drew no arrival: nothing to run (see --help)\n",
                cfg.duration_ms / 1e3, cfg.rate);
        goto out;
    }
    if (cfg.output == NULL && isatty(STDOUT_FILENO)) {
        if (reserve_report_name(auto_path, sizeof(auto_path)) < 0) {
            fprintf(stderr, "fetchbench: stdout is a terminal and no report file could be made in the current "
                            "directory (%s): %s; use --output FILE or a pipe\n", auto_path, strerror(errno));
            goto out;
        }
        auto_reserved = 1;
        json_path = auto_path;
        guard_auto = sig_guard_path(auto_path);
    }
    if (outfile_open(&json_out, json_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: --output: %s\n", err);
        goto out;
    }
    if (cfg.trace && outfile_open(&trace_out, cfg.trace, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: --trace: %s\n", err);
        goto out;
    }
    /* A second ^C kills us wherever we are: the temporaries go with us. */
    guard_json = outfile_tmp_path(&json_out) ? sig_guard_path(outfile_tmp_path(&json_out)) : -1;
    guard_trace = outfile_tmp_path(&trace_out) ? sig_guard_path(outfile_tmp_path(&trace_out)) : -1;
    for (size_t m = 0; m < cfg.nmodes; m++) {
        modes[m].mode = cfg.modes[m]->name;
        modes[m].runs = calloc(cfg.repeat, sizeof(*modes[m].runs));
    }
    verdicts = calloc(cfg.nexpects * cfg.nmodes + 1, sizeof(*verdicts));
    code = EXIT_RUN_FAILED;
    for (size_t m = 0; m < cfg.nmodes; m++)
        if (modes[m].runs == NULL)
            verdicts = NULL;
    if (verdicts == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("fetchbench: cannot initialise (out of memory?)\n", stderr);
        goto out;
    }
    raise_fd_limit(cfg.quiet);
    /* The embedded redis-server, one for the whole invocation: started
     * before the report's head (which names it) and before a fleet's
     * clients fork (so that they share it). */
    if (cfg.store && strcmp(cfg.store, "redis") == 0) {
        int port;
        if (redisd_ensure(&port, err, sizeof(err)) < 0) {
            fprintf(stderr, "fetchbench: %s\n", err);
            goto out_curl;
        }
    }

    /* --max-connections above what the descriptors allow would fail its
     * connects with EMFILE: the fetches beyond the budget queue instead. */
    uint64_t fd_limit;
    unsigned budget = fd_budget(&fd_limit), fetch_cap = cfg.max_connections;
    int fd_bound = budget && (fetch_cap == 0 || budget < fetch_cap);
    if (fd_bound)
        fetch_cap = budget;

    int failed_runs = 0, throttle_told = 0, wrote_head = 0, trace_failed = 0, lost = 0;
    unsigned nran = 0;

    /* --processes P: the same rounds, each made by P client processes
     * (fleet.c); then the same verdicts and tail, judged on the fleet. */
    if (cfg.processes > 1) {
        struct fb_fleet_result fr;
        if ((json = stream_of(&json_out)) == NULL)
            goto write_failed;
        int rc = fleet_run(&cfg, json, fetch_cap, fd_limit, modes, &fr);
        fleet = fr.fleet;
        wrote_head = fr.wrote_head;
        nran = fr.ngroups;
        failed_runs = fr.failed_runs;
        lost = fr.lost;
        if (rc != 0 && !wrote_head) {
            code = rc;
            goto out_curl;
        }
        goto done;
    }
    /* Warm-up: the same runs, interleaved the same way, thrown away (a
     * cold page cache, CPU frequency, the server's first accept). A signal
     * ends it; the first recorded run then starts cancelled, so the report
     * says interrupted. */
    if (cfg.warmup && !cfg.quiet)
        fprintf(stderr, "fetchbench: warm-up: %" PRIu32 " run%s of each mode, not recorded\n", cfg.warmup,
                cfg.warmup == 1 ? "" : "s");
    for (uint32_t round = 0; round < cfg.warmup && !sig_pending(); round++) {
        for (size_t m = 0; m < cfg.nmodes && !sig_pending(); m++) {
            struct fb_run_opts o = {
                .cfg = &cfg,
                .strategy = cfg.modes[m],
                .workload = &wl,
                .fetch_cap = fetch_cap,
                .repeat = round,
                .warmup = 1,
            };
            int rc = attempt(&a, &cfg, &o);
            if (rc == 0)
                print_hints(&cfg, &a);
            attempt_free(&a);
            if (rc != 0) {
                code = rc;
                goto out_curl;
            }
        }
    }
    /* Every mode once per round, rounds --repeat times: a b a b. A signal
     * between two runs ends the series: the report keeps the runs done so
     * far. One before the first run still makes a (cancelled) run. */
    for (uint32_t round = 0; round < cfg.repeat; round++) {
        for (size_t m = 0; m < cfg.nmodes; m++) {
            if (nran && sig_pending())
                goto done;
            if (nran)
                attempt_free(&a);
            struct fb_run_opts o = {
                .cfg = &cfg,
                .strategy = cfg.modes[m],
                .workload = &wl,
                .fetch_cap = fetch_cap,
                .repeat = round,
            };
            int rc = attempt(&a, &cfg, &o);
            if (rc != 0) {
                code = rc;
                if (!wrote_head)
                    goto out_curl;
                goto done; /* the runs so far are kept */
            }
            nran++;
            struct fb_run_record *r = &a.rec;
            const struct fb_run_totals *t = run_totals(r->run);
            modes[m].runs[modes[m].n++] = r->summary;
            failed_runs += r->summary.errors_total != 0;
            if (!wrote_head) {
                struct fb_report_head h = {&cfg, &a.target, wl.ntasks, fetch_cap, fd_limit};
                json = stream_of(&json_out);
                if (json == NULL || write_part(&json_out, report_begin(json, &h)) < 0)
                    goto write_failed;
                if (cfg.trace && ((trace = stream_of(&trace_out)) == NULL
                                  || write_part(&trace_out, trace_begin(trace, cfg.trace_tasks)) < 0))
                    trace = drop_trace(&trace_out, &trace_failed);
                wrote_head = 1;
            }
            if (write_part(&json_out, report_run(r)) < 0)
                goto write_failed;
            if (trace && write_part(&trace_out, trace_run(r, nran - 1)) < 0)
                trace = drop_trace(&trace_out, &trace_failed);
            if (fd_bound && t->waited_for_slot && !throttle_told && !cfg.quiet) {
                fprintf(stderr, "fetchbench: the open-file limit (%" PRIu64 ") let at most %u fetches run at "
                        "once; %" PRIu64 " waited for a slot (config.fetch_cap; raise the limit with "
                        "ulimit -n)\n", fd_limit, fetch_cap, t->waited_for_slot);
                throttle_told = 1;
            }
            print_hints(&cfg, &a);
            if (!cfg.quiet)
                report_print_run(stderr, r);
            if (t->overran)
                fprintf(stderr, "fetchbench: the run reached the 71-minute limit of a run and was stopped\n");
            if (t->interrupted)
                goto done;
        }
    }
done:
    /* Each mode judged on its median run. */
    for (size_t m = 0; m < cfg.nmodes; m++) {
        if (modes[m].n == 0)
            continue;
        struct fb_summary med, min, max;
        summary_aggregate(modes[m].runs, modes[m].n, &med, &min, &max);
        for (size_t i = 0; i < cfg.nexpects; i++)
            if (expect_applies(&cfg.expects[i], modes[m].mode))
                expect_judge(&cfg.expects[i], modes[m].mode, &med, &verdicts[nverdicts++]);
        if (modes[m].n > 1 && !cfg.quiet)
            print_repeats(modes[m].mode, modes[m].runs, modes[m].n, &med, utf8);
    }
    int rc_end = report_end_fleet(modes, cfg.nmodes, verdicts, nverdicts, (int)cfg.repeat, fleet);
    fleet = NULL; /* the report's now */
    if (write_part(&json_out, rc_end) < 0 || commit(&json_out) < 0)
        goto write_failed;
    if (lost)
        fprintf(stderr, "fetchbench: %d client process%s lost: the report has the others' runs (fleet.groups[].lost)\n",
                lost, lost == 1 ? "" : "es");
    if (auto_reserved) {
        /* It holds the report now: no longer ours to remove. */
        sig_forget(guard_auto);
        guard_auto = -1;
        auto_reserved = 0;
    }
    if (trace && (write_part(&trace_out, trace_end()) < 0 || commit(&trace_out) < 0))
        trace = drop_trace(&trace_out, &trace_failed);
    uint64_t aggregated;
    unsigned capped_runs;
    trace_aggregated(&aggregated, &capped_runs);
    if (trace && aggregated && !cfg.quiet)
        fprintf(stderr, "fetchbench: the trace has at most %u task tracks per run (--trace-tasks): %" PRIu64
                " tasks of %u run%s are in its \"tasks in STATE\" counters instead\n", cfg.trace_tasks, aggregated,
                capped_runs, capped_runs == 1 ? "" : "s");
    print_verdicts(verdicts, nverdicts, cfg.quiet, utf8);
    /* Said even with --quiet: the name was not the user's. */
    if (auto_path[0])
        fprintf(stderr, "fetchbench: report written to %s\n", auto_path);
    size_t unmet = 0;
    for (size_t i = 0; i < nverdicts; i++)
        unmet += !verdicts[i].ok;

    /* Whenever the signal came, even after the report was complete. */
    if (sig_pending())
        code = 128 + sig_pending();
    else if (failed_runs || trace_failed || backend_stats_failed || lost || nran < cfg.repeat * cfg.nmodes)
        code = EXIT_RUN_FAILED; /* tasks failed, the trace, --backend-stats, or a later run could not start */
    else if (unmet)
        code = EXIT_EXPECTATION;
    else
        code = EXIT_OK;
    goto out_curl;

write_failed:
    outfile_abort(&json_out);
    outfile_abort(&trace_out);
    code = EXIT_RUN_FAILED;
out_curl:
    cJSON_Delete(fleet);
    attempt_free(&a);
    curl_global_cleanup();
out:
    /* Removes any temporary left; safe on a committed or unopened output. */
    outfile_abort(&json_out);
    outfile_abort(&trace_out);
    sig_forget(guard_json);
    sig_forget(guard_trace);
    if (auto_reserved)
        unlink(auto_path); /* the empty name taken for a report that never came */
    sig_forget(guard_auto);
    for (size_t m = 0; m < CONFIG_MAX_MODES; m++)
        free(modes[m].runs);
    free(verdicts);
    workload_free(&wl);
    config_free(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    /* First: while fd 0, 1 or 2 is closed, the next file or socket lands
     * there and a message to stderr would go into it. */
    if (stdfds_guard() < 0) {
        fprintf(stderr, "fetchbench: cannot put /dev/null on a closed standard descriptor: %s\n",
                strerror(errno));
        return EXIT_RUN_FAILED;
    }
    /* A closed reader of our stdout is a write error, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return server_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "compare") == 0)
        return compare_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return report_cmd_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return merge_main(argc - 1, argv + 1);
    /* Before anything that could be interrupted: a signal at any moment from
     * here on ends in a report marked interrupted (sig.h). */
    if (sig_init() < 0) {
        perror("fetchbench: cannot set up signal handling");
        return EXIT_RUN_FAILED;
    }
    return run_main(argc, argv);
}
