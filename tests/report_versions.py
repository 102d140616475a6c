"""report_versions — fetchbench reports turned from one format into the
other, so the plot tests have both whichever one fetchbench writes.

    /usr/bin/python3 tests/report_versions.py --to 2 A.json [B.json ...] > v2.json
    /usr/bin/python3 tests/report_versions.py --to 1 [--run N] A.json > v1.json

--to 2 joins fetchbench/1 reports into one fetchbench/2 report, one run
each in the order given (repeat counts the runs of each mode), read as
scripts/fbplot.py reads v1 (v1_to_v2); every summary gains the v2
"outcomes" counts.  --to 1 writes run N (default 0) of a fetchbench/2
report as a fetchbench/1 report, keeping only the keys that format has.
The output is laid out as fetchbench lays out its reports: one line per
top-level key, one task per line.  Exit 2 with one line on bad input.
"""
import collections
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "scripts"))
import fbplot  # noqa: E402

V1_CONFIG = ("tasks", "mode", "url", "delay_ms", "capacity", "timeout_ms", "max_body",
             "max_connections", "fetch_cap", "fd_limit", "host", "host_resolved",
             "embedded_server")
V1_SERVER = ("requests", "in_service", "max_in_service", "queued", "max_queued",
             "in_service_samples", "in_service_samples_truncated")
V1_SUMMARY = ("wall_us", "upstream_requests", "server_requests", "cache_hits", "cache_misses",
              "errors", "peak_threads", "threads_created", "threads_failed",
              "peak_connections")
V1_TASK = ("id", "outcome", "start_us", "end_us", "error", "spans")


def read(path):
    with open(path, "rb") as f:
        try:
            return fbplot.read_report(f.read())
        except (fbplot.JSONProblem, fbplot.BadInput) as e:
            raise fbplot.BadInput(f"{path}: {e}") from None


def to_v2(paths):
    out, repeats = None, collections.Counter()
    for p in paths:
        doc, v1 = read(p)
        if not v1:
            raise fbplot.BadInput(f"{p}: already {fbplot.SCHEMA_V2}")
        run = doc["runs"][0]
        run["repeat"] = repeats[run["mode"]]
        repeats[run["mode"]] += 1
        names = [o["name"] for o in doc["vocabulary"]["outcomes"]]
        counts = collections.Counter(t["outcome"] for t in run["tasks"])
        run["summary"] = dict(run["summary"], outcomes={n: counts[n] for n in names})
        run = {"mode": run["mode"], "repeat": run["repeat"], "client": 0,
               "start_monotonic_us": 0} | {k: v for k, v in run.items()
                                           if k not in ("mode", "repeat", "client")}
        run["tasks"] = [{k: t[k] for k in ("id", "key", "arrival_us")}
                        | {k: v for k, v in t.items() if k not in ("id", "key", "arrival_us")}
                        for t in run["tasks"]]
        if out is None:
            out = doc
            out["runs"] = [run]
        else:
            out["runs"].append(run)
            out["interrupted"] = out["interrupted"] or doc["interrupted"]
    out["config"]["modes"] = list(repeats)
    out["config"]["repeat"] = max(repeats.values())
    return {k: out[k] for k in ("schema", "tool", "config", "vocabulary", "runs")} | {
        "repeats": [], "expectations": [], "interrupted": out["interrupted"]}


def v1_spans(spans):
    """v1 knew no server queue: a split request phase (server_queue, then
    in_service) becomes the one request span it was."""
    out = []
    for s, a, b in spans:
        if s in ("server_queue", "in_service"):
            if out and out[-1][0] == "request" and out[-1][2] == a and s == "in_service":
                out[-1][2] = b
                continue
            s = "request"
        out.append([s, a, b])
    return out


def to_v1(path, index):
    doc, v1 = read(path)
    if v1:
        raise fbplot.BadInput(f"{path}: already {fbplot.SCHEMA_V1}")
    if not 0 <= index < len(doc["runs"]):
        raise fbplot.BadInput(f"{path}: no run {index}")
    run = doc["runs"][index]
    cfg = dict(doc["config"], mode=run["mode"])
    tasks = []
    for t in run["tasks"]:
        t = {k: t[k] for k in V1_TASK if k in t}
        t["spans"] = [{"state": s, "start_us": a, "end_us": b} for s, a, b in v1_spans(t["spans"])]
        tasks.append(t)
    server = run["server"] and {k: v for k, v in run["server"].items() if k in V1_SERVER}
    threads = dict(run["threads"], lifetimes=[{k: v for k, v in life.items() if k != "task"}
                                              for life in run["threads"]["lifetimes"]])
    return {"schema": fbplot.SCHEMA_V1, "tool": doc["tool"],
            "config": {k: cfg[k] for k in V1_CONFIG if k in cfg},
            "interrupted": run.get("interrupted", False),
            "summary": {k: run["summary"][k] for k in V1_SUMMARY if k in run["summary"]},
            "server": server, "threads": threads, "tasks": tasks}


def write(doc):
    """One line per top-level key; the task arrays one task per line."""
    w = sys.stdout.write
    dumps = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)  # noqa: E731
    w("{")
    for i, (k, v) in enumerate(doc.items()):
        w(("" if i == 0 else ",\n ") + json.dumps(k) + ": ")
        if k == "tasks":
            w("[\n  " + ",\n  ".join(dumps(t) for t in v) + "]")
        elif k == "runs":
            w("[")
            for j, run in enumerate(v):
                w(("" if j == 0 else ",\n ") + "{")
                for m, (rk, rv) in enumerate(run.items()):
                    w(("" if m == 0 else ",\n  ") + json.dumps(rk) + ":")
                    w("[\n   " + ",\n   ".join(dumps(t) for t in rv) + "]" if rk == "tasks"
                      else dumps(rv))
                w("}")
            w("]")
        else:
            w(dumps(v))
    w("}\n")


def main(argv):
    p = fbplot.ArgParser(prog="report_versions.py", description=__doc__.strip())
    p.add_argument("--to", choices=("1", "2"), required=True)
    p.add_argument("--run", type=int, default=0, metavar="N")
    p.add_argument("inputs", nargs="+", metavar="FILE")
    a = p.parse_args(argv)
    if a.to == "1" and len(a.inputs) != 1:
        p.error("--to 1 reads one report")
    write(to_v2(a.inputs) if a.to == "2" else to_v1(a.inputs[0], a.run))


if __name__ == "__main__":
    fbplot.main("report_versions.py", lambda: main(sys.argv[1:]))
