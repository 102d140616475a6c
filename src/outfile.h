#ifndef FB_OUTFILE_H
#define FB_OUTFILE_H

#include <limits.h>
#include <stdio.h>

/* Where an output goes. Only a regular file (or a new name) is replaced, and
 * atomically: written to a temporary beside it, renamed over it once
 * complete, so a reader never sees half a report. A symlink is followed to
 * the file it names, which is replaced while the link stays a link. Anything
 * else (a FIFO, a terminal, /dev/null, /dev/stdout) is written through,
 * never replaced. */
enum fb_outkind {
    OUTFILE_STDOUT,             /* "-" */
    OUTFILE_REPLACE,            /* a new path or a regular file: temporary + rename */
    OUTFILE_THROUGH,            /* a FIFO, device, or a descriptor in /proc: written in place */
};

/* Fixed buffers, no heap: a signal handler may read tmp while the main
 * program runs, and a struct that was never committed leaks nothing. */
struct fb_outfile {
    FILE *f;                    /* the stream; stdout for "-"; NULL for a FIFO until outfile_stream */
    const char *path;           /* as given, for messages (the caller's string) */
    int kind;                   /* enum fb_outkind */
    int is_fifo;                /* opened only when written: it may have no reader yet */
    char target[PATH_MAX];      /* the file written, symlinks followed */
    char tmp[PATH_MAX + 8];     /* the temporary beside target, or "" */
};

/* Classifies path and puts the file it writes (symlinks followed) in target.
 * Returns an enum fb_outkind, or -1 with a one-line reason in err (a
 * directory, a missing directory, not writable, ...). Creates nothing. */
int outfile_classify(const char *path, char *target, size_t targetlen, char *err, size_t errlen);
/* 1 when the two output arguments land in the same file (through symlinks,
 * "./x" and "x", hard links, "-" and what stdout is), else 0. Two names of
 * the null device are not the same: nothing written there can be lost. */
int outfile_same(const char *a, const char *b);
/* 1 when path is "-" or names descriptor 1 (/dev/stdout, /dev/fd/1), else 0. */
int outfile_is_stdout(const char *path);
/* Prepares the output before the run: creates the temporary, opens a
 * device. path must outlive o. Returns 0, or -1 with a one-line reason in
 * err and nothing created. */
int outfile_open(struct fb_outfile *o, const char *path, char *err, size_t errlen);
/* The stream to write to; opens a FIFO now (waiting for its reader, as a
 * shell's redirection would). Returns NULL with a reason in err. */
FILE *outfile_stream(struct fb_outfile *o, char *err, size_t errlen);
/* Flushes, syncs and renames the temporary over the target (or flushes the
 * stream written through); returns 0, or -1 with a reason in err and the
 * temporary removed. Closes o either way (stdout stays open). */
int outfile_commit(struct fb_outfile *o, char *err, size_t errlen);
/* Closes o and removes its temporary; safe on a zeroed, committed or
 * aborted o. */
void outfile_abort(struct fb_outfile *o);
/* The temporary's path, or NULL when there is none. Owned by o. */
const char *outfile_tmp_path(const struct fb_outfile *o);

#endif
