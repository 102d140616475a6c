#!/usr/bin/python3
"""fbhtml.py — one fetchbench run as an interactive, self-contained HTML page.

    fbhtml.py [FILE|-] -o OUT.html [--run N | --mode NAME [--repeat K]] [--title T]

Writes one HTML file that needs nothing from elsewhere (no network, no
fonts, no libraries: the data are embedded as JSON, the code and style
inline): a canvas timeline with one row per task coloured by state (the
report's vocabulary, fbplot's colours), the thread lane and, when the
report has them, the server lane (requests in service and queued).  Zoom
with the wheel, the +/- buttons or keys (+, -, 0, arrows); pan by dragging.
Hover shows a span's state, times, task, key, outcome, wait and error;
clicking a task highlights the tasks linked to it by "waited_on" (its
predecessor, its successors, and the chains they are part of) and the
threads it started.  Above a few hundred tasks the rows are binned into a
density view, as the PNG does.  scripts/plot-timeline -o OUT.html calls
write_html().
"""
import argparse
import html
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import numpy as np  # noqa: E402

import fbplot  # noqa: E402

PROG = "fbhtml.py"
HERE = os.path.dirname(os.path.realpath(__file__))
# The view's code and style, inlined into every page (installed beside this file).
ASSETS = ("fbhtml.js", "fbhtml.css")
EXTENSIONS = (".html", ".htm")


def _ints(a):
    """A numpy array as a list of Python ints (json cannot write int64)."""
    return np.asarray(a, dtype=np.int64).tolist()


def _steps(pairs):
    """[[t, n], ...] (k, 2), ordered by t, as [t0, n0, t1 - t0, n1, ...]:
    no brackets, and short numbers."""
    a = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    if len(a):
        a[1:, 0] = np.diff(a[:, 0])
    return _ints(a.reshape(-1))


def _task_extras(run, c):
    """What fbplot.Run does not read of each task, by row: wait_us (-1 when
    absent), waited_on as sparse columns (row, predecessor row, kind code,
    at_us), errors as sparse columns, and the link kinds by code."""
    docs = run.report.run_docs[run.index]["tasks"]
    where = run._w("tasks")
    row_of = {int(i): r for r, i in enumerate(run.ids.tolist())}
    voc = run.report.doc.get("vocabulary", {})
    kinds = list(voc.get("links", [])) if isinstance(voc.get("links"), list) else []
    wait = np.full(run.ntasks, -1, np.int64)
    links = {"row": [], "from": [], "kind": [], "at": []}
    errs = {"row": [], "stage": [], "message": [], "http": []}
    for i, t in enumerate(docs):
        w = f"{where}[{i}]"
        r = row_of[t["id"]]
        if "wait_us" in t:
            wait[r] = c.get(t, "wait_us", f"{w}.wait_us", "int")
        if "waited_on" in t and t["waited_on"] is not None:
            lw = f"{w}.waited_on"
            lk = c.get(t, "waited_on", lw, "obj")
            other = c.get(lk, "task", f"{lw}.task", "int")
            kind = c.get(lk, "kind", f"{lw}.kind", "str")
            at = c.get(lk, "at_us", f"{lw}.at_us", "int")
            if other not in row_of:
                c.fail(f"{lw}.task", f"no task {other} in this run")
            if kind not in kinds:
                kinds.append(kind)
            links["row"].append(r)
            links["from"].append(row_of[other])
            links["kind"].append(kinds.index(kind))
            links["at"].append(at)
        if "error" in t and t["error"] is not None:
            ew = f"{w}.error"
            e = c.get(t, "error", ew, "obj")
            errs["row"].append(r)
            errs["stage"].append(c.get(e, "stage", f"{ew}.stage", "str"))
            errs["message"].append(c.get(e, "message", f"{ew}.message", "str"))
            errs["http"].append(c.get(e, "http_status", f"{ew}.http_status", "int")
                                if e.get("http_status") is not None else None)
    return wait, links, errs, kinds


def _thread_tasks(run, c, row_of):
    """Each lifetime's task row (-1 unknown), or None when no lifetime says."""
    lts = run.report.run_docs[run.index]["threads"]["lifetimes"]
    if not any(isinstance(lt, dict) and "task" in lt for lt in lts):
        return None
    out = []
    for i, lt in enumerate(lts):
        w = f"{run._w('threads')}.lifetimes[{i}].task"
        v = c.get(lt, "task", w, "int", nullable=True) if "task" in lt else None
        if v is not None and v not in row_of:
            c.fail(w, f"no task {v} in this run")
        out.append(-1 if v is None else row_of[v])
    return out


def _starts(sstart, task_start, srow):
    """Each span's start as the time since the previous span of its task
    started (the first: since its task started): mostly 0 or small."""
    prev = np.empty_like(sstart)
    prev[1:] = sstart[:-1]
    new_row = np.ones(len(srow), bool)
    new_row[1:] = srow[1:] != srow[:-1]
    prev[new_row] = task_start[srow[new_row]]
    return sstart - prev


def view_data(run, title=None):
    """The page's data: columns (arrays), not an object per span, so 10^5
    tasks stay a few MB and parse fast.  A span's start is given as the
    time since its task's previous span started, and its end as a
    duration: small numbers, short text."""
    c = fbplot._Checker(run.name)
    v = run.vocab
    order = np.argsort(run.span_row, kind="stable")   # spans grouped by row, in report order
    srow = run.span_row[order]
    sstart = run.span_start_us[order]
    send = run.span_end_us[order]
    wait, links, errs, kinds = _task_extras(run, c)
    row_of = {int(i): r for r, i in enumerate(run.ids.tolist())}
    states = []
    for k, name in enumerate(v.states):
        st = v.styles[k]
        states.append({"name": name, "label": st["label"], "colour": st["colour"],
                       "edge": st["edge"], "hatch": st["hatch"] is not None,
                       "wait": bool(v.wait[k]), "encloses": bool(v.encloses[k])})
    outcomes = []
    for k, name in enumerate(v.outcomes):
        o = {"name": name, "ok": bool(v.outcome_ok[k])}
        if not o["ok"]:
            marker, _, colour, filled = fbplot.outcome_mark(name)
            o.update(marker=marker, colour=colour, filled=filled)
        outcomes.append(o)
    srv = run.report.run_docs[run.index].get("server")
    server = None
    if run.in_service is not None:
        queued = None
        if isinstance(srv, dict) and "queued_samples" in srv:
            queued = _steps(c.pairs(srv["queued_samples"], f"{run._w('server')}.queued_samples"))
        server = {"capacity": run.capacity, "in_service": _steps(run.in_service),
                  "queued": queued}
    lt = run.lifetimes
    nruns = len(run.report.run_docs)
    return {
        "title": title if title is not None else f"fetchbench: {run.headline()}",
        "details": run.details(),
        "which": (f"run {run.index} of the report's {nruns}" if nruns > 1 else ""),
        "end_us": int(run.end_us),
        "wall_us": int(run.wall_us),
        "keys": int(run.keys),
        "states": states,
        "outcomes": outcomes,
        "links": kinds,
        "tasks": {
            # null: the ids are 0..n-1, or every key is 0
            "id": None if np.array_equal(run.ids, np.arange(run.ntasks)) else _ints(run.ids),
            "key": _ints(run.task_key) if run.task_key.any() else None,
            "start": _ints(run.task_start_us),
            "dur": _ints(run.task_end_us - run.task_start_us),
            "outcome": _ints(run.outcome),
            "nspans": _ints(np.bincount(srow, minlength=run.ntasks)),
            "wait": _ints(wait) if (wait >= 0).any() else None,
        },
        "spans": {
            "state": _ints(run.span_state[order]),
            "start": _ints(_starts(sstart, run.task_start_us, srow)),
            "dur": _ints(send - sstart),
        },
        "waited_on": links if links["row"] else None,
        "errors": errs if errs["row"] else None,
        "threads": {
            "baseline": int(run.baseline), "samples": _steps(run.thread_samples),
            "start": _ints(lt[:, 0]), "dur": _ints(lt[:, 1] - lt[:, 0]),
            "task": _thread_tasks(run, c, row_of),
        },
        "server": server,
    }


def _asset(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


def render(data):
    """The whole page as a string."""
    # "</" inside a script element would end it; "<\/" is the same JSON
    blob = json.dumps(data, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).replace("</", "<\\/")
    js = _asset("fbhtml.js")
    css = _asset("fbhtml.css")
    t = html.escape(data["title"])
    # the policy forbids every load from elsewhere, so a regression that adds
    # one fails loudly (a console error) instead of phoning out
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{t}</title>
<style>{css}</style>
</head><body>
<header><h1 id="title">{t}</h1><p id="details"></p><p id="which"></p>
<div id="controls"><button id="zout" title="zoom out (-)">&minus;</button><button id="zin" title="zoom in (+)">+</button><button id="zreset" title="whole run (0)">whole run</button><button id="zlinks" title="zoom onto the waited_on links of the selected task's chain, or all (f)">fit links</button>
<span id="range"></span><span id="hint">wheel or +/&minus; to zoom, drag or &larr;/&rarr; to pan, click a task to show who it waited on, f to fit its links</span></div>
<div id="legend"></div></header>
<div id="wrap"><canvas id="view" tabindex="0"></canvas><div id="tip" hidden></div></div>
<div id="selection"></div>
<script type="application/json" id="fbdata">{blob}</script>
<script>{js}</script>
</body></html>
"""


def write_html(report, run_index, out_path, title=None):
    """Writes run run_index of report (an fbplot.Report) to out_path as one
    self-contained HTML page, atomically (a temporary file beside it, renamed
    into place: a failure leaves no partial file).  Raises fbplot.BadInput
    for an unusable run or path, OSError when it cannot write."""
    check_output(out_path)
    page = render(view_data(report.run(run_index), title)).encode("utf-8", "replace")
    fbplot.atomic_write(out_path, "html", lambda f: f.write(page))


def check_output(path):
    """BadInput unless path ends in .html/.htm and its directory exists."""
    if not path.lower().endswith(EXTENSIONS):
        raise fbplot.BadInput(f"{path}: an HTML view must be written to a .html file")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise fbplot.BadInput(f"{path}: no such directory '{parent}'")


def _index(text):
    """A non-negative integer argument, strictly."""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise argparse.ArgumentTypeError("expected a run index (0, 1, ...), got "
                                         f"{fbplot.one_line(repr(text))[:30]}")
    return int(text)


def main():
    p = fbplot.ArgParser(prog=PROG, description=__doc__.strip())
    p.add_argument("input", nargs="?", default="-", metavar="FILE",
                   help="fetchbench JSON report ('-' or absent: stdin)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="page to write; .html")
    p.add_argument("--run", type=_index, metavar="N", help="show run N (0 = the first)")
    p.add_argument("--mode", metavar="NAME", help="show the (first) run of this mode")
    p.add_argument("--repeat", type=_index, metavar="K", help="with --mode: its repeat K")
    p.add_argument("--title", help="replace the generated title")
    args = p.parse_args(sys.argv[1:])
    if args.run is not None and (args.mode is not None or args.repeat is not None):
        p.error("--run cannot go with --mode or --repeat")
    if args.repeat is not None and args.mode is None:
        p.error("--repeat needs --mode")
    check_output(args.output)
    report = fbplot.load(args.input)
    write_html(report, report.select(args.run, args.mode, args.repeat), args.output, args.title)


if __name__ == "__main__":
    fbplot.main(PROG, main)
