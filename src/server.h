#ifndef FB_SERVER_H
#define FB_SERVER_H

#include <stddef.h>

/* The test server `fetchbench serve`: GET /delay/<ms>[/url/<anything>]
 * answers a ~1 KB HTML page <ms> after the request enters service, with at
 * most `capacity` requests in service and the rest waiting in FIFO order;
 * GET /stats[?log=1] reports the counters as JSON. Faults (faults.h) are
 * decided on arrival and carried out when the delay is over. */

struct fb_faults;

/* Opens a listening TCP socket on addr:port (port 0 = ephemeral), non-blocking, SO_REUSEADDR, large backlog. Returns the fd and stores the bound port in *port_out, or returns -1 with a one-line reason in err. */
int server_listen(const char *addr, int port, int *port_out, char *err, size_t errlen);

/* Serves on listen_fd (takes ownership) with at most `capacity` requests in service at once (0 = unlimited), injecting faults (NULL: none; see faults.h) until stop_signal arrives; stop_signal 0 means SIGINT or SIGTERM, any other signal number means only that one, SIGINT and SIGTERM then keeping the dispositions the caller gave them. Returns 0, or -1 after printing one line to stderr. Creates and frees its own event_base. Ignores SIGPIPE for the whole process. */
int server_run(int listen_fd, int capacity, const struct fb_faults *faults, int stop_signal);

/* `fetchbench serve [--port P] [--bind ADDR] [--capacity K] [--fail-rate P] [--fail-first N] [--reset-rate P] [--hang-rate P] [--jitter-ms J] [--seed N]`: argv[0] is "serve". Returns the process exit code: 0 ok, 2 usage error (one line naming the bad flag/value), 1 when it cannot run (port in use, bad bind address). */
int server_main(int argc, char **argv);

#endif
