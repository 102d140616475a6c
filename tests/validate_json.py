#!/usr/bin/python3
"""Validates fetchbench JSON files against their schema: the document's
"schema" field picks schema/fetchbench-1.schema.json or
schema/fetchbench-2.schema.json.
Usage: validate_json.py FILE...  (exit 1 naming the first error)

Reads like the plot scripts (scripts/fbplot.py read_json): a repeated key,
NaN or Infinity, or a number beyond a 64-bit integer or a double is refused
before the schema is consulted.  Tasks are validated one at a time (v1) or
one run at a time (v2), so a report is never held as one tree.  Each task
goes first through a plain-Python translation of the schema's task
definition (compile_schema); only a task it refuses goes to jsonschema,
which words the error -- jsonschema alone takes 30 s per 200,000 tasks."""
import gc
import json
import pathlib
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True
import fbplot  # noqa: E402
import check_report  # noqa: E402  (its read_head: the members before "runs")

SCHEMAS = {"fetchbench/1": ROOT / "schema" / "fetchbench-1.schema.json",
           "fetchbench/2": ROOT / "schema" / "fetchbench-2.schema.json"}


class Invalid(Exception):
    """One line: where in the report, and what is wrong."""


def _message(error, prefix=()):
    where = "/".join(str(p) for p in (*prefix, *error.absolute_path))
    return f"{where or '(top level)'}: {error.message}"


class _Unsupported(Exception):
    """A keyword compile_schema does not translate."""


_IGNORED = frozenset(("description", "title", "$comment"))
_TYPES = {"integer": "type({v}) is int", "number": "type({v}) in (int, float)",
          "string": "type({v}) is str", "boolean": "type({v}) is bool",
          "null": "{v} is None", "object": "type({v}) is dict", "array": "type({v}) is list"}


class _Compiler:
    """Translates a subset of JSON Schema into one Python expression.  What
    it accepts, the schema accepts (it may refuse more: 1.0 is an integer to
    the schema, not here); anything outside the subset raises _Unsupported
    and jsonschema does all the work."""

    def __init__(self, root):
        self.root = root
        self.consts = {}
        self.nvar = 0

    def const(self, value):
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def expr(self, s, v):
        if s is True or s == {}:
            return "True"
        if s is False:
            return "False"
        if "$ref" in s:
            if set(s) - _IGNORED - {"$ref"} or not s["$ref"].startswith("#/$defs/"):
                raise _Unsupported(s["$ref"])
            return self.expr(self.root["$defs"][s["$ref"][len("#/$defs/"):]], v)
        known = _IGNORED | {"type", "const", "enum", "minimum", "maximum", "exclusiveMinimum",
                            "minLength", "required", "properties", "additionalProperties",
                            "prefixItems", "items", "minItems", "maxItems"}
        if set(s) - known:
            raise _Unsupported(sorted(set(s) - known))
        parts = []
        if "const" in s or "enum" in s:
            values = [s["const"]] if "const" in s else s["enum"]
            if not all(type(x) is str for x in values):
                raise _Unsupported("const/enum of non-strings")
            parts.append(f"(type({v}) is str and {v} in {self.const(frozenset(values))})")
        types = s.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else types
            parts.append("(" + " or ".join(self.typed(s, t, v) for t in types) + ")")
        elif set(s) - _IGNORED - {"const", "enum"}:
            raise _Unsupported("constraints without a type")
        return " and ".join(parts) or "True"

    def typed(self, s, t, v):
        p = [_TYPES[t].format(v=v)]
        if t in ("integer", "number"):
            if "minimum" in s:
                p.append(f"{v} >= {s['minimum']!r}")
            if "maximum" in s:
                p.append(f"{v} <= {s['maximum']!r}")
            if "exclusiveMinimum" in s:
                p.append(f"{v} > {s['exclusiveMinimum']!r}")
        elif t == "string" and "minLength" in s:
            p.append(f"len({v}) >= {s['minLength']}")
        elif t == "object":
            props = s.get("properties", {})
            for k in s.get("required", ()):
                p.append(f"{k!r} in {v}")
            for k, sub in props.items():
                e = self.expr(sub, f"{v}[{k!r}]")
                p.append(e if k in s.get("required", ()) else f"({k!r} not in {v} or {e})")
            extra = s.get("additionalProperties", True)
            if extra is False:
                p.append(f"{v}.keys() <= {self.const(frozenset(props))}")
            elif extra is not True:
                x = self.var()
                p.append(f"all({self.expr(extra, x)} for _, {x} in {v}.items() "
                         f"if _ not in {self.const(frozenset(props))})")
        elif t == "array":
            if "minItems" in s:
                p.append(f"len({v}) >= {s['minItems']}")
            if "maxItems" in s:
                p.append(f"len({v}) <= {s['maxItems']}")
            prefix = s.get("prefixItems", ())
            for i, sub in enumerate(prefix):
                p.append(f"(len({v}) <= {i} or {self.expr(sub, f'{v}[{i}]')})")
            items = s.get("items", True)
            if items is False:
                p.append(f"len({v}) <= {len(prefix)}")
            elif items is not True:
                x = self.var()
                rest = f"{v}[{len(prefix)}:]" if prefix else v
                p.append(f"all({self.expr(items, x)} for {x} in {rest})")
        return "(" + " and ".join(p) + ")"

    def var(self):
        self.nvar += 1
        return f"_x{self.nvar}"


def compile_schema(root, sub):
    """A function item -> bool that is True only for items the schema sub
    (within root) accepts; None when sub is outside the subset."""
    c = _Compiler(root)
    try:
        body = c.expr(sub, "v")
    except _Unsupported:
        return None
    ns = dict(c.consts)
    exec(f"def valid(v):\n    return bool({body})\n", ns)  # noqa: S102 -- our own schema
    return ns["valid"]


class Schema:
    """One schema file's validators: the document, and the streamed items
    (v1: tasks; v2: runs, their tasks apart)."""

    def __init__(self, name):
        schema = json.loads(SCHEMAS[name].read_text())
        # jsonschema 4.10 takes the relative $id "fetchbench/N" for a URL to
        # fetch when it resolves the in-document "#/$defs/..." references
        del schema["$id"]
        self.name = name
        self.doc = jsonschema.Draft202012Validator(schema)
        defs = schema["$defs"]
        self.task = self.doc.evolve(schema=dict(defs["task"], **{"$defs": defs}))
        self.fast_task = compile_schema(schema, defs["task"])
        if name == "fetchbench/2":
            self.run = self.doc.evolve(schema=dict(defs["run"], **{"$defs": defs}))

    def check_task(self, t, where):
        if self.fast_task is not None and self.fast_task(t):
            return
        error = jsonschema.exceptions.best_match(self.task.iter_errors(t))
        if error is not None:
            raise Invalid(_message(error, where))

    def check_run(self, i, run):
        tasks = run.get("tasks") if isinstance(run, dict) else None
        if isinstance(tasks, list):
            for j, t in enumerate(tasks):
                self.check_task(t, ("runs", i, "tasks", j))
            run = dict(run, tasks=[])
        error = jsonschema.exceptions.best_match(self.run.iter_errors(run))
        if error is not None:
            raise Invalid(_message(error, ("runs", i)))


def check(schemas, path):
    """Raises Invalid for the first problem in the report at path."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = check_report.read_text(raw)
        if check_report.read_head(text).get("schema") == "fetchbench/2":
            s = schemas["fetchbench/2"]
            doc = fbplot.read_json(text, stream="runs", on_item=s.check_run)
        else:
            s = schemas["fetchbench/1"]
            doc = fbplot.read_json(text, on_item=lambda i, t: s.check_task(t, ("tasks", i)))
    except fbplot.JSONProblem as e:
        raise Invalid(str(e)) from None
    if isinstance(doc, dict) and isinstance(doc.get("schema"), str) \
            and doc["schema"] not in schemas:
        raise Invalid(f"schema: unknown {doc['schema']!r}, not one of {sorted(schemas)}")
    if isinstance(doc, dict) and doc.get("schema") == "fetchbench/2" and s.name != "fetchbench/2":
        # "schema" was not the first key: nothing was streamed
        s = schemas["fetchbench/2"]
        if isinstance(doc.get("runs"), list):
            for i, run in enumerate(doc["runs"]):
                s.check_run(i, run)
    # the streamed array was replaced by its length
    stream = "runs" if s.name == "fetchbench/2" else "tasks"
    if isinstance(doc, dict) and isinstance(doc.get(stream), (int, list)) \
            and not isinstance(doc[stream], bool):
        doc = dict(doc, **{stream: []})
    error = jsonschema.exceptions.best_match(s.doc.iter_errors(doc))
    if error is not None:
        raise Invalid(_message(error))


def main(paths):
    # parsed JSON has no cycles: the collector would only walk millions of
    # fresh lists and dicts again and again (5x the parse time)
    gc.disable()
    schemas = {name: Schema(name) for name in SCHEMAS}
    for path in paths:
        try:
            check(schemas, path)
        except Invalid as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"{path}: {e.strerror}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
