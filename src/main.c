/* fetchbench: why concurrent code on one event loop still needs a lock.
 * main wires the pieces together: command line -> target -> run -> report. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "outfile.h"
#include "report.h"
#include "run.h"
#include "server.h"
#include "target.h"
#include "threads.h"

static void die_run(const char *what)
{
    fprintf(stderr, "fetchbench: %s\n", what);
}

/* A stampede opens a socket per task; the hard limit is ours to take. */
static void raise_fd_limit(int quiet)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && !quiet)
        fprintf(stderr, "fetchbench: raised the open-file limit from %llu to %llu\n",
                (unsigned long long)was, (unsigned long long)rl.rlim_max);
}

static int run_main(int argc, char **argv)
{
    struct fb_config cfg;
    struct fb_outfile out = {0};
    struct fb_target target;
    struct fb_server_stats stats = {0};
    struct fb_run run;
    struct fb_report rep = {0};
    char err[512];
    int code;

    if (cli_parse(argc, argv, &cfg, &code) < 0)
        return code;
    /* Before the run, so a bad path costs nothing. */
    if (cfg.output && outfile_open(&out, cfg.output, err, sizeof(err)) < 0) {
        fprintf(stderr, "fetchbench: --output: %s\n", err);
        return EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        die_run("libcurl failed to initialise");
        code = EXIT_RUN_FAILED;
        goto out_file;
    }
    if (cfg.url) {
        if (target_from_url(&target, cfg.url, err, sizeof(err)) < 0) {
            fprintf(stderr, "fetchbench: %s (see --help)\n", err);
            code = EXIT_USAGE;
            goto out_curl;
        }
    } else if (target_start_embedded(&target, cfg.delay_ms, cfg.capacity, err, sizeof(err)) < 0) {
        die_run(err);
        code = EXIT_RUN_FAILED;
        goto out_curl;
    }
    raise_fd_limit(cfg.quiet);

    if (run_execute(&run, &cfg, target.url) < 0) {
        die_run(run.errbuf);
        code = EXIT_RUN_FAILED;
        goto out_run;
    }
    target_server_stats(&target, &stats);
    target_stop(&target);

    rep.run = &run;
    rep.target = &target;
    rep.server = &stats;
    if (threads_snapshot(&rep.lives, &rep.nlives, &rep.samples, &rep.nsamples, &rep.peak_threads) < 0) {
        die_run("out of memory reading the thread log");
        code = EXIT_RUN_FAILED;
        goto out_run;
    }
    rep.baseline = rep.nsamples ? rep.samples[0].count : 1;

    FILE *f = out.f ? out.f : stdout;
    if (report_write_json(f, &rep) < 0) {
        die_run("writing the report failed");
        code = EXIT_RUN_FAILED;
        goto out_run;
    }
    if (out.f) {
        if (outfile_commit(&out, err, sizeof(err)) < 0) {
            die_run(err);
            code = EXIT_RUN_FAILED;
            goto out_run;
        }
    }
    if (!cfg.quiet)
        report_print_summary(stderr, &rep);

    if (run.interrupted)
        code = 128 + run.interrupted;
    else
        code = run_errors_total(&run) ? EXIT_RUN_FAILED : EXIT_OK;

out_run:
    free(rep.lives);
    free(rep.samples);
    free(stats.log);
    threads_reset();
    run_free(&run);
    target_stop(&target);
out_curl:
    curl_global_cleanup();
out_file:
    if (out.f)
        outfile_abort(&out);
    return code;
}

int main(int argc, char **argv)
{
    /* A closed reader of our stdout is a write error, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return server_main(argc - 1, argv + 1);
    return run_main(argc, argv);
}
