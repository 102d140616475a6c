"""Shared by scripts/plot-timeline and scripts/plot-compare: reading and
checking fetchbench/2 reports (fetchbench/1 ones are read as v2: one run,
the built-in v1 vocabulary), the state colours and marks taken from a
report's vocabulary, the task-timeline drawings
(one row per task, or a density view when rows outnumber pixels), the thread
and server lanes with their stacked event marks, the choice of a zoom on the
start of the run, and writing a figure atomically.

Errors the user can fix are raised as BadInput and reported by main() as one
line on stderr with exit status 2; nothing here prints a traceback for them.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import zlib

import numpy as np

SCHEMA_V1, SCHEMA_V2 = "fetchbench/1", "fetchbench/2"
FORMATS = ("png", "svg")
DPI = 110

# The states fetchbench/1 knew, and the core states added since (the
# server's queue and service, which split "request" when the server says
# how long a request queued), in drawing/stacking/legend order; their
# colours and labels are kept.  A report's vocabulary may name others: they
# follow these, in the vocabulary's order, coloured by name (state_style).
V1_STATES = ("created", "lock_wait", "lock_held", "cache_check", "cache_hit",
             "queued", "dns", "connect", "request", "receive")
STATES = ("created", "lock_wait", "lock_held", "cache_check", "cache_hit",
          "queued", "dns", "connect", "server_queue", "in_service", "request", "receive")
LABELS = {
    "created": "created (not yet run)",
    "lock_wait": "lock wait",
    "lock_held": "lock held",
    "cache_check": "cache check",
    "cache_hit": "cache hit",
    "queued": "queued (libcurl has not started it)",
    "dns": "DNS",
    "connect": "connect",
    "request": "request (to first byte)",
    "server_queue": "server queue (waiting for a slot)",
    "in_service": "in service (to first byte)",
    "receive": "receive",
}
COLOURS = {
    "created": "#cfcfcf",
    "lock_wait": "#d62728",
    "lock_held": "#fde9a9",      # band fill; outlined in LOCK_EDGE
    "cache_check": "#9467bd",
    "cache_hit": "#ff9f1c",
    "queued": "#c9a46b",
    "dns": "#9ecae1",
    "connect": "#4292c6",
    "request": "#08519c",
    # a wait, but the server's, not a lock's: magenta beside lock wait's red
    "server_queue": "#e7298a",
    "in_service": "#2166ac",     # the request's blue: the server is working on it
    "receive": "#2ca25f",
}
LOCK_EDGE = "#a07800"
# Colours for states no built-in list names, picked by a CRC of the name so
# a name keeps its colour across runs, reports and machines.  A wait state
# takes one from the red family (lock wait's red says "waiting" in every
# picture of this tool) and is hatched in the rows view, so it still reads
# as waiting beside lock wait itself; the others take a hue the built-in
# states do not use.  Neither list holds a built-in colour.
WAIT_PALETTE = ("#fb9a99", "#c51b7d", "#9e0142", "#f768a1", "#ff6f61")
OTHER_PALETTE = ("#17becf", "#bcbd22", "#8c564b", "#6a3d9a", "#1b9e77", "#525252", "#a6761d")
WAIT_HATCH = "////"
ERROR_COLOUR = "#e31a1c"
MODE_COLOURS = {"lock": "#1f77b4", "nolock": "#ff7f0e"}
MODE_PALETTE = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
# How tasks that ended in an outcome that is not ok are marked at their end:
# (marker, size scale, colour, filled).  Other not-ok outcomes get a marker
# and colour by name; ok outcomes are not marked (their spans tell them).
OUTCOME_MARKS = {
    "error": ("X", 1.0, ERROR_COLOUR, True),
    "cancelled": ("|", 1.0, "#444444", False),
    "timed_out": ("v", 0.8, "#67000d", True),
    "shared_error": ("P", 0.8, "#fb6a4a", True),
}
MARK_SHAPES = ("D", "^", "s", "*", "p", "h")
MARK_PALETTE = ("#54278f", "#b35806", "#005a32", "#7f2704", "#08306b")

# The kinds of "waited_on" link, in legend order, and how each is drawn:
# (colour, line style, legend label).  A kind not listed gets grey.
LINKS = ("handoff", "result", "value")
LINK_STYLES = {
    "handoff": ("#111111", "-", "lock handed over (release → grant)"),
    "result": ("#6a3d9a", "--", "result shared (leader → follower)"),
    "value": ("#1b7837", ":", "value read (stored → read)"),
}
LINKS_MAX = 50      # more tasks than this: no links drawn (a note says so)

# The vocabulary of every fetchbench/1 report (they carry none).
V1_VOCABULARY = {
    "states": [{"name": s, "wait": s in ("created", "queued", "lock_wait"),
                "encloses": s == "lock_held",
                "fetch": s in ("queued", "dns", "connect", "request", "receive")}
               for s in V1_STATES],
    "outcomes": [{"name": "fetched", "ok": True}, {"name": "cache_hit", "ok": True},
                 {"name": "error", "ok": False}, {"name": "cancelled", "ok": False}],
    "counters": [],
    "stages": ["resolve", "connect", "tls", "timeout", "http_status", "read",
               "body_too_large", "other"],
}


def _by_name(name, palette):
    return palette[zlib.crc32(name.encode("utf-8", "surrogatepass")) % len(palette)]


def state_style(name, wait, encloses):
    """How a state is drawn: {"colour", "edge", "hatch", "label"}; a
    function of its name and flags only, so runs of different reports agree."""
    if name in COLOURS:
        return {"colour": COLOURS[name], "edge": LOCK_EDGE if encloses else None,
                "hatch": None, "label": LABELS[name]}
    colour = _by_name(name, WAIT_PALETTE if wait else OTHER_PALETTE)
    edge = None
    if encloses:
        # a band behind the spans it encloses: a pale tint, outlined in the colour
        from matplotlib.colors import to_rgb
        edge = colour
        colour = "#%02x%02x%02x" % tuple(int(255 * (0.75 + 0.25 * c)) for c in to_rgb(colour))
    return {"colour": colour, "edge": edge, "hatch": WAIT_HATCH if wait and not encloses else None,
            "label": drawable(name + (" (wait)" if wait else ""))}


def outcome_mark(name):
    """(marker, size scale, colour, filled) for a task that ended so."""
    if name in OUTCOME_MARKS:
        return OUTCOME_MARKS[name]
    return (_by_name(name, MARK_SHAPES), 0.8, _by_name(name, MARK_PALETTE), True)


def mode_colour(mode):
    return MODE_COLOURS.get(mode) or _by_name(mode, MODE_PALETTE)


class BadInput(Exception):
    """A usage error or unusable input: one line, exit status 2."""


class ArgParser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block) and exit 2."""

    def __init__(self, **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(**kw)

    def error(self, message):
        raise BadInput(f"{message} (see --help)")


def main(prog, body):
    """Runs body(), turning expected failures into one stderr line."""
    try:
        body()
    except BadInput as e:
        print(f"{prog}: {one_line(str(e))}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prog}: {one_line(where + str(e.strerror or e))}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:   # noqa: BLE001 -- the last resort; every known cause is checked
        print(f"{prog}: internal error: {type(e).__name__}: {one_line(str(e))}", file=sys.stderr)
        sys.exit(2)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def one_line(text):
    """text with control characters (newlines among them) and lone
    surrogates shown as escapes, so a message stays one printable line."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


# --------------------------------------------------------------- output --

def output_format(path):
    """The format named by OUT's extension; checked before any work."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        shown = f"'.{ext}'" if ext else "(no extension)"
        raise BadInput(f"{path}: unknown output format {shown}; use .png or .svg")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise BadInput(f"{path}: no such directory '{parent}'")
    return ext


def save(fig, path, fmt):
    """Writes fig to path atomically (see atomic_write)."""
    meta = {"Date": None} if fmt == "svg" else {"Software": None}
    atomic_write(path, fmt, lambda f: fig.savefig(f, format=fmt, dpi=DPI, metadata=meta))


def atomic_write(path, ext, write):
    """Calls write(f) on a temporary file beside path, then renames it into
    place with the mode a new file gets: a failed run leaves no partial
    output."""
    parent = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".", suffix=f".{ext}.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported only when drawing."""
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "fetchbench"
    matplotlib.rcParams["svg.fonttype"] = "none"   # text stays text
    matplotlib.rcParams["path.simplify"] = True
    # a report's text (a URL with $x$, a file name) is never math
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt
    return plt


_GLYPHS = None


def drawable(text):
    """text as the figure can show it: control characters, lone surrogates
    and characters the font has no glyph for become escapes (\\x01,
    \\u65e5), so nothing is drawn as a box or warned about on stderr."""
    global _GLYPHS
    if _GLYPHS is None:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font
        path = font_manager.findfont(font_manager.FontProperties())
        _GLYPHS = frozenset(FT2Font(path).get_charmap())
    out = []
    for ch in text:
        if ch.isprintable() and (ord(ch) < 0x80 or ord(ch) in _GLYPHS):
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])
    return "".join(out)


# ---------------------------------------------------------------- input --

def load(path):
    """Reads and checks one report (path, or '-' for stdin; fetchbench/1 or
    /2); returns a Report."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            if sys.stdin.isatty():
                raise BadInput("no input: name a FILE or pipe a report into stdin")
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except OSError as e:
        raise BadInput(f"{name}: {e.strerror}") from None
    except KeyboardInterrupt:
        raise
    try:
        doc, v1 = read_report(raw)
    except (JSONProblem, BadInput) as e:
        raise BadInput(f"{name}: {e}") from None
    return Report(name, doc, v1)


# ----------------------------------------------------------- strict JSON --
#
# Python's json module accepts what a report must not hold: NaN and
# Infinity, numbers no C integer or double holds (it makes 1e400 infinite
# and keeps 10**30 exact), and a repeated key (the last one wins, silently).
# fetchbench compare refuses all of these, so the scripts and the tests
# refuse them too, naming the field.  The top-level object is read value by
# value and the task array task by task, so a consumer can stream a report
# of a million tasks without building it as one tree.

INT_MIN, INT_MAX = -2 ** 63, 2 ** 63 - 1
_WS = re.compile(r"[ \t\n\r]*")


class JSONProblem(ValueError):
    """Input that is not strict JSON; the message is one line without the
    file's name."""


class _Bad:
    """Stands in for a value the hooks refused until its path is known."""
    __slots__ = ("what",)

    def __init__(self, what):
        self.what = what


class _DupDict(dict):
    """A JSON object that repeated a key (kept: dup, the first repeated)."""
    __slots__ = ("dup",)


class _Decoder:
    """A json.JSONDecoder whose hooks mark refused values; problems counts
    them so a clean value is never walked a second time."""

    def __init__(self):
        self.problems = 0
        self.json = json.JSONDecoder(object_pairs_hook=self._object, parse_int=self._int,
                                     parse_float=self._float, parse_constant=self._constant)

    def _object(self, pairs):
        d = dict(pairs)
        if len(d) == len(pairs):
            return d
        seen = set()
        for k, _ in pairs:
            if k in seen:
                break
            seen.add(k)
        d = _DupDict(d)
        d.dup = k
        self.problems += 1
        return d

    def _int(self, s):
        # 4,300 digits and more is a ValueError in int() itself
        if len(s) <= 20:
            v = int(s)
            if INT_MIN <= v <= INT_MAX:
                return v
        self.problems += 1
        return _Bad(f"number out of range ({_clip(s)})")

    def _float(self, s):
        v = float(s)
        if v in (float("inf"), float("-inf")):
            self.problems += 1
            return _Bad(f"number out of range ({_clip(s)})")
        return v

    def _constant(self, s):
        self.problems += 1
        return _Bad(f"{s} is not JSON")

    def value(self, text, pos, where):
        """The JSON value at text[pos:] and the position after it; raises
        JSONProblem naming the first refused field under where."""
        before = self.problems
        try:
            v, end = self.json.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise JSONProblem(_syntax(text, e)) from None
        except RecursionError:
            raise JSONProblem(f"not JSON (nested too deeply at {where or 'top level'})") from None
        if self.problems != before:
            raise JSONProblem(_first_problem(v, where))
        return v, end


def _clip(s):
    return s if len(s) <= 24 else s[:20] + "..."


def _syntax(text, e):
    if e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string"):
        body = text.rstrip()
        line = body.count("\n") + 1
        col = len(body) - 1 - body.rfind("\n")
        return f"truncated JSON (ends at line {line} column {col})"
    return f"not JSON (line {e.lineno} column {e.colno})"


def _join(where, key):
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _first_problem(v, where):
    """The first refused value or repeated key in v, in document order."""
    stack = [(v, where)]
    while stack:
        v, w = stack.pop()
        if isinstance(v, _Bad):
            return f"{w or 'top level'}: {v.what}"
        if isinstance(v, _DupDict):
            return f'duplicate key "{_join(w, v.dup)}"'
        if isinstance(v, dict):
            stack.extend(reversed([(x, _join(w, k)) for k, x in v.items()]))
        elif isinstance(v, list):
            stack.extend(reversed([(x, _join(w, i)) for i, x in enumerate(v)]))
    return f"{where or 'top level'}: refused"


def read_json(raw, stream="tasks", on_item=None):
    """Parses raw (bytes or str) as strict JSON.  When the top level is an
    object, its members are read one by one, and so is the array under the
    key named by stream: with on_item, each of its items goes to
    on_item(index, item) and the array is replaced by its length, so only
    one item is in memory at a time.  Raises JSONProblem."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JSONProblem(f"not JSON (invalid UTF-8 at byte {e.start})") from None
    else:
        text = raw
    if not text.strip():
        raise JSONProblem("not JSON (empty input)")
    dec = _Decoder()
    pos = _WS.match(text, 0).end()
    if text[pos] != "{":
        doc, pos = dec.value(text, pos, "")
    else:
        doc, pos = _read_object(dec, text, pos, stream, on_item)
    pos = _WS.match(text, pos).end()
    if pos != len(text):
        raise JSONProblem(_syntax(text, json.JSONDecodeError("Extra data", text, pos)))
    return doc


def _expect(text, pos, chars):
    pos = _WS.match(text, pos).end()
    if pos >= len(text) or text[pos] not in chars:
        raise JSONProblem(_syntax(text, json.JSONDecodeError("Expecting", text, pos)))
    return pos + 1, text[pos]


def _read_object(dec, text, pos, stream, on_item):
    doc = {}
    pos += 1
    pos = _WS.match(text, pos).end()
    if text.startswith("}", pos):
        return doc, pos + 1
    while True:
        pos = _WS.match(text, pos).end()
        if not text.startswith('"', pos):
            raise JSONProblem(_syntax(text, json.JSONDecodeError("Expecting", text, pos)))
        key, pos = dec.value(text, pos, "")
        if key in doc:
            raise JSONProblem(f'duplicate key "{key}"')
        pos, _ = _expect(text, pos, ":")
        pos = _WS.match(text, pos).end()
        if key == stream and text.startswith("[", pos):
            doc[key], pos = _read_array(dec, text, pos, key, on_item)
        else:
            doc[key], pos = dec.value(text, pos, key)
        pos, c = _expect(text, pos, ",}")
        if c == "}":
            return doc, pos


def _read_array(dec, text, pos, where, on_item):
    items = []
    n = 0
    pos += 1
    pos = _WS.match(text, pos).end()
    if text.startswith("]", pos):
        return (0 if on_item else items), pos + 1
    while True:
        pos = _WS.match(text, pos).end()
        item, pos = dec.value(text, pos, f"{where}[{n}]")
        if on_item is not None:
            on_item(n, item)
        else:
            items.append(item)
        n += 1
        pos, c = _expect(text, pos, ",]")
        if c == "]":
            return (n if on_item else items), pos


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class _Checker:
    """Field access that names the offending field in its error."""

    def __init__(self, name):
        self.name = name

    def fail(self, where, what):
        raise BadInput(f"{self.name}: {where}: {what}")

    def get(self, obj, key, where, kind, nullable=False):
        if not isinstance(obj, dict) or key not in obj:
            self.fail(where, "missing")
        v = obj[key]
        if v is None and nullable:
            return None
        ok = {"int": _is_int(v), "str": isinstance(v, str), "obj": isinstance(v, dict),
              "list": isinstance(v, list), "bool": isinstance(v, bool),
              "num": isinstance(v, (int, float)) and not isinstance(v, bool)}[kind]
        if not ok:
            want = {"int": "an integer", "str": "a string", "obj": "an object",
                    "list": "an array", "bool": "true or false", "num": "a number"}[kind]
            self.fail(where, f"expected {want}{' or null' if nullable else ''}")
        if kind in ("int", "num") and v < 0:
            self.fail(where, "negative")
        return v

    def pairs(self, lst, where):
        """[[t, n], ...] as an int64 array of shape (k, 2)."""
        if isinstance(lst, list) and not lst:
            return np.zeros((0, 2), np.int64)
        try:
            a = np.asarray(lst, dtype=object)
            if a.ndim != 2 or a.shape[1] != 2 or not all(_is_int(v) for v in a.flat):
                raise ValueError
            return a.astype(np.int64)
        except (ValueError, TypeError):
            self.fail(where, "expected an array of [integer, integer] pairs")



def v1_to_v2(doc):
    """A fetchbench/1 document in the fetchbench/2 shape: its one run under
    "runs", the built-in v1 vocabulary, the default workload (every task on
    key 0, arriving at 0) and spans as [state, start_us, end_us].  Takes
    what it finds: a field that is missing or of the wrong type is left for
    Report's checks to name.  Returns a new dict; doc is not changed."""
    cfg = doc.get("config")
    mode = cfg.get("mode") if isinstance(cfg, dict) else None
    out = {k: v for k, v in doc.items() if k in ("schema", "tool", "config", "interrupted")}
    out["schema"] = SCHEMA_V2
    if isinstance(cfg, dict):
        out["config"] = dict(cfg, modes=[mode], repeat=1, workload={
            "seed": None, "keys": 1, "zipf": None, "arrival": "gather", "rate_per_s": None,
            "duration_ms": None, "ttl_ms": None})
        out["config"].pop("mode", None)
    out["vocabulary"] = V1_VOCABULARY
    run = {"mode": mode, "repeat": 0, "client": 0}
    for k in ("summary", "server", "threads", "tasks", "interrupted"):
        if k in doc:
            run[k] = doc[k]
    tasks = doc.get("tasks")
    if isinstance(tasks, list):
        run["tasks"] = [_v1_task(t) for t in tasks]
    out["runs"] = [run]
    out.setdefault("interrupted", False)
    return out


def _v1_task(t):
    if not isinstance(t, dict):
        return t
    t = dict(t)
    t.setdefault("key", 0)
    t.setdefault("arrival_us", 0)
    if isinstance(t.get("spans"), list):
        t["spans"] = [[sp["state"], sp["start_us"], sp["end_us"]]
                      if isinstance(sp, dict) and {"state", "start_us", "end_us"} <= sp.keys()
                      else sp for sp in t["spans"]]
    return t


def read_report(raw):
    """A fetchbench/1 or fetchbench/2 report from raw bytes, read as
    strictly as read_json (which stays a plain JSON reader: the test
    checkers read v1 reports and traces through it), in the fetchbench/2
    shape (v1_to_v2) so that readers speak v2 only.  Returns (doc, v1);
    raises JSONProblem for bad JSON, BadInput (without a file name) for a
    document that is no fetchbench report."""
    doc = read_json(raw)
    if not isinstance(doc, dict):
        raise BadInput("not a fetchbench report (top level is not an object)")
    if "schema" not in doc:
        raise BadInput("not a fetchbench report (no \"schema\" field)")
    if doc["schema"] == SCHEMA_V1:
        return v1_to_v2(doc), True
    if doc["schema"] != SCHEMA_V2:
        raise BadInput(f"schema is {json.dumps(doc['schema'])[:40]}, "
                       f"expected \"{SCHEMA_V2}\" or \"{SCHEMA_V1}\"")
    return doc, False


class Vocabulary:
    """A report's states and outcomes, each name given a small code.

    Known states keep fetchbench/1's order (so its pictures do not change),
    the rest follow in the report's order; wait, encloses and fetch are
    boolean arrays by code."""

    def __init__(self, c, voc):
        states = c.get(voc, "states", "vocabulary.states", "list")
        rows = []
        for i, st in enumerate(states):
            w = f"vocabulary.states[{i}]"
            rows.append((c.get(st, "name", f"{w}.name", "str"),
                         c.get(st, "wait", f"{w}.wait", "bool"),
                         c.get(st, "encloses", f"{w}.encloses", "bool"),
                         c.get(st, "fetch", f"{w}.fetch", "bool")))
        names = [r[0] for r in rows]
        for i, n in enumerate(names):
            if n in names[:i]:
                c.fail(f"vocabulary.states[{i}].name", f"{json.dumps(n)[:30]} named twice")
        known = {s: i for i, s in enumerate(STATES)}
        rows = [rows[i] for i in sorted(range(len(rows)),
                                        key=lambda i: (known.get(rows[i][0], len(STATES)), i))]
        self.states = tuple(r[0] for r in rows)
        self.code = {s: i for i, s in enumerate(self.states)}
        self.wait = np.array([r[1] for r in rows], bool)
        self.encloses = np.array([r[2] for r in rows], bool)
        self.fetch = np.array([r[3] for r in rows], bool)
        self.styles = [state_style(*r[:3]) for r in rows]
        outs = c.get(voc, "outcomes", "vocabulary.outcomes", "list")
        self.outcomes = tuple(c.get(o, "name", f"vocabulary.outcomes[{i}].name", "str")
                              for i, o in enumerate(outs))
        self.outcome_ok = np.array([c.get(o, "ok", f"vocabulary.outcomes[{i}].ok", "bool")
                                    for i, o in enumerate(outs)], bool)
        for i, n in enumerate(self.outcomes):
            if n in self.outcomes[:i]:
                c.fail(f"vocabulary.outcomes[{i}].name", f"{json.dumps(n)[:30]} named twice")
        self.outcome_code = {s: i for i, s in enumerate(self.outcomes)}
        # what a task can have waited on another for (older reports: none said)
        links = c.get(voc, "links", "vocabulary.links", "list") if "links" in voc else LINKS
        for i, k in enumerate(links):
            if not isinstance(k, str):
                c.fail(f"vocabulary.links[{i}]", "expected a string")
        self.links = tuple(links)

    def rgba(self, alpha=1.0):
        """The states' fill colours, one RGBA row per code."""
        from matplotlib.colors import to_rgba
        return np.array([to_rgba(st["colour"], alpha) for st in self.styles]).reshape(-1, 4)


class Report:
    """One checked report (either version, read as v2): the workload, the
    vocabulary and its runs, which are checked only when asked for."""

    def __init__(self, name, doc, v1=False):
        c = _Checker(name)
        self.name = name
        self.v1 = v1
        self.doc = doc
        cfg = c.get(doc, "config", "config", "obj")
        self.config = cfg
        self.ntasks_config = c.get(cfg, "tasks", "config.tasks", "int")
        self.repeat = c.get(cfg, "repeat", "config.repeat", "int")
        self.capacity = c.get(cfg, "capacity", "config.capacity", "int", nullable=True)
        self.delay_ms = c.get(cfg, "delay_ms", "config.delay_ms", "int", nullable=True)
        self.url = c.get(cfg, "url", "config.url", "str")
        self.fetch_cap = c.get(cfg, "fetch_cap", "config.fetch_cap", "int", nullable=True) \
            if "fetch_cap" in cfg else None
        w = c.get(cfg, "workload", "config.workload", "obj")
        self.keys = c.get(w, "keys", "config.workload.keys", "int")
        self.workload = {
            "keys": self.keys,
            "zipf": c.get(w, "zipf", "config.workload.zipf", "num", nullable=True),
            "arrival": c.get(w, "arrival", "config.workload.arrival", "str"),
            "rate_per_s": c.get(w, "rate_per_s", "config.workload.rate_per_s", "num",
                                nullable=True),
            "duration_ms": c.get(w, "duration_ms", "config.workload.duration_ms", "int",
                                 nullable=True),
            "ttl_ms": c.get(w, "ttl_ms", "config.workload.ttl_ms", "int", nullable=True),
        }
        self.vocab = Vocabulary(c, c.get(doc, "vocabulary", "vocabulary", "obj"))
        self.interrupted = "interrupted" in doc and \
            c.get(doc, "interrupted", "interrupted", "bool")
        self.run_docs = c.get(doc, "runs", "runs", "list")
        if not self.run_docs:
            raise BadInput(f"{name}: no runs (empty run list)")
        self.modes = []
        for i, r in enumerate(self.run_docs):
            m = c.get(r, "mode", self._where(i, "mode") or "config.mode", "str")
            c.get(r, "repeat", self._where(i, "repeat"), "int")
            if m not in self.modes:
                self.modes.append(m)

    def _where(self, i, key):
        """A run's field as the user's file names it (v1: at the top)."""
        return key if self.v1 else f"runs[{i}].{key}"

    def select(self, index=None, mode=None, repeat=None):
        """The index of the run chosen by --run or --mode/--repeat (default:
        the first); BadInput naming what there is when none matches."""
        n = len(self.run_docs)
        if index is not None:
            if not 0 <= index < n:
                raise BadInput(f"{self.name}: no run {index} (the report has "
                               f"{plural(n, 'run')}: 0" + (f" to {n - 1})" if n > 1 else ")"))
            return index
        if mode is None:
            return 0
        if mode not in self.modes:
            raise BadInput(f"{self.name}: no run of mode {json.dumps(mode)[:40]} "
                           f"(modes: {', '.join(self.modes)})")
        reps = [(i, r["repeat"]) for i, r in enumerate(self.run_docs) if r["mode"] == mode]
        if repeat is None:
            return reps[0][0]
        for i, k in reps:
            if k == repeat:
                return i
        raise BadInput(f"{self.name}: mode {mode} has no repeat {repeat} "
                       f"(repeats: {', '.join(str(k) for _, k in reps)})")

    def run(self, i):
        """Run i, checked."""
        return Run(self, i)

    def runs(self):
        return [Run(self, i) for i in range(len(self.run_docs))]


class Run:
    """One checked run, with the task and span tables as numpy arrays.

    Rows are tasks in id (spawn) order; times are µs from the run's start."""

    def __init__(self, report, index):
        name = report.name
        c = _Checker(name)
        self.report = report
        self.index = index
        self.name = name
        self.vocab = report.vocab
        for k in ("config", "ntasks_config", "capacity", "delay_ms", "url", "fetch_cap",
                  "keys", "workload"):
            setattr(self, k, getattr(report, k))
        doc = report.run_docs[index]
        W = lambda key: report._where(index, key)   # noqa: E731
        self._w = W
        self.mode = doc["mode"]
        self.repeat = doc["repeat"]
        self.interrupted = report.interrupted or \
            ("interrupted" in doc and c.get(doc, "interrupted", W("interrupted"), "bool"))
        s = c.get(doc, "summary", W("summary"), "obj")
        self.summary = s
        sw = W("summary")
        self.wall_us = c.get(s, "wall_us", f"{sw}.wall_us", "int")
        self.upstream = c.get(s, "upstream_requests", f"{sw}.upstream_requests", "int")
        self.server_requests = c.get(s, "server_requests", f"{sw}.server_requests", "int",
                                     nullable=True)
        self.cache_hits = c.get(s, "cache_hits", f"{sw}.cache_hits", "int")
        errs = c.get(s, "errors", f"{sw}.errors", "obj")
        self.errors = c.get(errs, "total", f"{sw}.errors.total", "int")
        self.peak_threads = c.get(s, "peak_threads", f"{sw}.peak_threads", "int")
        self.threads_created = c.get(s, "threads_created", f"{sw}.threads_created", "int")
        self.threads_failed = c.get(s, "threads_failed", f"{sw}.threads_failed", "int") \
            if "threads_failed" in s else 0
        self.peak_connections = c.get(s, "peak_connections", f"{sw}.peak_connections", "int")
        self.counters = {}
        if "counters" in s:
            for k, v in c.get(s, "counters", f"{sw}.counters", "obj").items():
                self.counters[k] = c.get(s["counters"], k, f"{sw}.counters.{k}", "int")

        tw = W("threads")
        th = c.get(doc, "threads", tw, "obj")
        self.baseline = c.get(th, "baseline", f"{tw}.baseline", "int")
        self.thread_samples = c.pairs(c.get(th, "samples", f"{tw}.samples", "list"),
                                      f"{tw}.samples")
        lts = c.get(th, "lifetimes", f"{tw}.lifetimes", "list")
        try:
            ls = np.array([lt["start_us"] for lt in lts], dtype=np.int64)
            le = np.array([-1 if lt["end_us"] is None else lt["end_us"] for lt in lts],
                          dtype=np.int64)
        except (KeyError, TypeError, ValueError, OverflowError):
            for i, lt in enumerate(lts):
                c.get(lt, "start_us", f"{tw}.lifetimes[{i}].start_us", "int")
                c.get(lt, "end_us", f"{tw}.lifetimes[{i}].end_us", "int", nullable=True)
            raise
        self.lifetime_open = le < 0
        # the task whose name lookup started each thread, -1 when unknown
        lt_task = []
        for i, lt in enumerate(lts):
            t = lt.get("task")
            if t is not None and not (_is_int(t) and t >= 0):
                c.fail(f"{tw}.lifetimes[{i}].task", "expected a task id or null")
            lt_task.append(-1 if t is None else t)
        self.lifetime_task = np.array(lt_task, np.int64)

        srv = doc.get("server", None)
        if "server" not in doc:
            c.fail(W("server"), "missing")
        self.in_service = None
        if srv is not None:
            if not isinstance(srv, dict):
                c.fail(W("server"), "expected an object or null")
            if "in_service_samples" in srv:
                self.in_service = c.pairs(srv["in_service_samples"],
                                          f"{W('server')}.in_service_samples")
        # requests waiting for a capacity slot (reports since issue 13)
        self.queued = None
        if isinstance(srv, dict) and "queued_samples" in srv:
            self.queued = c.pairs(srv["queued_samples"], f"{W('server')}.queued_samples")

        tasks = c.get(doc, "tasks", W("tasks"), "list")
        if not tasks:
            raise BadInput(f"{name}: {W('tasks')}: no tasks (empty task list)")
        self._tasks(c, tasks)

        # at least 1 µs: a run whose every time is 0 still gets a time axis
        end = max(1, self.wall_us, int(self.task_end_us.max()),
                  int(self.span_end_us.max()) if len(self.span_end_us) else 0)
        self.end_us = end
        le = np.where(self.lifetime_open, end, le)
        self.lifetimes = np.stack([ls, np.maximum(le, ls)], axis=1) if len(ls) else \
            np.zeros((0, 2), np.int64)

    def _tasks(self, c, tasks):
        v = self.vocab
        try:
            ids = np.array([t["id"] for t in tasks])
            start = np.array([t["start_us"] for t in tasks])
            end = np.array([t["end_us"] for t in tasks])
            keys = np.array([t["key"] for t in tasks])
            outcome = np.array([v.outcome_code[t["outcome"]] for t in tasks], dtype=np.int16)
            counts = np.array([len(t["spans"]) for t in tasks], dtype=np.int64)
            flat = [sp for t in tasks for sp in t["spans"]]
            if not all(type(sp) is list and len(sp) == 3 for sp in flat):
                raise TypeError
            sstate = np.array([v.code[sp[0]] for sp in flat], dtype=np.int16)
            sstart = np.array([sp[1] for sp in flat])
            send = np.array([sp[2] for sp in flat])
            for a in (ids, start, end, keys) + ((sstart, send) if flat else ()):
                if a.dtype.kind not in "iu" or (len(a) and a.min() < 0):
                    raise TypeError
        except (KeyError, TypeError, ValueError, OverflowError, IndexError):
            self._diagnose(c, tasks)
            raise BadInput(f"{c.name}: {self._w('tasks')}: malformed")
        order = np.argsort(ids, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self._links(c, tasks, ids, order, rank)
        self.ntasks = len(tasks)
        self.ids = ids[order]
        self.task_key = keys[order]
        self.task_start_us = start[order]
        self.task_end_us = np.maximum(end, start)[order]
        self.outcome = outcome[order]
        self.span_row = np.repeat(rank, counts)
        self.span_state = sstate
        self.span_start_us = sstart.astype(np.int64) if flat else np.zeros(0, np.int64)
        self.span_end_us = np.maximum(send, sstart).astype(np.int64) if flat else \
            np.zeros(0, np.int64)
        # a report older than wait_us: the sum of the spans in wait states
        given = self._wait_given
        if (given < 0).any():
            wt = v.wait[self.span_state]
            summed = np.bincount(self.span_row[wt], weights=(self.span_end_us - self.span_start_us)[wt],
                                 minlength=self.ntasks).astype(np.int64)
            given = np.where(given < 0, summed, given)
        self.wait_us = given

    def _links(self, c, tasks, ids, order, rank):
        """wait_us (from the report, or summed over the spans in wait
        states when it predates the field) and waited_on, by row:
        link_row (the other task's row, -1 for none), link_kind (its index
        in vocabulary.links) and link_at_us."""
        n = len(tasks)
        wait = np.full(n, -1, np.int64)
        link_row = np.full(n, -1, np.int64)
        link_kind = np.zeros(n, np.int64)
        link_at = np.zeros(n, np.int64)
        row_of = {int(i): int(rank[k]) for k, i in enumerate(ids.tolist())}
        w = self._w("tasks")
        kinds = {k: i for i, k in enumerate(self.vocab.links)}
        for k, t in enumerate(tasks):
            r = rank[k]
            if "wait_us" in t:
                wait[r] = c.get(t, "wait_us", f"{w}[{k}].wait_us", "int")
            lk = t.get("waited_on")
            if lk is None:
                continue
            lw = f"{w}[{k}].waited_on"
            other = c.get(lk, "task", f"{lw}.task", "int")
            kind = c.get(lk, "kind", f"{lw}.kind", "str")
            if kind not in kinds:
                c.fail(f"{lw}.kind", f"unknown link {json.dumps(kind)[:30]} (not in vocabulary.links)")
            if other not in row_of:
                c.fail(f"{lw}.task", f"no task {other} in this run")
            link_row[r] = row_of[other]
            link_kind[r] = kinds[kind]
            link_at[r] = c.get(lk, "at_us", f"{lw}.at_us", "int")
        self.link_row, self.link_kind, self.link_at_us = link_row, link_kind, link_at
        self._wait_given = wait

    def _diagnose(self, c, tasks):
        """The slow path: find and name the first malformed task field, by
        the path the user's file has (v1 spans are objects)."""
        v = self.vocab
        for i, t in enumerate(tasks):
            w = f"{self._w('tasks')}[{i}]"
            if not isinstance(t, dict):
                c.fail(w, "expected an object")
            for k in ("id", "start_us", "end_us", "key"):
                c.get(t, k, f"{w}.{k}", "int")
            o = c.get(t, "outcome", f"{w}.outcome", "str")
            if o not in v.outcome_code:
                c.fail(f"{w}.outcome", f"unknown outcome {json.dumps(o)[:30]} "
                       "(not in vocabulary.outcomes)" if not self.report.v1 else
                       f"unknown outcome {json.dumps(o)[:30]}")
            for j, sp in enumerate(c.get(t, "spans", f"{w}.spans", "list")):
                sw = f"{w}.spans[{j}]"
                if self.report.v1 and isinstance(sp, dict):
                    # v1_to_v2 left it as it was: a key is missing
                    for k, kind in (("state", "str"), ("start_us", "int"), ("end_us", "int")):
                        c.get(sp, k, f"{sw}.{k}", kind)
                if type(sp) is not list or len(sp) != 3:
                    c.fail(sw, "expected an object" if self.report.v1 else
                           "expected [state, start_us, end_us]")
                if not isinstance(sp[0], str):
                    c.fail(f"{sw}.state" if self.report.v1 else f"{sw}[0]", "expected a string")
                if sp[0] not in v.code:
                    c.fail(f"{sw}.state" if self.report.v1 else f"{sw}[0]",
                           f"unknown state {json.dumps(sp[0])[:30]}"
                           + ("" if self.report.v1 else " (not in vocabulary.states)"))
                for k, x in ((1, "start_us"), (2, "end_us")):
                    if not _is_int(sp[k]):
                        c.fail(f"{sw}.{x}" if self.report.v1 else f"{sw}[{k}]",
                               "expected an integer")
                    if sp[k] < 0:
                        c.fail(f"{sw}.{x}" if self.report.v1 else f"{sw}[{k}]", "negative")

    # -- descriptions ------------------------------------------------------

    def label(self):
        """The mode, and which repeat when the mode ran more than once."""
        return self.mode + (f" (repeat {self.repeat})" if self.report.repeat > 1 else "")

    def workload_text(self):
        """'1 key, all at 0', '8 keys (zipf 1.1), poisson arrivals at 50/s, ttl 200 ms'."""
        w = self.workload
        bits = [plural(w["keys"], "key") + (f" (zipf {w['zipf']:g})" if w["zipf"] is not None
                                             else "")]
        if w["arrival"] == "gather":
            bits.append("all arrive at 0")
        else:
            a = f"{drawable(w['arrival'])} arrivals"
            if w["rate_per_s"] is not None:
                a += f" at {w['rate_per_s']:g}/s"
            if w["duration_ms"] is not None:
                a += f" for {fmt_us(w['duration_ms'] * 1000)}"
            bits.append(a)
        if w["ttl_ms"] is not None:
            bits.append(f"ttl {fmt_us(w['ttl_ms'] * 1000)}")
        return ", ".join(bits)

    def headline(self):
        """mode, tasks, workload, wall time, upstream requests, peak threads."""
        return (f"{drawable(self.label())} · {plural(self.ntasks, 'task')} · "
                f"{self.workload_text()} · wall {fmt_us(self.wall_us)} · "
                f"{plural(self.upstream, 'upstream request')} · "
                f"peak {plural(self.peak_threads, 'thread')}")

    def details(self):
        cfg = self.config
        bits = [drawable(self.url)]
        if self.delay_ms is not None:
            bits.append(f"delay {self.delay_ms} ms")
        if cfg.get("embedded_server"):
            bits.append("capacity " + ("unlimited" if self.capacity is None else str(self.capacity)))
        bits.append(plural(self.cache_hits, "cache hit"))
        bits.append(plural(self.errors, "error"))
        bits.append(plural(self.threads_created, "thread") + " created")
        if self.threads_failed:
            bits.append(plural(self.threads_failed, "thread start") + " failed")
        if self.fetch_cap is not None:
            # the client's own limit (from its file descriptors), not a count
            bits.append(f"client's fetch cap {self.fetch_cap:,}")
        bits.append("peak " + plural(self.peak_connections, "connection"))
        for k, v in self.counters.items():
            bits.append(f"{drawable(k.replace('_', ' '))} {v:,}")
        if self.interrupted:
            bits.append("INTERRUPTED")
        return " · ".join(bits)

    def states_present(self, timed_only=False):
        """State codes with at least one span; with timed_only, only those
        with a span of non-zero length (the density view cannot show an
        instant).  A wait of no length is no wait (a request served at once
        has a zero-length server_queue): never counted."""
        st = self.span_state
        timed = self.span_end_us > self.span_start_us
        st = st[timed if timed_only else timed | ~self.vocab.wait[st]]
        return sorted(set(np.unique(st).tolist()))

    def outcome_rows(self, name):
        """Rows of the tasks that ended in outcome name (none if the
        vocabulary lacks it)."""
        k = self.vocab.outcome_code.get(name)
        return np.zeros(0, np.int64) if k is None else np.flatnonzero(self.outcome == k)

    def marked_outcomes(self):
        """Names of the outcomes, not ok, that some task of this run ended in."""
        v = self.vocab
        return [v.outcomes[k] for k in sorted(set(np.unique(self.outcome).tolist()))
                if not v.outcome_ok[k]]

    def state_mask(self, *names):
        """Spans in any of the named states."""
        m = np.zeros(len(self.span_state), bool)
        for n in names:
            if n in self.vocab.code:
                m |= self.span_state == self.vocab.code[n]
        return m

    # -- the first moments -------------------------------------------------

    def zoom_window(self, px_w, t1_us):
        """How much of the start of the run to show magnified, in µs, or
        None.  A zoom is drawn only when the resolutions, connects and
        thread lifetimes are typically under two pixels wide at full scale
        (px_w pixels for t1_us) and nearly all of them end within the first
        40 pixels; it then covers those, and the server's first requests."""
        us_per_px = t1_us / px_w
        m = self.state_mask("dns", "connect")
        lt = self.lifetimes
        durs = np.concatenate([self.span_end_us[m] - self.span_start_us[m],
                               lt[:, 1] - lt[:, 0]])
        if not len(durs) or np.median(durs) >= 2 * us_per_px:
            return None
        ends = np.concatenate([self.span_end_us[m], lt[:, 1]])
        early = ends <= 40 * us_per_px
        if early.mean() < 0.9:       # mostly later on: a zoom on the start misses them
            return None
        ends = ends[early]
        if self.in_service is not None and len(self.in_service):
            t = self.in_service[:, 0]
            ends = np.concatenate([ends, t[t <= 40 * us_per_px]])
        if not len(ends) or ends.max() <= 0:
            return None
        return _nice_ceil(ends.max() * 1.06)

    def link_grant_us(self, row):
        """When row's task went on after its waited_on link: the start of
        its first span, not a wait, at or after the link's time (its
        lock_held for a hand-off); the link's time when there is none."""
        at = self.link_at_us[row]
        m = (self.span_row == row) & (self.span_start_us >= at) & ~self.vocab.wait[self.span_state]
        return int(self.span_start_us[m].min()) if m.any() else int(at)

    def closeups(self, px_w, t1_us, most=3):
        """Where the action is sub-pixel at full scale (px_w pixels for
        t1_us), as up to `most` windows [(t0_us, t1_us, kind)] in time
        order, kind "start" or "hand-offs" or "burst".  The events are the
        ends of spans under two pixels long (but the fetch's long phases'),
        of thread lifetimes as short, and the times of waited_on links and
        their grants; events closer than ten pixels form a cluster, and a
        cluster is magnified when its rows outnumber its width in pixels
        (a column of rows whose order cannot be read at full scale)."""
        us_per_px = t1_us / px_w
        short = (self.span_end_us - self.span_start_us) < 2 * us_per_px
        short &= ~self.state_mask("request", "in_service", "receive")
        lt = self.lifetimes
        tl = (lt[:, 1] - lt[:, 0]) < 2 * us_per_px
        linked = np.flatnonzero(self.link_row >= 0) if self.ntasks <= 5000 else np.zeros(0, int)
        grants = np.array([self.link_grant_us(r) for r in linked.tolist()], np.int64)
        t = np.concatenate([self.span_start_us[short], self.span_end_us[short],
                            lt[tl, 0], lt[tl, 1], self.link_at_us[linked], grants])
        row = np.concatenate([self.span_row[short], self.span_row[short],
                              np.full(2 * tl.sum(), -1), self.link_row[linked], linked])
        if not len(t):
            return []
        order = np.argsort(t, kind="stable")
        t, row = t[order], row[order]
        cut = np.flatnonzero(np.diff(t) > 10 * us_per_px) + 1
        held = self.state_mask("lock_held") & ~short
        found = []
        for a, b in zip(np.concatenate([[0], cut]), np.concatenate([cut, [len(t)]])):
            lo, hi = int(t[a]), int(t[b - 1])
            rows = len(np.unique(row[a:b]))
            width_px = (hi - lo) / us_per_px
            if rows < 3 or width_px >= rows or width_px > 60:
                continue
            if lo <= 2 * us_per_px:
                kind = "start"
                if self.in_service is not None and len(self.in_service):
                    s = self.in_service[:, 0]
                    s = s[s <= hi + 10 * us_per_px]
                    hi = max(hi, int(s.max())) if len(s) else hi
                w = (0, _nice_ceil(max(hi, 1) * 1.06))
            else:
                grants_here = ((grants >= lo) & (grants <= hi)).any() or \
                    (self.state_mask("lock_held") & (self.span_start_us >= lo)
                     & (self.span_start_us <= hi) & ~held).sum() >= 2
                kind = "hand-offs" if grants_here else "burst"
                pad = max((hi - lo) * 0.12, 2)
                w = (max(0, lo - pad), hi + pad)
            found.append((rows, w[0], w[1], kind))
        found = sorted(found, key=lambda f: -f[0])[:most]
        return [(t0, t1, k) for _, t0, t1, k in sorted(found, key=lambda f: f[1])]

    def creation_note(self, us_per_px):
        """One line about thread creations: how many, how bunched (the most
        created within any 3 pixels at this scale), and the peak live."""
        s = np.sort(self.lifetimes[:, 0])
        n = len(s)
        live = f"peak {self.peak_threads} live"
        if n == 0:
            return f"no threads created; {live}"
        if n == 1:
            return f"1 thread created, at {fmt_us(s[0])}; {live}"
        if s[-1] - s[0] <= 3 * us_per_px:
            return f"{n:,} threads created, all within {fmt_us(s[-1] - s[0])}; {live}"
        hi = np.searchsorted(s, s + 3 * us_per_px, side="right")
        i = int(np.argmax(hi - np.arange(n)))
        k = int(hi[i] - i)
        span = fmt_us(s[hi[i] - 1] - s[i])
        if k > 1:
            return f"{n:,} threads created, up to {k:,} within {span}; {live}"
        return f"{n:,} threads created over {fmt_us(s[-1] - s[0])}; {live}"


def plural(n, word):
    """'1 connection', '2 connections', '1,000 tasks'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def fmt_us(us):
    """A duration in µs as a short human string: 48 µs, 0.95 ms, 2.1 ms, 13.8 s."""
    us = float(us)
    if us < 100:
        return f"{us:.0f} µs"
    if us < 1e6:
        ms = us / 1000
        return f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"
    return f"{us / 1e6:.3g} s"


def _nice_ceil(x):
    """The smallest of 1, 1.2, 1.5, 1.6, 2, 2.5, 3, 4, 5, 6, 8 (times a power
    of ten) not below x."""
    e = 10.0 ** np.floor(np.log10(x))
    for m in (1, 1.2, 1.5, 1.6, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= x * (1 - 1e-9):
            return m * e
    return 10 * e


# -------------------------------------------------------------- drawing --

def legend_handles(runs, timed_only=True):
    """Legend entries for the states with a span in any of runs (by name,
    in the first run's order, then the others'), then the outcomes marked
    at a task's end."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    seen, h = set(), []
    entries = []
    for r in runs:
        for code in r.states_present(timed_only):
            name = r.vocab.states[code]
            if name not in seen:
                seen.add(name)
                entries.append((r.vocab.code[name], r.vocab.styles[code], r))
    known = {s: i for i, s in enumerate(STATES)}
    entries.sort(key=lambda e: (known.get(e[2].vocab.states[e[0]], len(STATES)),))
    for _, st, _ in entries:
        h.append(Patch(facecolor=st["colour"], edgecolor=st["edge"] or st["colour"],
                       hatch=st["hatch"], label=st["label"],
                       linewidth=0.8 if st["edge"] or st["hatch"] else 0))
        if st["hatch"]:
            h[-1].set_edgecolor(_darker(st["colour"]))
    marked = []
    for r in runs:
        marked += [o for o in r.marked_outcomes() if o not in marked]
    for o in marked:
        marker, scale, colour, filled = outcome_mark(o)
        if filled:
            h.append(Line2D([], [], ls="none", marker=marker, ms=8 * scale, mfc=colour,
                            mec="black", mew=0.6, label=drawable(o.replace("_", " "))))
        else:
            h.append(Line2D([], [], ls="none", marker=marker, ms=9, mew=1.6, color=colour,
                            label=drawable(o.replace("_", " "))))
    return h


def _darker(colour, by=0.55):
    from matplotlib.colors import to_rgb
    return tuple(by * c for c in to_rgb(colour))


def fit_width(fig, text, width_in, min_size=7):
    """Shrinks a Text's font until it is at most width_in inches wide (a
    long workload or URL would otherwise run off the figure)."""
    w = text.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    if w > width_in > 0:
        text.set_fontsize(max(min_size, text.get_fontsize() * width_in / w * 0.97))


def task_axis_px(n):
    """Height in inches of a rows view of n tasks."""
    return min(max(0.24 * n + 0.5, 2.2), 9.0)


def use_rows(n, height_in, view="auto"):
    """Rows view when every row gets at least two pixels."""
    if view != "auto":
        return view == "rows"
    return n * 2 <= height_in * DPI


def heavy(count):
    """Whether an artist has so many parts that vector output (SVG) should
    carry it as an image instead."""
    return int(count) > 5000


def _boxes(x0, x1, y0, y1):
    v = np.empty((len(x0), 4, 2))
    v[:, 0, 0] = x0; v[:, 1, 0] = x0; v[:, 2, 0] = x1; v[:, 3, 0] = x1
    v[:, 0, 1] = y0; v[:, 1, 1] = y1; v[:, 2, 1] = y1; v[:, 3, 1] = y0
    return v


def _outcome_marks(ax, run, rows_y):
    """A mark at the end of every task whose outcome is not ok (the
    vocabulary says which), one shape and colour per outcome."""
    big = run.ntasks <= 60
    for name in run.marked_outcomes():
        rows = run.outcome_rows(name)
        marker, scale, colour, filled = outcome_mark(name)
        x, y = run.task_end_us[rows] / 1e6, rows_y[rows]
        if not filled:
            ax.scatter(x, y, marker=marker, s=80 if big else 12, c=colour, linewidths=1.6,
                       zorder=6, rasterized=heavy(len(rows)))
        elif marker == "X" and run.ntasks > 2000:
            ax.scatter(x, y, marker="x", s=8, c=colour, linewidths=0.7, zorder=6,
                       rasterized=heavy(len(rows)))
        else:
            ax.scatter(x, y, marker=marker, s=(60 if big else 14) * scale ** 2, c=colour,
                       edgecolors="black", linewidths=0.5, zorder=6,
                       rasterized=heavy(len(rows)))


def _point_out_fetchers(ax, run, dense, t1_us=None):
    """When a few tasks fetch for many (lock mode), their rows are too thin to
    see: redraw their spans (up to t1_us) as thick lines and label them."""
    from matplotlib.collections import LineCollection
    n = run.ntasks
    rows = run.outcome_rows("fetched")
    if n <= 40 or not 0 < len(rows) <= 3:
        return
    enclosing = run.vocab.encloses[run.span_state]
    for r in rows.tolist():
        m = (run.span_row == r) & ~enclosing
        if dense:
            x0, x1 = run.span_start_us[m] / 1e6, run.span_end_us[m] / 1e6
            if t1_us is not None:
                x0, x1 = np.minimum(x0, t1_us / 1e6), np.minimum(x1, t1_us / 1e6)
            segs = np.stack([np.stack([x0, np.full(len(x0), r)], 1),
                             np.stack([x1, np.full(len(x0), r)], 1)], 1)
            ax.add_collection(LineCollection(
                segs, colors=run.vocab.rgba()[run.span_state[m]], linewidths=3,
                capstyle="butt", zorder=5, clip_on=False))
        ts, te = run.task_start_us[r] / 1e6, run.task_end_us[r] / 1e6
        xm = (ts + te) / 2
        ax.annotate(f"task {run.ids[r]} fetches upstream", xy=(xm, r), xytext=(xm, r + 0.1 * n),
                    ha="center", va="center", fontsize=9, color="white", zorder=8,
                    bbox=dict(boxstyle="round,pad=0.3", fc=COLOURS["request"], ec="white"),
                    arrowprops=dict(arrowstyle="-|>", color="white", lw=1.2))


def draw_rows(ax, run):
    """One row per task: each span a coloured bar, lock_held a band behind."""
    from matplotlib.collections import LineCollection, PolyCollection
    n = run.ntasks
    rows = np.arange(n)
    # the task's life as a thin line, so gaps between spans still read
    segs = np.stack([np.stack([run.task_start_us / 1e6, rows], 1),
                     np.stack([run.task_end_us / 1e6, rows], 1)], 1)
    ax.add_collection(LineCollection(segs, colors="#9a9a9a", linewidths=0.6, zorder=1,
                                     rasterized=heavy(n)))

    y = run.span_row.astype(float)
    x0, x1 = run.span_start_us / 1e6, run.span_end_us / 1e6
    v = run.vocab
    thin = n > 150
    for k in np.flatnonzero(v.encloses).tolist():
        held = run.span_state == k
        if held.any():
            h = 0.46
            st = v.styles[k]
            ax.add_collection(PolyCollection(
                _boxes(x0[held], x1[held], y[held] - h, y[held] + h),
                facecolors=st["colour"], edgecolors=st["edge"],
                linewidths=0.3 if thin else 0.8, zorder=2, rasterized=heavy(held.sum())))
    hatched = np.array([st["hatch"] is not None for st in v.styles], bool)
    rest = ~v.encloses[run.span_state] & ~hatched[run.span_state]
    h = 0.30
    cols = v.rgba()[run.span_state[rest]]
    # edges in the fill colour give microsecond spans a visible hairline
    ax.add_collection(PolyCollection(
        _boxes(x0[rest], x1[rest], y[rest] - h, y[rest] + h),
        facecolors=cols, edgecolors=cols, linewidths=0.2 if thin else 0.6, zorder=3,
        antialiaseds=not thin, rasterized=heavy(rest.sum())))
    # a hatch is one per collection: one for each hatched (wait) state
    for k in np.flatnonzero(hatched).tolist():
        m = run.span_state == k
        if m.any():
            st = v.styles[k]
            ax.add_collection(PolyCollection(
                _boxes(x0[m], x1[m], y[m] - h, y[m] + h), facecolors=st["colour"],
                edgecolors=_darker(st["colour"]), hatch=st["hatch"],
                linewidths=0.2 if thin else 0.5, zorder=3, rasterized=heavy(m.sum())))
    _outcome_marks(ax, run, rows.astype(float))
    _point_out_fetchers(ax, run, dense=False)
    ax.set_ylim(n - 0.5, -0.5)
    if n <= 40:
        ax.set_yticks(rows)
        if run.keys > 1:
            # which key each task asked for: rows of one key read together
            labels = [f"{i} · k{k}" for i, k in zip(run.ids.tolist(), run.task_key.tolist())]
        else:
            labels = [str(i) for i in run.ids]
        ax.set_yticklabels(labels, fontsize=8 if n > 20 else 9)
    else:
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    ax.set_ylabel("task (spawn order)")


def draw_instants(ax, run, t0_us, t1_us, px_w):
    """In a close-up: spans under a pixel long (a hand-off's lock_held,
    cache check and cache hit take a microsecond or none) as ticks in
    their state's colour, so each row's step reads; the band of an
    enclosing state as an outlined box behind them."""
    us_per_px = (t1_us - t0_us) / px_w
    m = ((run.span_end_us - run.span_start_us) < us_per_px) & \
        (run.span_start_us >= t0_us) & (run.span_start_us <= t1_us)
    # a wait of no length is no wait (states_present leaves it out too)
    m &= (run.span_end_us > run.span_start_us) | ~run.vocab.wait[run.span_state]
    if not m.any():
        return
    v = run.vocab
    enc = v.encloses[run.span_state] & m
    x = run.span_start_us / 1e6
    y = run.span_row.astype(float)
    if enc.any():
        st = [v.styles[k] for k in run.span_state[enc]]
        ax.scatter(x[enc], y[enc], marker="s", s=70, facecolors=[a["colour"] for a in st],
                   edgecolors=[a["edge"] or "black" for a in st], linewidths=0.8, zorder=4)
    rest = m & ~enc
    ax.scatter(x[rest], y[rest], marker="|", s=90, linewidths=2.2,
               c=v.rgba()[run.span_state[rest]], zorder=5)


def link_kind_name(run, k):
    return run.vocab.links[k] if k < len(run.vocab.links) else str(k)


def draw_links(ax, run, windows, here):
    """Each task's waited_on as an arrow from the other task's row at the
    link's time to this task's row at its grant, drawn in the view `here`
    ((t0, t1) of a close-up, or None for the whole run) when the arrow
    belongs there: in the first close-up of windows holding both ends, or
    in the whole run when none does.  Nothing beyond LINKS_MAX tasks.
    Returns the link kinds drawn."""
    from matplotlib.patches import FancyArrowPatch
    if run.ntasks > LINKS_MAX:
        return set()
    drawn = set()
    for r in np.flatnonzero(run.link_row >= 0).tolist():
        a, g = int(run.link_at_us[r]), run.link_grant_us(r)
        home = next((w for w in windows if w[0] <= min(a, g) and max(a, g) <= w[1]), None)
        if (home[:2] if home else None) != (here[:2] if here else None):
            continue
        kind = link_kind_name(run, run.link_kind[r])
        colour, ls, _ = LINK_STYLES.get(kind, ("#777777", "-", kind))
        arrow = FancyArrowPatch((a / 1e6, run.link_row[r]), (g / 1e6, r), arrowstyle="-|>",
                                mutation_scale=7, color=colour, linestyle=ls, lw=0.9,
                                shrinkA=1, shrinkB=1, zorder=7,
                                connectionstyle="arc3,rad=0.0")
        arrow.set_gid(f"link-{kind}-{run.ids[r]}")
        ax.add_patch(arrow)
        drawn.add(kind)
    return drawn


def link_handles(kinds):
    """Legend entries for the link kinds drawn, in LINKS order."""
    from matplotlib.lines import Line2D
    out = []
    for k in sorted(kinds, key=lambda k: (LINKS.index(k) if k in LINKS else 99, k)):
        colour, ls, label = LINK_STYLES.get(k, ("#777777", "-", drawable(k)))
        out.append(Line2D([], [], color=colour, ls=ls, lw=1.2, marker=">", ms=4,
                          label=label))
    return out


def draw_row_labels(ax, run):
    """Each row's total wait and outcome as a column of text right of the
    axes (PyCharm lists each thread's waiting time so)."""
    from matplotlib.transforms import blended_transform_factory
    tr = blended_transform_factory(ax.transAxes, ax.transData)
    v = run.vocab
    for r in range(run.ntasks):
        name = v.outcomes[run.outcome[r]]
        ok = v.outcome_ok[run.outcome[r]]
        w = int(run.wait_us[r])
        ax.text(1.008, r, f"{fmt_us(w) if w else 'no'} wait · {drawable(name.replace('_', ' '))}",
                transform=tr, ha="left", va="center", fontsize=8 if run.ntasks > 20 else 8.5,
                color="#b2182b" if not ok else "#333333", clip_on=False, gid=f"row-label-{r}")


def occupancy(run, groups, ngroups, t1_us, nbins, states=None):
    """Tasks in each state, per row group and time bin: an array
    [state, group, bin] of time-averaged counts over [0, t1_us)."""
    w = t1_us / nbins
    sb = np.clip(run.span_start_us / w, 0, nbins)
    eb = np.clip(run.span_end_us / w, 0, nbins)
    bs = np.floor(sb).astype(np.int64)
    be = np.floor(eb).astype(np.int64)
    fs, fe = sb - bs, eb - be
    g = groups[run.span_row]
    size = ngroups * (nbins + 1)
    out = np.zeros((len(run.vocab.states), ngroups, nbins))
    for k in (states if states is not None else range(len(run.vocab.states))):
        m = run.span_state == k
        if not m.any():
            continue
        base = g[m] * (nbins + 1)
        i0, i1 = base + bs[m], base + be[m]
        d = np.bincount(i0, minlength=size) - np.bincount(i1, minlength=size)
        a = np.bincount(i1, weights=fe[m], minlength=size) - \
            np.bincount(i0, weights=fs[m], minlength=size)
        occ = np.cumsum(d.reshape(ngroups, nbins + 1), axis=1) + a.reshape(ngroups, nbins + 1)
        out[k] = occ[:, :nbins]
    return out


def draw_density(ax, run, t1_us, px_w, px_h):
    """Rows binned into pixel-high groups; each cell's colour mixes the
    states of its tasks over the cell's time span (white = none running).
    Returns the occupancy summed over groups, for the state-count lane."""
    n = run.ntasks
    ngroups = max(1, min(n, int(px_h)))
    nbins = max(50, int(px_w))
    groups = (np.arange(n) * ngroups) // n
    size = np.bincount(groups, minlength=ngroups).astype(float)
    occ = occupancy(run, groups, ngroups, t1_us, nbins)
    frac = occ / size[None, :, None]
    enclosing = run.vocab.encloses
    frac[enclosing] = 0
    rgb = run.vocab.rgba()[:, :3]
    img = np.ones((ngroups, nbins, 3))
    for k in range(len(run.vocab.states)):
        if not enclosing[k] and frac[k].any():
            img -= frac[k][:, :, None] * (1 - rgb[k])[None, None, :]
    img = np.clip(img, 0, 1)
    ax.imshow(img, aspect="auto", interpolation="nearest", origin="upper",
              extent=(0, t1_us / 1e6, n - 0.5, -0.5), zorder=1)
    _outcome_marks(ax, run, np.arange(n, dtype=float))
    _point_out_fetchers(ax, run, dense=True, t1_us=t1_us)
    ax.set_ylim(n - 0.5, -0.5)
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    ax.set_ylabel("task (spawn order)")
    per = n / ngroups
    note = (f"density view: {n:,} tasks in {ngroups:,} row bins"
            + (f" of ~{per:.0f}" if per >= 1.5 else "")
            + "; colour mixes the states of each bin's tasks")
    return occ.sum(axis=1), note


def draw_state_counts(ax, run, counts, t1_us, legend=True):
    """Stacked areas: how many tasks are in each state, and a line of how
    many have finished."""
    nbins = counts.shape[1]
    x = (np.arange(nbins) + 0.5) * (t1_us / 1e6) / nbins
    v = run.vocab
    order = [k for k in range(len(v.states)) if not v.encloses[k] and counts[k].any()]
    if order:
        ax.stackplot(x, [counts[k] for k in order], colors=[v.styles[k]["colour"] for k in order],
                     linewidth=0, step=None)
    edges = np.linspace(0, t1_us, 4 * nbins + 1)
    done = np.searchsorted(np.sort(run.task_end_us), edges, side="right")
    ax.step(edges / 1e6, done, where="post", color="black", lw=1.0, label="finished")
    ax.set_ylim(0, run.ntasks * 1.05)
    ax.set_ylabel("tasks")
    if legend:
        lane_legend(ax)


CREATE_COLOUR = "#e6550d"
LIFETIME_COLOUR, LIFETIME_EDGE = "#fdd0a2", "#d9822b"
SERVICE_COLOUR = "#08306b"
CREATE_BIN_PX = 3       # creations this close together stack into one column
CREATE_DOTS_MAX = 60    # taller stacks than this are drawn as bars


def event_bins(t_us, t1_us, px_w):
    """Events binned into CREATE_BIN_PX-pixel columns, for bars: the
    columns' left edges and counts, and the bin width, all in µs."""
    w = t1_us * CREATE_BIN_PX / px_w
    cols, counts = np.unique(np.floor(t_us / w).astype(np.int64), return_counts=True)
    return cols * w, counts, w


def event_stacks(t_us, t1_us, px_w):
    """Events (thread creations, requests entering service) stacked into
    columns for dots: a column starts at an event and takes every later one
    within CREATE_BIN_PX pixels of it.  Returns each event's height in its
    column (1, 2, ...), and the columns' first times (µs) and counts."""
    w = t1_us * CREATE_BIN_PX / px_w
    order = np.argsort(t_us, kind="stable")
    height = np.empty(len(t_us), np.int64)
    firsts, counts = [], []
    for i in order.tolist():
        t = t_us[i]
        if not firsts or t - firsts[-1] > w:
            firsts.append(t)
            counts.append(0)
        counts[-1] += 1
        height[i] = counts[-1]
    return height, np.array(firsts, np.int64), np.array(counts, np.int64)


def lane_legend(ax, handles=None):
    """A lane's legend in the margin right of it, framed on white: inside
    the lane it ran into notes and bars."""
    kw = {} if handles is None else {"handles": handles}
    ax.legend(loc="upper left", bbox_to_anchor=(1.006, 1.0), fontsize=7.5, frameon=True,
              facecolor="white", edgecolor="#bbbbbb", framealpha=1.0, borderaxespad=0,
              handlelength=1.4, **kw)


def draw_creations(ax, run, t1_us, px_w, t0_us=0, legend=True, note=True):
    """Thread creations on their own lane (a count of events, not of live
    threads): a dot per thread at its start, stacked into a column where
    several are created within CREATE_BIN_PX pixels (so twenty threads
    started in a millisecond read as a column of twenty even when their
    lifetimes are far below a pixel), or, when the stacks are too tall
    for dots, bars of the count per column.  With note, a line of how
    many and how bunched, top left."""
    starts = run.lifetimes[:, 0]
    inside = starts[(starts >= t0_us) & (starts <= t1_us)]
    ax.set_ylabel("created", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    if not len(inside):
        ax.set_ylim(0, 1.5)
        return
    span = t1_us - t0_us
    dots = len(inside) <= 4 * CREATE_DOTS_MAX
    if dots:
        height, _, counts = event_stacks(inside - t0_us, span, px_w)
        dots = counts.max() <= CREATE_DOTS_MAX
    if dots:
        tallest = int(counts.max())
        art = ax.scatter(inside / 1e6, height, s=22 if tallest <= 30 else 7, marker="o",
                         facecolors=CREATE_COLOUR, edgecolors="#7f2704", linewidths=0.5,
                         zorder=4, clip_on=False, label="thread created (a dot each)")
    else:
        left, counts, w = event_bins(inside - t0_us, span, px_w)
        left = left + t0_us
        tallest = int(counts.max())
        from matplotlib.collections import PolyCollection
        art = PolyCollection(_boxes(left / 1e6, (left + w) / 1e6, np.zeros(len(counts)), counts),
                             facecolors=CREATE_COLOUR, edgecolors="none", alpha=0.85, zorder=2,
                             label=f"threads created per {fmt_us(w)}",
                             rasterized=heavy(len(counts)))
        ax.add_collection(art)
    art.set_gid("thread-creations" if note else "thread-creations-closeup")
    ax.set_ylim(0, tallest * 1.25 + 0.5)
    if note:
        ax.text(0.012, 0.9, run.creation_note(span / px_w), transform=ax.transAxes,
                ha="left", va="top", fontsize=8.5, color="#7f2704", zorder=7,
                gid="thread-creation-note",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
    if legend:
        lane_legend(ax)


def draw_threads(ax, run, t1_us, px_w=None, legend=True, label_tasks=False):
    """Live threads (exact step function) over the threads' lifetimes,
    packed into slots above the baseline (creations have a lane of their
    own: draw_creations).  With label_tasks, a few lifetimes that carry
    their task are labelled "task 7's name lookup"."""
    from matplotlib.collections import PolyCollection
    lt = run.lifetimes
    nslots = 0
    if len(lt):
        import heapq
        order = np.lexsort((lt[:, 1], lt[:, 0]))
        slot = np.empty(len(lt), np.int64)
        free, busy = [], []
        for i in order.tolist():
            s, e = lt[i]
            while busy and busy[0][0] <= s:
                heapq.heappush(free, heapq.heappop(busy)[1])
            k = heapq.heappop(free) if free else nslots
            nslots = max(nslots, k + 1)
            slot[i] = k
            heapq.heappush(busy, (e, k))
        y0 = run.baseline + slot + 0.15
        ax.add_collection(PolyCollection(
            _boxes(lt[:, 0] / 1e6, lt[:, 1] / 1e6, y0, y0 + 0.7),
            facecolors=LIFETIME_COLOUR, edgecolors=LIFETIME_EDGE,
            linewidths=0.4 if len(lt) < 300 else 0,
            zorder=1, label="thread lifetimes", rasterized=heavy(len(lt))))
        known = run.lifetime_task >= 0
        if label_tasks and known.any() and len(lt) <= 6:
            for i in np.flatnonzero(known).tolist():
                ax.text(lt[i, 1] / 1e6, y0[i] + 0.35, f" task {run.lifetime_task[i]}'s name lookup",
                        ha="left", va="center", fontsize=7, color="#7f2704", zorder=6,
                        clip_on=True, gid=f"thread-task-{i}")
    top = max(run.peak_threads, run.baseline + nslots)
    s = run.thread_samples
    if len(s):
        xs = np.concatenate([s[:, 0], [max(t1_us, s[-1, 0])]]) / 1e6
        ys = np.concatenate([s[:, 1], [s[-1, 1]]])
        ax.step(xs, ys, where="post", color="#1b2a3a", lw=1.2 if px_w is not None else 0.9,
                zorder=3, label="live threads",
                rasterized=heavy(len(xs)))
        top = max(top, int(ys.max()))
    ax.axhline(run.baseline, color="#777777", lw=0.6, ls=":", zorder=2)
    ax.set_ylim(0, top * 1.15 + 0.5)
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.set_ylabel("threads")
    if legend:
        lane_legend(ax)


def _label_columns(ax, x_us, counts, colour):
    """The count above each of a few stacked columns of two or more."""
    if len(counts) > 12:
        return
    for x, k in zip(x_us.tolist(), counts.tolist()):
        if k >= 2:
            ax.annotate(f"{k}", xy=(x / 1e6, k), xytext=(0, 6), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8, fontweight="bold",
                        color=colour, zorder=7, annotation_clip=False,
                        bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))


def draw_service_starts(ax, run, t1_us, px_w):
    """A dot for every request entering service at the server (each rise of
    the in-service count), stacked into columns like the thread creations,
    so waves of requests read as columns of 8, 8, 4.  Returns the tallest
    column's height (0 when drawn not at all: too many to count)."""
    s = run.in_service
    if s is None or not len(s):
        return 0
    rise = np.diff(np.concatenate([[0], s[:, 1]]))
    up = rise > 0
    t = np.repeat(s[up, 0], rise[up])
    if not len(t) or len(t) > 4 * CREATE_DOTS_MAX:
        return 0
    height, first, counts = event_stacks(t, t1_us, px_w)
    if counts.max() > CREATE_DOTS_MAX:
        return 0
    art = ax.scatter(t / 1e6, height, s=14 if counts.max() <= 30 else 6, marker="o",
                     facecolors=SERVICE_COLOUR, edgecolors="white", linewidths=0.5, zorder=4,
                     clip_on=False, label="request enters service")
    art.set_gid("service-starts")
    _label_columns(ax, first, counts, SERVICE_COLOUR)
    return int(counts.max())


def _steps(samples, t1_us):
    """A [[t, n], ...] step function as x (s) and y arrays through t1_us."""
    if samples is None or not len(samples):
        return np.array([0, t1_us / 1e6]), np.zeros(2)
    xs = np.concatenate([samples[:, 0], [max(t1_us, samples[-1, 0])]]) / 1e6
    ys = np.concatenate([samples[:, 1], [samples[-1, 1]]])
    return xs, ys


def draw_server(ax, run, t1_us, px_w=None, legend=True):
    """Requests in service at the server (exact step function) and, when
    the report has the server's queue, the requests waiting for a slot
    stacked on top (the upper line is everything the server holds); with
    px_w (the lane's width in pixels) each request's entry into service
    (draw_service_starts)."""
    xs, ys = _steps(run.in_service, t1_us)
    ax.fill_between(xs, ys, step="post", color="#c6dbef", lw=0, rasterized=heavy(len(xs)))
    ax.step(xs, ys, where="post", color="#08519c", lw=1.2, label="requests in service",
            rasterized=heavy(len(xs)))
    top = max(1, int(ys.max()))
    if run.queued is not None and len(run.queued) and run.queued[:, 1].max() > 0:
        # both step functions on the union of their times, the queue on top
        t = np.union1d(run.in_service[:, 0] if len(run.in_service) else [], run.queued[:, 0])
        def at(sm):
            if not len(sm):
                return np.zeros(len(t))
            i = np.searchsorted(sm[:, 0], t, side="right") - 1
            return np.where(i >= 0, sm[np.maximum(i, 0), 1], 0)
        svc, q = at(run.in_service), at(run.queued)
        qx = np.concatenate([t, [max(t1_us, t[-1])]]) / 1e6
        lo = np.concatenate([svc, svc[-1:]])
        hi = lo + np.concatenate([q, q[-1:]])
        art = ax.fill_between(qx, lo, hi, step="post", facecolor="#fbd3e9",
                              edgecolor=COLOURS["server_queue"], hatch="////", lw=0,
                              label="queued (on top)",
                              rasterized=heavy(len(qx)))
        art.set_gid("server-queued")
        ax.step(qx, hi, where="post", color=COLOURS["server_queue"], lw=1.0,
                rasterized=heavy(len(qx)))
        top = max(top, int(hi.max()))
    if run.capacity is not None:
        ax.axhline(run.capacity, color="#08519c", lw=0.8, ls="--",
                   label=f"capacity {run.capacity}")
        top = max(top, run.capacity)
    if px_w is not None:
        top = max(top, draw_service_starts(ax, run, t1_us, px_w))
    ax.set_ylim(0, top * 1.3 + 0.5)
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.set_ylabel("server")
    if legend:
        lane_legend(ax)


def time_unit(span_us):
    """(units per second, name) for an axis spanning span_us: µs under
    2 ms, ms under 2 s, else s -- a 0.4 ms run is not "0.000 s"."""
    if span_us < 2e3:
        return 1e6, "µs"
    if span_us < 2e6:
        return 1e3, "ms"
    return 1.0, "s"


def style_time_axis(ax, t1_us, label=True, ms=None, t0_us=0, nbins=6):
    """x from t0_us to t1_us, labelled in the unit time_unit picks for its
    width (the data stay in seconds); ms is accepted for older callers and
    ignored: the unit follows the width."""
    ax.set_xlim(t0_us / 1e6, t1_us / 1e6)
    ax.grid(axis="x", color="#e4e4e4", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    per_s, unit = time_unit(t1_us - t0_us)
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    loc = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])
    ax.xaxis.set_major_locator(loc)

    def tick(v, _):
        ticks = loc.tick_values(*ax.get_xlim())
        step = (ticks[1] - ticks[0]) * per_s if len(ticks) > 1 else 1
        digits = max(0, int(-np.floor(np.log10(step) + 1e-9))) if step > 0 else 0
        return f"{v * per_s:.{digits}f}"
    ax.xaxis.set_major_formatter(FuncFormatter(tick))
    if label:
        ax.set_xlabel(f"time since start ({unit})")


def wall_line(ax, run):
    ax.axvline(run.wall_us / 1e6, color="#555555", lw=0.7, ls="--", zorder=5)


# ----------------------------------------------------------- strategies --
#
# Shared by scripts/plot-strategies and scripts/strategy-table: one report
# per workload, every strategy a mode of it.

def load_strategies(path):
    """load(path), refusing a fetchbench/1 report: it predates the figures
    a comparison of strategies is made of (stampede, waiters, load)."""
    report = load(path)
    if report.v1:
        raise BadInput(f"{report.name}: a fetchbench/1 report has no stampede, waiter or "
                       "load figures; rerun it with fetchbench to get a fetchbench/2 one")
    return report


def median_runs(report):
    """{mode: run index} in the report's mode order: each mode's run of
    median wall time (the lower middle of an even count, as the report's
    "repeats" take their medians), so a picture shows a run that happened."""
    out = {}
    for m in report.modes:
        idx = [i for i, r in enumerate(report.run_docs) if r["mode"] == m]
        walls = [figure(report.run_docs[i].get("summary"), "wall_us") for i in idx]
        order = sorted(range(len(idx)), key=lambda k: (walls[k] is None, walls[k] or 0, k))
        out[m] = idx[order[(len(order) - 1) // 2]]
    return out


def figure(obj, path, where="summary"):
    """The number at a dotted path ("latency_us.p99") of a summary, or None
    when any step is absent or null (an older report, no waiters, no
    server); a value that is no number is refused, naming where.path."""
    v = obj
    for key in path.split("."):
        if not isinstance(v, dict) or v.get(key) is None:
            return None
        v = v[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadInput(f"{where}.{path}: expected a number, got {one_line(json.dumps(v))[:30]}")
    return v


def run_load(report, index):
    """The backend's load of run index: (source, interval_us, counts) with
    counts[i] the most requests in service during [i, i+1) * interval_us,
    or None when the run has no "load" (an older report)."""
    doc = report.run_docs[index]
    if "load" not in doc:
        return None
    c = _Checker(report.name)
    w = f"runs[{index}].load"
    ld = c.get(doc, "load", w, "obj")
    source = c.get(ld, "source", f"{w}.source", "str")
    interval = c.get(ld, "interval_us", f"{w}.interval_us", "int")
    counts = c.get(ld, "max_in_service", f"{w}.max_in_service", "list")
    if interval <= 0:
        c.fail(f"{w}.interval_us", "not positive")
    if not all(_is_int(v) and v >= 0 for v in counts):
        c.fail(f"{w}.max_in_service", "expected an array of non-negative integers")
    return source, interval, np.asarray(counts, dtype=np.int64)
