#ifndef FB_REDISD_H
#define FB_REDISD_H

#include <stddef.h>

/* The embedded redis-server behind `--store redis` without an address: one
 * for the whole invocation, started on first use on an ephemeral loopback
 * port in a temporary directory, with no persistence and no config file,
 * and stopped at exit (atexit; a second signal kills the process, and the
 * server dies with it through PR_SET_PDEATHSIG). */

/* Starts it unless it runs; its port in *port. 0, or -1 with a one-line
 * reason in err. */
int redisd_ensure(int *port, char *err, size_t errlen);
/* Its port while it runs, else 0. */
int redisd_port(void);
/* Stops it (SIGTERM, then SIGKILL after 2 s) if it runs. */
void redisd_stop(void);

#endif
