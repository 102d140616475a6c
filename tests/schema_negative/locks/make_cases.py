#!/usr/bin/python3
"""Regenerates the broken reports of per-task lock records in this directory
from good/locks.json (a real run of rlock and rsingleflight on Redis, 4
tasks on one key each), with ../v2/make_cases.py's helpers: each case
changes one thing, so that one check refuses it (tests/e2e/test_redis.sh
names the check's words).
Usage: make_cases.py            rewrite every case here
       make_cases.py --check    exit 1 when a case here is not what this
                                script would write"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "v2"))
import make_cases as v2  # noqa: E402

v2.CASES.clear()
v2.TEXT.clear()
v2.HERE = HERE


def _good(name):
    own = HERE / "good" / f"{name}.json"
    return json.loads((own if own.exists() else HERE.parent / "v2" / "good" / f"{name}.json").read_text())


v2.good = _good
edit, run, task, setitem = v2.edit, v2.run, v2.task, v2.setitem


def lock(d, i, j):
    return task(d, i, j)["lock"]


# -- the schema refuses ----------------------------------------------------
edit("lock-extra-key", "locks", lambda d: setitem(lock(d, 0, 1), "note", "x"))
edit("lock-woken-unknown", "locks", lambda d: setitem(lock(d, 0, 1), "woken_by", "nudge"))
edit("lock-attempts-zero", "locks", lambda d: setitem(lock(d, 0, 0), "attempts", 0))

# -- check_report refuses: the run's counters are the tasks' sums ----------
edit("lock-attempts-miscounted", "locks", lambda d: setitem(lock(d, 0, 1), "attempts", lock(d, 0, 1)["attempts"] + 1))
edit("lock-woken-miscounted", "locks", lambda d: setitem(lock(d, 0, 1), "woken_by", "recheck"))
edit("lock-store-error-miscounted", "locks", lambda d: setitem(lock(d, 1, 0), "woken_by", "store_error"))
edit("lock-lease-expired-miscounted", "locks", lambda d: setitem(lock(d, 0, 2), "lease_expired", True))
# a strategy that takes no lock in the store (lock: in process) carries none
edit("lock-in-lockless-run", "lock-nolock", lambda d: setitem(
    task(d, 0, 0), "lock", {"attempts": 1, "woken_by": "at_once", "lease_expired": False}))


def _expired_never_got(d):
    """task 1 never got the lock (the store failed) yet lost its lease; the
    counters agree with the records, so only that rule refuses it."""
    c = run(d, 0)["summary"]["counters"]
    lock(d, 0, 1).update(woken_by="store_error", lease_expired=True)
    c["woken_by_notification"] -= 1
    c["store_errors"] += 1
    c["leases_expired_under_holder"] += 1


edit("lock-lease-expired-never-got", "locks", _expired_never_got)


if __name__ == "__main__":
    sys.exit(v2.main(sys.argv[1:]))
