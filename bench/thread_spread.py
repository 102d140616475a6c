#!/usr/bin/python3
"""Peak live threads in the README's scenario, run after run, and why it varies.

Usage: bench/thread_spread.py FETCHBENCH [RUNS] [-- EXTRA ARGS]
Runs `FETCHBENCH --tasks 20 --mode nolock --capacity 8` RUNS times (default 20)
and prints, per run, the peak of live threads with what decides it: how long
the loop took to create the 20 resolver threads and how long each lived.
"""
import json
import statistics
import subprocess
import sys


def one_run(binary, extra):
    out = subprocess.run([binary, "--tasks", "20", "--mode", "nolock", "--capacity", "8",
                          "--quiet", *extra], check=True, capture_output=True).stdout
    r = json.loads(out)
    lives = r["threads"]["lifetimes"]
    starts = sorted(l["start_us"] for l in lives)
    spans = [l["end_us"] - l["start_us"] for l in lives if l["end_us"] is not None]
    return {"peak": r["summary"]["peak_threads"], "created": len(lives),
            "window_us": starts[-1] - starts[0] if starts else 0,
            "median_life_us": statistics.median(spans) if spans else 0,
            "max_life_us": max(spans) if spans else 0}


def main(argv):
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = argv[:argv.index("--")] if "--" in argv else argv
    binary, runs = args[0], int(args[1]) if len(args) > 1 else 20
    rows = [one_run(binary, extra) for _ in range(runs)]
    print("| run | peak live threads | threads created | creation window (ms) | median life (ms) | longest life (ms) |")
    print("|---|---|---|---|---|---|")
    for i, r in enumerate(rows, 1):
        print(f"| {i} | {r['peak']} | {r['created']} | {r['window_us'] / 1000:.2f} | "
              f"{r['median_life_us'] / 1000:.2f} | {r['max_life_us'] / 1000:.2f} |")
    peaks = sorted(r["peak"] for r in rows)
    print(f"\npeak live threads over {runs} runs: min {peaks[0]}, median {statistics.median(peaks)}, "
          f"max {peaks[-1]}")
    # How many lives overlap: rank correlation of the peak with how long the
    # threads lived and with how long the loop took to create them.
    print(f"Spearman rank correlation of the peak with the median life: "
          f"{spearman([r['peak'] for r in rows], [r['median_life_us'] for r in rows]):+.2f}, "
          f"with the creation window: "
          f"{spearman([r['peak'] for r in rows], [r['window_us'] for r in rows]):+.2f}")


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(xs, ys):
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    return cov / (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5

if __name__ == "__main__":
    main(sys.argv[1:])
