/* fetchbench: why concurrent code on one event loop still needs a lock.
 * main wires the pieces together: command line -> target -> run(s) ->
 * report, and owns the exit code. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "fdlimit.h"
#include "outfile.h"
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

static void print_verdicts(const struct fb_verdict *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
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
    int code, guard_json = -1, guard_trace = -1;
    FILE *json = NULL, *trace = NULL;

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

    /* --max-connections above what the descriptors allow would fail its
     * connects with EMFILE: the fetches beyond the budget queue instead. */
    uint64_t fd_limit;
    unsigned budget = fd_budget(&fd_limit), fetch_cap = cfg.max_connections;
    int fd_bound = budget && (fetch_cap == 0 || budget < fetch_cap);
    if (fd_bound)
        fetch_cap = budget;

    int failed_runs = 0, throttle_told = 0, wrote_head = 0, trace_failed = 0;
    unsigned nran = 0;
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
            fprintf(stderr, "fetchbench: %s over %zu runs: wall median %.3f s (%.3f .. %.3f), "
                    "upstream requests median %" PRIu64 "\n", modes[m].mode, modes[m].n, med.wall_us / 1e6,
                    min.wall_us / 1e6, max.wall_us / 1e6, med.upstream_requests);
    }
    if (write_part(&json_out, report_end(modes, cfg.nmodes, verdicts, nverdicts, (int)cfg.repeat)) < 0
        || commit(&json_out) < 0)
        goto write_failed;
    if (trace && (write_part(&trace_out, trace_end()) < 0 || commit(&trace_out) < 0))
        trace = drop_trace(&trace_out, &trace_failed);
    uint64_t aggregated;
    unsigned capped_runs;
    trace_aggregated(&aggregated, &capped_runs);
    if (trace && aggregated && !cfg.quiet)
        fprintf(stderr, "fetchbench: the trace has at most %u task tracks per run (--trace-tasks): %" PRIu64
                " tasks of %u run%s are in its \"tasks in STATE\" counters instead\n", cfg.trace_tasks, aggregated,
                capped_runs, capped_runs == 1 ? "" : "s");
    print_verdicts(verdicts, nverdicts);
    size_t unmet = 0;
    for (size_t i = 0; i < nverdicts; i++)
        unmet += !verdicts[i].ok;

    /* Whenever the signal came, even after the report was complete. */
    if (sig_pending())
        code = 128 + sig_pending();
    else if (failed_runs || trace_failed || backend_stats_failed || nran < cfg.repeat * cfg.nmodes)
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
    attempt_free(&a);
    curl_global_cleanup();
out:
    /* Removes any temporary left; safe on a committed or unopened output. */
    outfile_abort(&json_out);
    outfile_abort(&trace_out);
    sig_forget(guard_json);
    sig_forget(guard_trace);
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
    /* Before anything that could be interrupted: a signal at any moment from
     * here on ends in a report marked interrupted (sig.h). */
    if (sig_init() < 0) {
        perror("fetchbench: cannot set up signal handling");
        return EXIT_RUN_FAILED;
    }
    return run_main(argc, argv);
}
