#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

struct fb_run;
struct event;
struct event_base;

/* A one-line progress display on stderr, redrawn four times a second from
 * the run's loop: tasks done, tasks waiting, requests made, time so far.
 * Only for a terminal (cfg->progress); plain text when NO_COLOR is set.
 * Reads the run's totals only. Returns the timer event (progress_free it),
 * or NULL. */
struct event *progress_start(struct event_base *base, const struct fb_run *run);
/* Stops the display and clears its line. */
void progress_free(struct event *ev);

#endif
