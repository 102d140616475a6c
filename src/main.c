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
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "fdlimit.h"
#include "outfile.h"
#include "report.h"
#include "run.h"
#include "server.h"
#include "sig.h"
#include "stdfds.h"
#include "target.h"
#include "threads.h"
#include "trace.h"

/* One run and everything gathered about it. */
struct fb_attempt {
    struct fb_target target;
    struct fb_run run;
    struct fb_server_stats stats;
    struct fb_report report;
    int ran;                    /* run_execute succeeded */
};

/* A stampede opens a socket per task; the hard limit is ours to take. */
static void raise_fd_limit(int quiet)
{
    unsigned long long was, now;
    if (fdlimit_raise(&was, &now) == 1 && !quiet)
        fprintf(stderr, "fetchbench: raised the open-file limit from %llu to %llu\n", was, now);
}

static void attempt_free(struct fb_attempt *a)
{
    free(a->report.lives);
    free(a->report.samples);
    free(a->stats.log);
    threads_reset();
    if (a->ran)
        run_free(&a->run);
    target_stop(&a->target);
    memset(a, 0, sizeof(*a));
}

/* Sets up the target, runs, and gathers the report. Returns 0, or an exit
 * code after printing why. */
static int attempt(struct fb_attempt *a, const struct fb_config *cfg)
{
    char err[512];

    memset(a, 0, sizeof(*a));
    if (cfg->url) {
        if (target_from_url(&a->target, cfg->url, err, sizeof(err)) < 0) {
            fprintf(stderr, "fetchbench: %s (see --help)\n", err);
            return EXIT_USAGE;
        }
    } else if (target_start_embedded(&a->target, cfg->delay_ms, cfg->capacity, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    if (run_execute(&a->run, cfg, a->target.url) < 0) {
        fprintf(stderr, "fetchbench: %s\n", a->run.errbuf);
        run_free(&a->run);
        return EXIT_RUN_FAILED;
    }
    a->ran = 1;
    target_server_stats(&a->target, a->run.t0_us, &a->stats);
    target_stop(&a->target);

    struct fb_report *r = &a->report;
    r->run = &a->run;
    r->target = &a->target;
    r->server = &a->stats;
    if (threads_snapshot(&r->lives, &r->nlives, &r->samples, &r->nsamples, &r->peak_threads,
                         &r->threads_failed) < 0) {
        fputs("fetchbench: out of memory reading the thread log\n", stderr);
        return EXIT_RUN_FAILED;
    }
    r->baseline = r->nsamples ? r->samples[0].count : 1;
    report_summarize(r);
    return 0;
}

/* Writes one output and commits it: renamed into place, or flushed. */
static int write_output(struct fb_outfile *o, int (*write)(FILE *, const struct fb_report *),
                        const struct fb_report *r)
{
    char err[512];
    FILE *f = outfile_stream(o, err, sizeof(err));

    errno = 0;
    if (f && write(f, r) < 0) {
        snprintf(err, sizeof(err), "writing %s failed: %s", o->kind == OUTFILE_STDOUT ? "stdout" : o->path,
                 strerror(errno ? errno : EIO));
        f = NULL;
    }
    if (f == NULL || outfile_commit(o, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: %s\n", err);
        outfile_abort(o);
        return -1;
    }
    return 0;
}

static int run_main(int argc, char **argv)
{
    struct fb_config cfg;
    struct fb_outfile json_out = {0}, trace_out = {0};
    struct fb_attempt a;
    struct fb_summary *runs = NULL;
    char err[512];
    int code, guard_json = -1, guard_trace = -1;

    memset(&a, 0, sizeof(a));
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
    runs = calloc(cfg.repeat, sizeof(*runs));
    if (runs == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("fetchbench: cannot initialise (out of memory?)\n", stderr);
        code = EXIT_RUN_FAILED;
        goto out;
    }
    raise_fd_limit(cfg.quiet);

    size_t nruns = 0;
    int failed_runs = 0, throttle_told = 0;
    /* A signal between two runs ends the series: the report keeps the runs
     * done so far. One before the first run still makes a (cancelled) run. */
    for (uint32_t i = 0; i < cfg.repeat && !(i && sig_pending()); i++) {
        if (i)
            attempt_free(&a);
        if ((code = attempt(&a, &cfg)) != 0)
            goto out_curl;
        runs[nruns++] = a.report.summary;
        failed_runs += a.report.summary.errors_total != 0;
        if (a.run.fd_bound && a.run.xfer.waited && !throttle_told && !cfg.quiet) {
            fprintf(stderr, "fetchbench: the open-file limit (%" PRIu64 ") let at most %u fetches run at "
                    "once; %" PRIu64 " waited for a slot (config.fetch_cap; raise the limit with "
                    "ulimit -n)\n", a.run.fd_limit, a.run.fetch_cap, a.run.xfer.waited);
            throttle_told = 1;
        }
        if (cfg.repeat > 1 && !cfg.quiet)
            fprintf(stderr, "fetchbench: run %u/%u: %.3f s, %" PRIu64 " upstream requests\n", i + 1,
                    cfg.repeat, a.report.summary.wall_us / 1e6, a.report.summary.upstream_requests);
        if (a.run.interrupted)
            break;
    }

    struct fb_report *r = &a.report;
    struct fb_summary median = r->summary, min, max;
    if (nruns > 1) {
        r->runs = runs;
        r->nruns = nruns;
        summary_aggregate(runs, nruns, &median, &min, &max);
    }
    size_t unmet = expect_check(cfg.expects, cfg.nexpects, &median);
    r->expects = cfg.expects;
    r->nexpects = cfg.nexpects;

    if (write_output(&json_out, report_write_json, r) < 0
        || (cfg.trace && write_output(&trace_out, trace_write, r) < 0)) {
        code = EXIT_RUN_FAILED;
        goto out_curl;
    }
    if (!cfg.quiet)
        report_print_summary(stderr, r);
    for (size_t i = 0; i < cfg.nexpects; i++) {
        const struct fb_expect *e = &cfg.expects[i];
        if (!e->ok && e->known)
            fprintf(stderr, "fetchbench: expectation failed: %s (actual %g)\n", e->text, e->actual);
        else if (!e->ok)
            fprintf(stderr, "fetchbench: expectation failed: %s (no value for %s)\n", e->text, e->metric);
    }

    /* Whenever the signal came, even after the report was complete. */
    if (sig_pending())
        code = 128 + sig_pending();
    else if (failed_runs)
        code = EXIT_RUN_FAILED;
    else if (unmet)
        code = EXIT_EXPECTATION;
    else
        code = EXIT_OK;

out_curl:
    attempt_free(&a);
    curl_global_cleanup();
out:
    /* Removes any temporary left; safe on a committed or unopened output. */
    outfile_abort(&json_out);
    outfile_abort(&trace_out);
    sig_forget(guard_json);
    sig_forget(guard_trace);
    free(runs);
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
    /* Before anything that could be interrupted: a signal at any moment from
     * here on ends in a report marked interrupted (sig.h). */
    if (sig_init() < 0) {
        perror("fetchbench: cannot set up signal handling");
        return EXIT_RUN_FAILED;
    }
    return run_main(argc, argv);
}
