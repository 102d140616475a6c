#!/usr/bin/python3
"""Validates fetchbench JSON files against schema/fetchbench-1.schema.json.
Usage: validate_json.py FILE...  (exit 1 naming the first error)

Reads like the plot scripts (scripts/fbplot.py read_json): a repeated key,
NaN or Infinity, or a number beyond a 64-bit integer or a double is refused
before the schema is consulted.  Tasks are validated one at a time, so a
report of a million tasks is never held as one tree."""
import pathlib
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True
import fbplot  # noqa: E402

SCHEMA = ROOT / "schema" / "fetchbench-1.schema.json"


class Invalid(Exception):
    """One line: where in the report, and what is wrong."""


def _message(error, prefix=()):
    where = "/".join(str(p) for p in (*prefix, *error.absolute_path))
    return f"{where or '(top level)'}: {error.message}"


def check(validator, task_validator, path):
    """Raises Invalid for the first problem in the report at path."""
    def task(i, t):
        error = jsonschema.exceptions.best_match(task_validator.iter_errors(t))
        if error is not None:
            raise Invalid(_message(error, ("tasks", i)))

    try:
        with open(path, "rb") as f:
            doc = fbplot.read_json(f.read(), on_item=task)
    except fbplot.JSONProblem as e:
        raise Invalid(str(e)) from None
    # the streamed task array was replaced by its length
    if isinstance(doc, dict) and isinstance(doc.get("tasks"), int) \
            and not isinstance(doc["tasks"], bool):
        doc = dict(doc, tasks=[])
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        raise Invalid(_message(error))


def main(paths):
    import json
    schema = json.loads(SCHEMA.read_text())
    # jsonschema 4.10 takes the relative $id "fetchbench/1" for a URL to
    # fetch when it resolves the in-document "#/$defs/..." references
    del schema["$id"]
    validator = jsonschema.Draft202012Validator(schema)
    task_validator = validator.evolve(schema=dict(schema["$defs"]["task"],
                                                  **{"$defs": schema["$defs"]}))
    for path in paths:
        try:
            check(validator, task_validator, path)
        except Invalid as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"{path}: {e.strerror}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
