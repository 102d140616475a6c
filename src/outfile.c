#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(struct fb_outfile *o)
{
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    o->f = NULL;
}

int outfile_open(struct fb_outfile *o, const char *path, char *err, size_t errlen)
{
    o->f = NULL;
    o->path = strdup(path);
    if (o->path == NULL || asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
        o->tmp = NULL;
        snprintf(err, errlen, "%s: out of memory", path);
        release(o);
        return -1;
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        release(o);
        return -1;
    }
    /* mkstemp makes 0600; a report is an ordinary file. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(o->tmp);
        release(o);
        return -1;
    }
    return 0;
}

int outfile_commit(struct fb_outfile *o, char *err, size_t errlen)
{
    int failed = fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
    int saved = errno;

    if (fclose(o->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && rename(o->tmp, o->path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        snprintf(err, errlen, "%s: cannot write: %s", o->path, strerror(saved));
        unlink(o->tmp);
    }
    release(o);
    return failed ? -1 : 0;
}

void outfile_abort(struct fb_outfile *o)
{
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    }
    release(o);
}
