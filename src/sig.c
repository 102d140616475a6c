#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_GUARDED 4

/* Everything the handler reads is written before the flag that publishes it,
 * and the handler only reads: no lock, nothing but async-signal-safe calls. */
static volatile sig_atomic_t first_signal;
static int wake[2] = {-1, -1};

static struct guarded {
    volatile sig_atomic_t used;
    char path[PATH_MAX];
} guarded[MAX_GUARDED];

static void die_now(int signo)
{
    for (int i = 0; i < MAX_GUARDED; i++)
        if (guarded[i].used)
            unlink(guarded[i].path);
    /* Blocked while we run; delivered, with the default action, on return. */
    signal(signo, SIG_DFL);
    raise(signo);
}

static void on_signal(int signo)
{
    int saved = errno;

    if (first_signal != 0) {
        die_now(signo);
    } else {
        first_signal = signo;
        if (wake[1] >= 0)
            (void)!write(wake[1], "", 1);
    }
    errno = saved;
}

int sig_init(void)
{
    struct sigaction sa;

    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        wake[0] = wake[1] = -1;
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    /* A blocking write of the report into a slow pipe must survive the
     * first signal; the loop's epoll_wait returns EINTR regardless. */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

int sig_pending(void)
{
    return first_signal;
}

int sig_fd(void)
{
    return wake[0];
}

void sig_drain(void)
{
    char buf[16];
    while (wake[0] >= 0 && read(wake[0], buf, sizeof(buf)) > 0)
        ;
}

int sig_guard_path(const char *path)
{
    if (strlen(path) >= PATH_MAX)
        return -1;
    for (int i = 0; i < MAX_GUARDED; i++) {
        if (!guarded[i].used) {
            memcpy(guarded[i].path, path, strlen(path) + 1);
            guarded[i].used = 1;
            return i;
        }
    }
    return -1;
}

void sig_forget(int handle)
{
    if (handle >= 0 && handle < MAX_GUARDED)
        guarded[handle].used = 0;
}

void sig_child_detach(void)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    for (int i = 0; i < 2; i++)
        if (wake[i] >= 0)
            close(wake[i]);
    wake[0] = wake[1] = -1;
}
