#ifndef FB_REPORTCMD_H
#define FB_REPORTCMD_H

/* `fetchbench report [FILE...] [--format text|markdown|csv|jsonl]`: saved
 * reports (fetchbench/1 or /2; "-" or none: stdin) for people and pipes.
 * text: a block per run with a latency histogram, repeats as mean ± σ,
 * comparisons between modes, ✓/✗ per expectation; markdown: a table per
 * report; csv: a row per run; jsonl: a line per task, streamed. Exit 0; 2
 * when a file cannot be read or is no report (one line naming it; the
 * other files are still shown); 1 when stdout could not be written (a
 * reader that closed the pipe early is no error: quiet exit 0). */
int report_cmd_main(int argc, char **argv);

#endif
