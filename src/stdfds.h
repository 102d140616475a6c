#ifndef FB_STDFDS_H
#define FB_STDFDS_H

/* Standard descriptors 0-2 that the process was started without. A closed
 * one is the lowest free number, so the next open(), socket() or mkstemp()
 * would land on it and printf/perror would write into that file or socket;
 * the guard parks /dev/null there first. */

/* Opens /dev/null on each of fds 0, 1, 2 that is closed and remembers which
 * were. Call first thing in main. Returns 0, or -1 with errno set when
 * /dev/null cannot be opened. */
int stdfds_guard(void);
/* 1 when fd (0, 1 or 2) was closed before stdfds_guard, else 0. */
int stdfds_closed(int fd);

#endif
