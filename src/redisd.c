/* The embedded redis-server: what `--store redis` without an address runs
 * against, the way the delay server is the default target. */
#include "redisd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;
static int child_port;
static int registered;

/* A free loopback port: bind port 0 and read what the kernel chose. Another
 * process may take it before redis-server binds it: the caller retries. */
static int free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static void exec_server(const char *dir, int port, pid_t parent)
{
    char portarg[16];
    int devnull = open("/dev/null", O_RDWR);

    /* Dies with us, even by SIGKILL; its own group so a terminal's ^C is
     * ours to handle (we stop it); default signal actions (ours ignore or
     * catch some, and an ignored SIGTERM would survive exec). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
    }
    snprintf(portarg, sizeof(portarg), "%d", port);
    execlp("redis-server", "redis-server", "--port", portarg, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", dir, "--logfile", "", "--daemonize", "no", (char *)NULL);
    _exit(127);
}

/* PING until PONG, the child's death or 5 s. 0 when it answers. */
static int await_ping(int port)
{
    for (int i = 0; i < 500; i++) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            child = 0;
            return -1;
        }
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, (struct timeval){0, 200000});
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
            freeReplyObject(r);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    return -1;
}

static void stop_at_exit(void)
{
    redisd_stop();
}

int redisd_ensure(int *port, char *err, size_t errlen)
{
    char dir[512];
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/fetchbench-redis.XXXXXX", tmp && *tmp ? tmp : "/tmp");

    if (child > 0) {
        *port = child_port;
        return 0;
    }
    if (mkdtemp(dir) == NULL) {
        snprintf(err, errlen, "--store redis: cannot make a directory for redis-server: %s", strerror(errno));
        return -1;
    }
    if (!registered && atexit(stop_at_exit) == 0)
        registered = 1;
    /* A port taken between our probe and its bind: a few more tries. */
    for (int attempt = 0; attempt < 3 && child <= 0; attempt++) {
        int p = free_port();
        pid_t parent = getpid();
        if (p < 0)
            break;
        child = fork();
        if (child == 0)
            exec_server(dir, p, parent);
        if (child < 0) {
            child = 0;
            break;
        }
        if (await_ping(p) == 0) {
            child_port = p;
        } else {
            redisd_stop();
        }
    }
    /* It never writes there (no persistence): the directory can go now,
     * which leaves nothing behind whatever ends the process. */
    rmdir(dir);
    if (child <= 0) {
        snprintf(err, errlen, "--store redis: could not start redis-server (is it installed? scripts/setup)");
        return -1;
    }
    *port = child_port;
    return 0;
}

int redisd_port(void)
{
    return child > 0 ? child_port : 0;
}

void redisd_stop(void)
{
    int status;

    if (child <= 0)
        return;
    kill(child, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(child, &status, WNOHANG) != 0) {
            child = 0;
            return;
        }
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    child = 0;
}
