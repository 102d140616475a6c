#!/usr/bin/python3
"""Validates fetchbench JSON files against schema/fetchbench-1.schema.json.
Usage: validate_json.py FILE...  (exit 1 naming the first error)"""
import json
import pathlib
import sys

import jsonschema

SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "schema" / "fetchbench-1.schema.json"


def main(paths):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            print(f"{path}: {where}: {error.message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
