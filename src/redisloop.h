#ifndef FB_REDISLOOP_H
#define FB_REDISLOOP_H

/* hiredis's async context on a libevent loop, like hiredis's own libevent
 * adapter, except that one wake-up reads until the socket is empty (up to a
 * bound) instead of one 16 KB read: a deep pipeline of 1 KB replies is then
 * answered in a few loop turns, not one turn per 15 replies. */

struct event_base;
struct redisAsyncContext;

/* 0, or -1 (out of memory, or the context has a loop already). */
int redisloop_attach(struct redisAsyncContext *ac, struct event_base *base);

#endif
