#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Linux's own limit on a chain of symlinks. */
#define MAX_LINK_HOPS 40

/* Copies the directory part of path ("." when there is none) into dir.
 * Returns 0, or -1 when it does not fit. */
static int dir_of(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);

    if (n == 0)
        return snprintf(dir, dirlen, ".") < (int)dirlen ? 0 : -1;
    if (n >= dirlen)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

/* 1 when the link at path lives in /proc: its text ("pipe:[123]", or a
 * file that another descriptor holds open) names no file to replace. */
static int link_in_proc(const char *path)
{
    char dir[PATH_MAX];
    struct statfs fs;

    return dir_of(path, dir, sizeof(dir)) == 0 && statfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* Follows path through a chain of symlinks (relative ones from the link's
 * own directory) to the name that is written, into out; a dangling link
 * gives the name it points at. *in_proc is set when the chain reaches a link
 * in /proc, where following stops. Returns 0, or -1 with errno set. */
static int follow_links(const char *path, char *out, size_t outlen, int *in_proc)
{
    char link[PATH_MAX];

    *in_proc = 0;
    if (snprintf(out, outlen, "%s", path) >= (int)outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (int hops = 0;; hops++) {
        struct stat st;
        /* Not there, or not a link: this is the name (stat says why later). */
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0;
        if (link_in_proc(out)) {
            *in_proc = 1;
            return 0;
        }
        if (hops == MAX_LINK_HOPS) {
            errno = ELOOP;
            return -1;
        }
        ssize_t n = readlink(out, link, sizeof(link) - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        const char *slash = strrchr(out, '/');
        size_t keep = link[0] == '/' || slash == NULL ? 0 : (size_t)(slash - out) + 1;
        if (keep + (size_t)n >= outlen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(out + keep, link, (size_t)n + 1);
    }
}

/* Writable by us (the effective ids, as open() will judge). */
static int writable(const char *path, int mode)
{
    return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}

int outfile_classify(const char *path, char *target, size_t targetlen, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    struct stat st;
    int in_proc;

    if (path[0] == '\0') {
        snprintf(err, errlen, "empty file name");
        return -1;
    }
    if (strcmp(path, "-") == 0) {
        snprintf(target, targetlen, "-");
        return OUTFILE_STDOUT;
    }
    if (follow_links(path, target, targetlen, &in_proc) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (stat(target, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: is a directory", path);
            return -1;
        }
        if (writable(target, W_OK) != 0) {
            snprintf(err, errlen, "%s: not writable: %s", path, strerror(errno));
            return -1;
        }
        if (!S_ISREG(st.st_mode) || in_proc)
            return OUTFILE_THROUGH;
    } else if (errno != ENOENT || in_proc) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    } else if (target[strlen(target) - 1] == '/') {
        snprintf(err, errlen, "%s: no such directory", path);
        return -1;
    }
    /* The temporary and the rename need the directory, not the file. */
    if (dir_of(target, dir, sizeof(dir)) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
        return -1;
    }
    if (writable(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: cannot create a file in %s: %s", path, dir, strerror(errno));
        return -1;
    }
    return OUTFILE_REPLACE;
}

/* What an output argument lands on: a file that exists (dev, ino), or the
 * canonical name of one to be created. */
struct fb_outident {
    int exists;
    int is_null;
    dev_t dev;
    ino_t ino;
    char name[PATH_MAX];
};

static int identify(const char *arg, struct fb_outident *id)
{
    char target[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
    struct stat st, null;
    int in_proc;

    memset(id, 0, sizeof(*id));
    if (strcmp(arg, "-") == 0) {
        if (fstat(STDOUT_FILENO, &st) != 0)
            return -1;
    } else {
        if (follow_links(arg, target, sizeof(target), &in_proc) < 0)
            return -1;
        if (stat(target, &st) != 0) {
            /* Not there yet: the same name once the directory is resolved. */
            const char *slash = strrchr(target, '/');
            const char *base = slash ? slash + 1 : target;
            if (dir_of(target, dir, sizeof(dir)) < 0 || realpath(dir, real) == NULL)
                snprintf(id->name, sizeof(id->name), "%s", target);
            else if (snprintf(id->name, sizeof(id->name), "%s/%s", real, base) >= (int)sizeof(id->name))
                return -1;
            return 0;
        }
    }
    id->exists = 1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->is_null = S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode)
                  && st.st_rdev == null.st_rdev;
    return 0;
}

int outfile_same(const char *a, const char *b)
{
    /* Large (two paths each): static, as outputs are checked one pair at a time. */
    static struct fb_outident ia, ib;

    if (strcmp(a, "-") == 0 && strcmp(b, "-") == 0)
        return 1;
    if (identify(a, &ia) < 0 || identify(b, &ib) < 0)
        return 0; /* outfile_open reports what is wrong with it */
    if (ia.exists != ib.exists)
        return 0;
    if (ia.exists)
        return ia.dev == ib.dev && ia.ino == ib.ino && !ia.is_null;
    return strcmp(ia.name, ib.name) == 0;
}

/* The descriptor N when path (followed) is a link named N in our own
 * descriptor directory (/dev/stdout, /dev/fd/N, /proc/self/fd/N), else -1. */
static int own_fd(const char *path)
{
    char target[PATH_MAX], dir[PATH_MAX];
    struct stat st, fds;
    int in_proc, n;
    char end;

    if (follow_links(path, target, sizeof(target), &in_proc) < 0 || !in_proc)
        return -1;
    const char *slash = strrchr(target, '/');
    if (slash == NULL || sscanf(slash + 1, "%d%c", &n, &end) != 1 || n < 0)
        return -1;
    if (dir_of(target, dir, sizeof(dir)) < 0 || stat(dir, &st) != 0 || stat("/proc/self/fd", &fds) != 0
        || st.st_dev != fds.st_dev || st.st_ino != fds.st_ino)
        return -1;
    return n;
}

int outfile_is_stdout(const char *path)
{
    return strcmp(path, "-") == 0 || own_fd(path) == STDOUT_FILENO;
}

static const char *display_name(const struct fb_outfile *o)
{
    return o->kind == OUTFILE_STDOUT ? "stdout" : o->path;
}

/* Opens the target itself for writing, appending: what is written through
 * is never truncated or replaced (a file behind /dev/stdout is the shell's). */
static int open_through(struct fb_outfile *o, char *err, size_t errlen)
{
    /* One of our descriptors is shared, not reopened: reopening a pipe
     * whose reader has gone would wait forever, and the shell's offset and
     * append mode are what "> /dev/stdout" means. */
    int own = own_fd(o->target);
    int fd = own >= 0 ? fcntl(own, F_DUPFD_CLOEXEC, 3)
                      : open(o->target, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", o->path, strerror(errno));
        return -1;
    }
    o->f = fdopen(fd, "a");
    if (o->f == NULL) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        close(fd);
        return -1;
    }
    return 0;
}

/* Creates the temporary beside the target, with the target's mode (and, when
 * we may, owner) or a new file's. */
static int open_temporary(struct fb_outfile *o, char *err, size_t errlen)
{
    struct stat st;
    int fd = -1, existed;
    mode_t mode;

    if (snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", o->target) >= (int)sizeof(o->tmp)) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(ENAMETOOLONG));
        goto fail;
    }
    existed = stat(o->target, &st) == 0;
    fd = mkostemp(o->tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", o->path, strerror(errno));
        o->tmp[0] = '\0';
        goto fail;
    }
    if (existed) {
        /* Only root may give a file away; anyone else gets the file as
         * their own, as any editor's save would. Before fchmod: chown
         * clears set-id bits. */
        if (st.st_uid != geteuid() || st.st_gid != getegid())
            (void)fchown(fd, st.st_uid, st.st_gid);
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0); /* mkstemp makes 0600; a new report is an ordinary file */
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0) {
        snprintf(err, errlen, "%s: cannot set the mode: %s", o->path, strerror(errno));
        goto fail;
    }
    o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        goto fail;
    }
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
    return -1;
}

int outfile_open(struct fb_outfile *o, const char *path, char *err, size_t errlen)
{
    struct stat st;

    memset(o, 0, sizeof(*o));
    o->path = path;
    int kind = outfile_classify(path, o->target, sizeof(o->target), err, errlen);
    if (kind < 0)
        return -1;
    o->kind = kind;
    switch (kind) {
    case OUTFILE_STDOUT:
        o->f = stdout;
        return 0;
    case OUTFILE_THROUGH:
        /* Opening a FIFO waits for a reader; that is for when the report is
         * ready, not before the run (its reader may start later). */
        if (stat(o->target, &st) == 0 && S_ISFIFO(st.st_mode) && own_fd(o->target) < 0) {
            o->is_fifo = 1;
            return 0;
        }
        return open_through(o, err, errlen);
    default:
        return open_temporary(o, err, errlen);
    }
}

FILE *outfile_stream(struct fb_outfile *o, char *err, size_t errlen)
{
    if (o->f == NULL && o->is_fifo && open_through(o, err, errlen) < 0)
        return NULL;
    if (o->f == NULL)
        snprintf(err, errlen, "%s: not open", o->path ? display_name(o) : "output");
    return o->f;
}

int outfile_commit(struct fb_outfile *o, char *err, size_t errlen)
{
    int failed = 0, saved = 0;

    if (outfile_stream(o, err, errlen) == NULL) {
        outfile_abort(o);
        return -1;
    }
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        failed = 1;
        saved = errno ? errno : EIO;
    } else if (o->kind == OUTFILE_REPLACE && fsync(fileno(o->f)) != 0) {
        failed = 1;
        saved = errno;
    }
    if (o->f != stdout && fclose(o->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    o->f = NULL;
    if (!failed && o->kind == OUTFILE_REPLACE) {
        if (rename(o->tmp, o->target) != 0) {
            failed = 1;
            saved = errno;
        } else {
            o->tmp[0] = '\0';
        }
    }
    if (failed)
        snprintf(err, errlen, "%s: cannot write: %s", display_name(o), strerror(saved));
    outfile_abort(o);
    return failed ? -1 : 0;
}

void outfile_abort(struct fb_outfile *o)
{
    if (o->f && o->f != stdout)
        fclose(o->f);
    o->f = NULL;
    o->is_fifo = 0;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
}

const char *outfile_tmp_path(const struct fb_outfile *o)
{
    return o->tmp[0] ? o->tmp : NULL;
}
