#ifndef FB_SIG_H
#define FB_SIG_H

/* SIGINT and SIGTERM for the whole life of the process, not only while the
 * loop runs. The first signal is remembered and wakes the loop through a
 * pipe; everything after reads it with sig_pending() and winds down: the
 * report is still written, marked interrupted, and the exit code is
 * 128 + signal. A second SIGINT or SIGTERM ends the process at once, by the
 * signal's default action, after unlinking any temporary file registered
 * here — whatever disposition the parent shell gave us (a shell starts
 * background jobs with SIGINT ignored). */

/* Installs the handlers and makes the wake-up pipe. Call first thing, before
 * any thread or child exists. Returns 0, or -1 (no pipe: errno). */
int sig_init(void);

/* The first signal received (SIGINT or SIGTERM), or 0. Async-signal-safe. */
int sig_pending(void);

/* A descriptor that becomes readable when the first signal arrives (the
 * loop watches it); sig_drain empties it. -1 before sig_init. */
int sig_fd(void);
void sig_drain(void);

/* Registers a temporary file to unlink should a second signal kill the
 * process; path is copied. Returns a handle for sig_forget, or -1 when the
 * table is full (then the file may be left behind). */
int sig_guard_path(const char *path);
void sig_forget(int handle);

/* In a forked child that must not react to the group's signals (a terminal's
 * ^C goes to the whole process group): ignores SIGINT and SIGTERM and closes
 * the pipe. */
void sig_child_detach(void);

#endif
