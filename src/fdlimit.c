#include "fdlimit.h"

#include <sys/resource.h>

int fdlimit_raise(unsigned long long *was, unsigned long long *now)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    *was = *now = rl.rlim_cur;
    /* Linux refuses RLIM_INFINITY above fs.nr_open (1048576 by default). */
    rlim_t target = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
    if (rl.rlim_cur >= target)
        return 0;
    rl.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    *now = target;
    return 1;
}
