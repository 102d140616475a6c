#ifndef FB_MERGE_H
#define FB_MERGE_H

/* `fetchbench merge A.json B.json ... [-o OUT]`: one fetchbench/2 report
 * from the reports of one experiment (one run_id, the same workload):
 * every file's runs with its clients renumbered after the previous files',
 * and a "fleet" member summing each (mode, repeat) over all of them.
 * argv[0] is "merge". Returns the exit code: 0, 1 (a file unreadable or the
 * output not written), 2 (usage, or reports of different experiments). */
int merge_main(int argc, char **argv);

#endif
