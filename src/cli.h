#ifndef FB_CLI_H
#define FB_CLI_H

#include <stdio.h>

#include "config.h"

/* Exit codes, documented in --help and the README. */
enum {
    EXIT_OK = 0,
    EXIT_RUN_FAILED = 1,        /* the run could not be done, or tasks failed */
    EXIT_USAGE = 2,             /* a bad flag or value */
    EXIT_EXPECTATION = 3,       /* the run worked; an --expect did not hold */
};

/* Parses the run's command line into cfg. Returns -1 when the process should
 * exit with *exit_code (usage error: one line on stderr; --help, --version:
 * printed on stdout), else 0. */
int cli_parse(int argc, char **argv, struct fb_config *cfg, int *exit_code);
void cli_usage(FILE *f);

#endif
