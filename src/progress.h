#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

struct fb_run;
struct event;

/* A one-line progress display on stderr, redrawn four times a second from
 * the run's loop: tasks done, requests made, time so far. Only for a
 * terminal (cfg->progress); plain text when NO_COLOR is set. Returns the
 * timer event (progress_free it), or NULL. */
struct event *progress_start(struct fb_run *run);
/* Stops the display and clears its line. */
void progress_free(struct event *ev);

#endif
