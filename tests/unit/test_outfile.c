#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* Each test works in its own fresh directory, removed afterwards. */
static char dir[] = "/tmp/fb-outfile-XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Path of name inside the test's directory (one of four rotating buffers). */
static const char *in_dir(const char *name)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static void make_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(path, mode), 0);
}

/* The number of entries in the test's directory. */
static int entries(void)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static int classify(const char *path, char *target)
{
    char err[256] = "";
    int kind = outfile_classify(path, target, PATH_MAX, err, sizeof(err));
    if (kind < 0)
        cr_assert_neq(err[0], '\0', "a refusal gives a reason");
    return kind;
}

TestSuite(outfile, .init = setup, .fini = teardown);

Test(outfile, classifies_stdout_new_and_regular_files)
{
    char target[PATH_MAX];

    cr_assert_eq(classify("-", target), OUTFILE_STDOUT);
    cr_assert_eq(classify(in_dir("new.json"), target), OUTFILE_REPLACE);
    cr_assert_str_eq(target, in_dir("new.json"));
    make_file(in_dir("old.json"), "x", 0644);
    cr_assert_eq(classify(in_dir("old.json"), target), OUTFILE_REPLACE);
    cr_assert_eq(entries(), 1, "classifying creates nothing");
}

Test(outfile, follows_symlinks_to_the_file_they_name)
{
    char target[PATH_MAX];

    make_file(in_dir("real.json"), "x", 0644);
    cr_assert_eq(mkdir(in_dir("sub"), 0755), 0);
    /* A relative link is relative to its own directory, not ours. */
    cr_assert_eq(symlink("../real.json", in_dir("sub/rel")), 0);
    cr_assert_eq(symlink("sub/rel", in_dir("chain")), 0);
    cr_assert_eq(classify(in_dir("chain"), target), OUTFILE_REPLACE);
    cr_assert_str_eq(target, in_dir("sub/../real.json"));
    /* A dangling link: its target is what gets created. */
    cr_assert_eq(symlink("made.json", in_dir("dangling")), 0);
    cr_assert_eq(classify(in_dir("dangling"), target), OUTFILE_REPLACE);
    cr_assert_str_eq(target, in_dir("made.json"));
    /* A loop is refused, not followed forever. */
    cr_assert_eq(symlink("loop2", in_dir("loop1")), 0);
    cr_assert_eq(symlink("loop1", in_dir("loop2")), 0);
    cr_assert_eq(classify(in_dir("loop1"), target), -1);
}

Test(outfile, writes_through_fifos_devices_and_descriptors)
{
    char target[PATH_MAX];

    cr_assert_eq(mkfifo(in_dir("fifo"), 0600), 0);
    cr_assert_eq(classify(in_dir("fifo"), target), OUTFILE_THROUGH);
    cr_assert_eq(symlink("fifo", in_dir("to-fifo")), 0);
    cr_assert_eq(classify(in_dir("to-fifo"), target), OUTFILE_THROUGH);
    cr_assert_eq(classify("/dev/null", target), OUTFILE_THROUGH);
    /* Whatever fd 2 is (a file, a pipe, a terminal), it is not replaced. */
    cr_assert_eq(classify("/dev/stderr", target), OUTFILE_THROUGH);
    cr_assert_eq(classify("/dev/fd/2", target), OUTFILE_THROUGH);
}

Test(outfile, refuses_directories_and_missing_ones)
{
    char target[PATH_MAX];

    cr_assert_eq(classify(dir, target), -1);
    cr_assert_eq(classify(in_dir("missing/x.json"), target), -1);
    cr_assert_eq(classify(in_dir("missing/"), target), -1);
    cr_assert_eq(classify("", target), -1);
    make_file(in_dir("file"), "x", 0644);
    cr_assert_eq(classify(in_dir("file/x.json"), target), -1, "a file is no directory");
    cr_assert_eq(symlink(".", in_dir("to-dir")), 0);
    cr_assert_eq(classify(in_dir("to-dir"), target), -1);
}

Test(outfile, an_unwritable_place_is_refused_at_open_and_nothing_is_made)
{
    struct fb_outfile o;
    char err[256];

    /* /proc takes no new files, not even root's. */
    cr_assert_eq(outfile_open(&o, "/proc/fb-outfile-test.json", err, sizeof(err)), -1);
    cr_assert_eq(access("/proc/fb-outfile-test.json", F_OK), -1);
    cr_assert_null(outfile_tmp_path(&o));
    cr_assert_eq(outfile_open(&o, in_dir("missing/x.json"), err, sizeof(err)), -1);
    cr_assert_eq(entries(), 0);
}

Test(outfile, same_file_through_names_links_and_hard_links)
{
    cr_assert_eq(outfile_same("-", "-"), 1);
    /* Not there yet: the same name once resolved. */
    cr_assert_eq(outfile_same(in_dir("a.json"), in_dir("./a.json")), 1);
    cr_assert_eq(mkdir(in_dir("sub"), 0755), 0);
    cr_assert_eq(outfile_same(in_dir("a.json"), in_dir("sub/../a.json")), 1);
    cr_assert_eq(outfile_same(in_dir("a.json"), in_dir("b.json")), 0);
    cr_assert_eq(symlink("a.json", in_dir("dangling")), 0);
    cr_assert_eq(outfile_same(in_dir("dangling"), in_dir("a.json")), 1);

    make_file(in_dir("a.json"), "x", 0644);
    cr_assert_eq(link(in_dir("a.json"), in_dir("hard.json")), 0);
    cr_assert_eq(outfile_same(in_dir("a.json"), in_dir("hard.json")), 1);
    cr_assert_eq(symlink("../a.json", in_dir("sub/link")), 0);
    cr_assert_eq(outfile_same(in_dir("sub/link"), in_dir("hard.json")), 1);
    cr_assert_eq(outfile_same(in_dir("a.json"), in_dir("new.json")), 0);
    /* A relative name is relative to the working directory. */
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(outfile_same("a.json", in_dir("a.json")), 1);
    cr_assert_eq(outfile_same("./x", "x"), 1);
    cr_assert_eq(chdir(cwd), 0);
    /* Nothing written to the null device can be lost. */
    cr_assert_eq(outfile_same("/dev/null", "/dev/null"), 0);
}

Test(outfile, stdout_is_the_same_as_the_file_it_is)
{
    int saved = dup(STDOUT_FILENO);
    int fd = open(in_dir("out.json"), O_WRONLY | O_CREAT, 0644);
    cr_assert(saved >= 0 && fd >= 0);
    cr_assert_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    int same = outfile_same("-", in_dir("out.json"));
    int via_dev = outfile_same("/dev/stdout", in_dir("out.json"));
    int other = outfile_same("-", in_dir("other.json"));
    dup2(saved, STDOUT_FILENO);
    close(fd);
    close(saved);
    cr_assert_eq(same, 1);
    cr_assert_eq(via_dev, 1);
    cr_assert_eq(other, 0);
}

Test(outfile, replaces_a_file_atomically_keeping_its_mode)
{
    struct fb_outfile o;
    char err[256];
    struct stat st;

    make_file(in_dir("r.json"), "old", 0640);
    cr_assert_eq(outfile_open(&o, in_dir("r.json"), err, sizeof(err)), 0, "%s", err);
    const char *tmp = outfile_tmp_path(&o);
    cr_assert_not_null(tmp);
    cr_assert_eq(strncmp(tmp, in_dir("r.json."), strlen(in_dir("r.json."))), 0, "%s", tmp);
    cr_assert_eq(entries(), 2);
    FILE *f = outfile_stream(&o, err, sizeof(err));
    cr_assert_not_null(f);
    fputs("new", f);
    cr_assert_eq(outfile_commit(&o, err, sizeof(err)), 0, "%s", err);
    cr_assert_null(outfile_tmp_path(&o));
    cr_assert_eq(entries(), 1, "the temporary is gone");
    cr_assert_eq(stat(in_dir("r.json"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640);
    char buf[8] = "";
    FILE *r = fopen(in_dir("r.json"), "r");
    cr_assert_not_null(fgets(buf, sizeof(buf), r));
    fclose(r);
    cr_assert_str_eq(buf, "new");
}

Test(outfile, abort_leaves_the_old_file_and_no_temporary)
{
    struct fb_outfile o;
    char err[256];

    make_file(in_dir("r.json"), "old", 0644);
    cr_assert_eq(outfile_open(&o, in_dir("r.json"), err, sizeof(err)), 0, "%s", err);
    fputs("half", outfile_stream(&o, err, sizeof(err)));
    outfile_abort(&o);
    outfile_abort(&o); /* twice is harmless, as after a failed commit */
    cr_assert_eq(entries(), 1);
    struct fb_outfile zeroed = {0};
    outfile_abort(&zeroed);
}

Test(outfile, a_fifo_is_opened_only_when_written)
{
    struct fb_outfile o;
    char err[256];

    cr_assert_eq(mkfifo(in_dir("fifo"), 0600), 0);
    /* No reader yet: open must not wait for one. */
    cr_assert_eq(outfile_open(&o, in_dir("fifo"), err, sizeof(err)), 0, "%s", err);
    cr_assert_null(o.f);
    cr_assert_null(outfile_tmp_path(&o));
    int rd = open(in_dir("fifo"), O_RDONLY | O_NONBLOCK);
    cr_assert(rd >= 0);
    FILE *f = outfile_stream(&o, err, sizeof(err));
    cr_assert_not_null(f, "%s", err);
    fputs("through", f);
    cr_assert_eq(outfile_commit(&o, err, sizeof(err)), 0, "%s", err);
    char buf[16] = "";
    cr_assert_eq(read(rd, buf, sizeof(buf) - 1), 7);
    cr_assert_str_eq(buf, "through");
    close(rd);
    struct stat st;
    cr_assert_eq(lstat(in_dir("fifo"), &st), 0);
    cr_assert(S_ISFIFO(st.st_mode), "still a FIFO");
}

Test(outfile, knows_the_names_of_stdout)
{
    cr_assert_eq(outfile_is_stdout("-"), 1);
    cr_assert_eq(outfile_is_stdout("/dev/stdout"), 1);
    cr_assert_eq(outfile_is_stdout("/dev/fd/1"), 1);
    cr_assert_eq(outfile_is_stdout("/proc/self/fd/1"), 1);
    cr_assert_eq(symlink("/dev/stdout", in_dir("out")), 0);
    cr_assert_eq(outfile_is_stdout(in_dir("out")), 1);
    cr_assert_eq(outfile_is_stdout("/dev/stderr"), 0);
    cr_assert_eq(outfile_is_stdout("/dev/null"), 0);
    cr_assert_eq(outfile_is_stdout(in_dir("1")), 0);
}
