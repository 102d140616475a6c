#include "stdfds.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static unsigned closed_mask;

int stdfds_guard(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        /* Read-write: fd 0 may be read and fds 1-2 written by anyone. */
        int null = open("/dev/null", O_RDWR);
        if (null < 0)
            return -1;
        /* open() returns the lowest free number, which is fd itself as the
         * lower ones are open by now; dup2 only if that ever changes. */
        if (null != fd) {
            int rc = dup2(null, fd);
            int saved = errno;
            close(null);
            if (rc < 0) {
                errno = saved;
                return -1;
            }
        }
        closed_mask |= 1u << fd;
    }
    return 0;
}

int stdfds_closed(int fd)
{
    return fd >= 0 && fd <= 2 && (closed_mask & (1u << fd)) != 0;
}
