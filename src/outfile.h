#ifndef FB_OUTFILE_H
#define FB_OUTFILE_H

#include <stdio.h>

/* Output files written atomically: everything goes to a temporary file in
 * the same directory, renamed over the target only once complete, so a
 * reader never sees half a report. */
struct fb_outfile {
    FILE *f;
    char *path;                 /* the target */
    char *tmp;                  /* the temporary beside it */
};

/* Creates the temporary file. Returns 0, or -1 with a one-line reason in err
 * (missing or read-only directory, ...). */
int outfile_open(struct fb_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, syncs and renames over the target; returns 0, or -1 with a reason
 * in err (the temporary is removed). Frees o either way. */
int outfile_commit(struct fb_outfile *o, char *err, size_t errlen);
/* Removes the temporary and frees o. */
void outfile_abort(struct fb_outfile *o);

#endif
