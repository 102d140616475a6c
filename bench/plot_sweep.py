"""plot_sweep — the sweep's wall time, upstream requests and peak threads
against N, one line per mode (medians, every run as a faint dot).  The
modes are whatever the records name, in the order they first appear: a new
strategy gets its line with no edit here.

bench/run.py uses it when scripts/plot-compare --sweep is missing or fails.
Standalone, from the results it wrote:

    /usr/bin/python3 bench/plot_sweep.py results/bench/results.json -o sweep.png
"""
import argparse
import json
import statistics
import sys
import zlib

COLOURS = {"lock": "#1f77b4", "nolock": "#d62728"}
# other modes: a colour by a CRC of the name, the same on every run
PALETTE = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def colour(mode):
    return COLOURS.get(mode) or PALETTE[zlib.crc32(mode.encode()) % len(PALETTE)]


def plot(runs, out, title_note=""):
    """Writes the plot of sweep runs (bench/run.py's records) to out."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("wall time (s)", lambda r: r["wall_us"] / 1e6 if r.get("wall_us") else None),
               ("upstream requests", lambda r: r.get("upstream_requests")),
               ("peak threads", lambda r: r.get("peak_threads"))]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), dpi=110)
    modes = list(dict.fromkeys(r["mode"] for r in runs))
    for ax, (label, value) in zip(axes, metrics):
        for mode in modes:
            pts = [(r["tasks"], value(r)) for r in runs
                   if r["mode"] == mode and value(r) is not None]
            if not pts:
                continue
            xs = sorted({x for x, _ in pts})
            meds = [statistics.median(v for x2, v in pts if x2 == x) for x in xs]
            ax.plot(xs, meds, "-o", color=colour(mode), lw=1.8, ms=5, label=mode, zorder=3)
            ax.scatter([x for x, _ in pts], [v for _, v in pts], s=12, color=colour(mode),
                       alpha=0.35, lw=0, zorder=2)
        ax.set_xscale("log")
        ys = [value(r) for r in runs if value(r)]
        if ys and min(ys) > 0 and max(ys) / min(ys) >= 20:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.set_xlabel("tasks (N)")
        ax.set_title(label, fontsize=11, fontweight="bold")
        ax.grid(color="#e4e4e4", lw=0.6)
        ax.legend(fontsize=9, frameon=False)
    fig.suptitle(f"fetchbench sweep: {' vs '.join(modes)}, medians of the runs"
                 + (f"\n{title_note}" if title_note else ""), fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(out)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(prog="plot_sweep.py", description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="bench/run.py's results.json")
    p.add_argument("-o", "--output", required=True, help="image to write (.png or .svg)")
    args = p.parse_args(argv)
    with open(args.results) as f:
        sweep = json.load(f)["sections"].get("sweep")
    if not sweep:
        p.error(f"{args.results}: no sweep section")
    c = sweep["config"]
    plot(sweep["runs"], args.output, f"capacity {c['capacity']}, delay {c['delay_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
