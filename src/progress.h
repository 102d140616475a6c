#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

struct fb_run;
struct event;
struct event_base;

/* A one-line progress display on stderr, redrawn four times a second from
 * the run's loop: tasks done, tasks waiting (for a lock, another task, a
 * slot), requests made, time so far and an estimate of the time left. Cut
 * to the terminal's width, never wrapped (a wrapped line cannot be redrawn
 * in place). Only for a terminal (cfg->progress); plain text when NO_COLOR
 * is set. Reads the run's totals and workload only. Returns the timer event
 * (progress_free it), or NULL. */
struct event *progress_start(struct event_base *base, const struct fb_run *run);
/* Stops the display and clears its line. */
void progress_free(struct event *ev);

/* 1 when the environment's locale (LC_ALL, LC_CTYPE, LANG) encodes UTF-8,
 * so ✓, ±, … can be shown; 0: ASCII. Leaves the process's locale as it
 * was. */
int progress_utf8(void);
/* The width of the terminal on fd (TIOCGWINSZ), else $COLUMNS, else 80. */
int progress_columns(int fd);

#endif
