#ifndef FB_FDLIMIT_H
#define FB_FDLIMIT_H

/* Raises this process's open-file soft limit to its hard limit (a stampede
 * or a server holding ten thousand requests needs a socket each; raising the
 * soft limit needs no privilege). Returns 1 when it raised it, 0 when there
 * was nothing to raise, -1 when setrlimit refused; *was and *now get the
 * limits before and after. */
int fdlimit_raise(unsigned long long *was, unsigned long long *now);

#endif
