#!/usr/bin/python3
"""Regenerates the broken reports of who waited on whom, wait_us and
thread -> task in this directory from ../v2/good/links.json (a real run of
lock, singleflight and lease, 4 tasks each), with ../v2/make_cases.py's
helpers: each case changes one thing, so that one check refuses it
(tests/e2e/test_links.sh names the check's words).
Usage: make_cases.py            rewrite every case here
       make_cases.py --check    exit 1 when a case here is not what this
                                script would write"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "v2"))
import make_cases as v2  # noqa: E402

v2.CASES.clear()
v2.TEXT.clear()
v2.HERE = HERE
v2.good = lambda name: __import__("json").loads((HERE.parent / "v2" / "good" / f"{name}.json").read_text())
edit, run, task, setitem = v2.edit, v2.run, v2.task, v2.setitem


# -- who waited on whom, wait_us, thread -> task (good/links.json: lock,
# singleflight, lease runs of 4 tasks) -------------------------------------
edit("waited-on-extra-key", "links", lambda d: setitem(task(d, 0, 1)["waited_on"], "note", "x"))
edit("lifetime-task-negative", "links", lambda d: setitem(run(d, 0)["threads"]["lifetimes"][0], "task", -1))
edit("link-kind-unknown", "links", lambda d: setitem(task(d, 0, 1)["waited_on"], "kind", "nudge"))
edit("link-to-itself", "links", lambda d: setitem(task(d, 0, 2)["waited_on"], "task", 2))
edit("link-task-missing", "links", lambda d: setitem(task(d, 0, 1)["waited_on"], "task", 9))
edit("link-outside-other", "links", lambda d: setitem(
    task(d, 1, 1)["waited_on"], "at_us", task(d, 1, 0)["end_us"] + 1))


def _link_after_end(d):
    """task 1 read a value task 3 stored at task 3's end, after task 1's own."""
    task(d, 2, 1)["waited_on"] = {"task": 3, "kind": "value", "at_us": task(d, 2, 3)["end_us"]}


edit("link-after-end", "links", _link_after_end)


def _handoff_after_grant(d):
    """task 0, which took the lock at once, handed it by task 1 later on."""
    task(d, 0, 0)["waited_on"] = {"task": 1, "kind": "handoff", "at_us": 20000}


edit("handoff-after-grant", "links", _handoff_after_grant)
edit("handoff-twice", "links", lambda d: task(d, 0, 3)["waited_on"].update(
    task=1, at_us=task(d, 0, 2)["waited_on"]["at_us"]))
edit("wait-us-miscounted", "links", lambda d: setitem(task(d, 0, 1), "wait_us", task(d, 0, 1)["wait_us"] + 1))
edit("lifetime-task-missing", "links", lambda d: setitem(run(d, 0)["threads"]["lifetimes"][0], "task", 4))


if __name__ == "__main__":
    sys.exit(v2.main(sys.argv[1:]))
