#!/usr/bin/python3
"""run.py — fetchbench's benchmarks, against its peers, in one command.

    /usr/bin/python3 bench/run.py [--only overhead,peer,fetch,server,sweep]
                                  [--runs 5] [--quick] [--out-dir DIR]

Sections (all by default):
  overhead  fetchbench's per-task cost: lock mode, one URL, delay 1000 ms,
            N = 10^3..10^6, full timeline written to stdout > /dev/null;
            (process wall - delay)/N and peak RSS/N.
  peer      the same experiment as plain asyncio + aiohttp
            (bench/peer_asyncio.py), its runs interleaved with fetchbench's
            (ABAB) against the same server; ratios of overhead and memory.
  fetch     the fetch path: nolock, delay 0, 100,000 fetches over C reused
            connections, against wrk and hey at the same concurrency.
  server    the embedded server: requests/s under wrk (keep-alive and
            Connection: close) and the most concurrent delayed requests it
            holds (bench/hold_conns.py, 10,000 connections).
  sweep     N = 10..100,000, both modes, against a capacity-8 server.

Every run is timed from outside (time.monotonic around the child, peak RSS
from os.wait4).  Results: DIR/results.json (every raw run, plus
median/min/max), DIR/README.md (tables, targets, machine, commands) and
DIR/sweep.png.  Running a subset keeps the other sections already in
DIR/results.json.  Progress goes to stderr.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True
BENCH = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import report  # noqa: E402

PYTHON = "/usr/bin/python3"  # Debian's: the one with aiohttp and matplotlib
SECTIONS = ("overhead", "peer", "fetch", "server", "sweep")
SCHEMA = "fetchbench-bench/1"
T0 = time.monotonic()


# ---------------------------------------------------------------- plumbing

def log(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def raise_nofile():
    """Soft open-file limit to the hard one, for us and every child; returns both."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1048576)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as e:
            log(f"could not raise the open-file soft limit from {soft}: {e}")
    now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return {"soft_before": soft, "soft": now, "hard": hard}


# A direct child's ru_maxrss (os.wait4) starts at this harness's own RSS: Linux
# copies the parent's high-water mark into the child when it execs (vfork or
# fork alike), a ~30 MB floor under every figure.  GNU time forks the command
# from a ~1 MB process and reports the %M of its own wait4, which is clean.
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_SOURCE = ("GNU time's %M (its wait4 of the command)" if TIME else
              "os.wait4 of the child (includes the harness's RSS at fork: a ~30 MB floor)")


def measure(argv, stdout=subprocess.DEVNULL, timeout_s=900):
    """Runs argv to completion: wall time around it, peak RSS and CPU times.

    stdout is a file object or DEVNULL; stderr is captured and returned.  A
    child still running after timeout_s is killed with its process group
    (timed_out: true)."""
    with tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="fb-bench-rusage-") as usage:
        full = [TIME, "-f", "%M %U %S", "-o", usage.name, "--", *argv] if TIME else argv
        killed = []
        t0 = time.monotonic()
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err,
                             start_new_session=True)

        def kill():
            killed.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        rec = {"rc": p.returncode, "timed_out": bool(killed), "wall_s": wall,
               "maxrss_kb": ru.ru_maxrss, "utime_s": ru.ru_utime, "stime_s": ru.ru_stime,
               "stderr": stderr}
        if TIME:
            lines = usage.read().decode("utf-8", "replace").split("\n")
            fields = [ln for ln in lines if ln.strip()][-1:]
            try:
                kb, user, system = fields[0].split()
                rec.update(maxrss_kb=int(kb), utime_s=float(user), stime_s=float(system))
            except (IndexError, ValueError):
                rec["maxrss_kb"] = None  # killed before time could report
    return rec


def tail(text, n=400):
    text = text.strip()
    return text if len(text) <= n else "…" + text[-n:]


def capture(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


class Server:
    """`fetchbench serve --port 0` as a child; base is its http://ADDR:PORT/."""

    def __init__(self, fetchbench, capacity=None):
        self.argv = [fetchbench, "serve", "--port", "0"]
        if capacity:
            self.argv += ["--capacity", str(capacity)]
        self.errlog = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.errlog, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"fetchbench serve did not start: {line!r} {self.errors()}")
        self.base = line if line.endswith("/") else line + "/"

    def stats(self):
        with urllib.request.urlopen(self.base + "stats", timeout=30) as r:
            return json.load(r)

    def errors(self):
        self.errlog.seek(0)
        return self.errlog.read().decode("utf-8", "replace").strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def read_report_head(path):
    """config, summary and the server's counters of a fetchbench report,
    from its head: the report streams them before the per-task timeline."""
    with open(path, "rb") as f:
        head = f.read(1 << 20).decode("utf-8", "replace")
    dec = json.JSONDecoder()
    out = {}
    for key in ("config", "summary"):
        i = head.find(f'"{key}":')
        if i < 0:
            raise ValueError(f"{path}: no {key} in the report's head")
        out[key], _ = dec.raw_decode(head, head.index("{", i))
    i = head.find('"server":')
    out["server"] = None
    if i >= 0 and not head[i + 9:].lstrip().startswith("null"):
        part = head[i:head.find("[", i) if head.find("[", i) > 0 else i + 400]
        out["server"] = {k: int(v) for k, v in re.findall(r'"(\w+)":\s*(\d+)', part)}
    return out


WALL_RE = re.compile(r"^\s*wall ([0-9.]+) s\b", re.M)


def stderr_wall_s(text):
    """fetchbench's own wall time from its stderr summary (1 ms resolution)."""
    m = WALL_RE.search(text)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------- the experiments

class Bench:
    def __init__(self, args):
        self.args = args
        self.fb = args.fetchbench
        self.runs = args.runs
        self.quick = args.quick

    # -- overhead and peer: one loop, so the peer's runs interleave with ours

    def tasks_loop(self, want_overhead, want_peer):
        a = self.args
        delay_ms = 200 if self.quick else 1000
        sizes = [10**3, 10**4] if self.quick else [10**3, 10**4, 10**5, 10**6]
        fb_runs, peer_runs = [], []
        plan = [("lock", n) for n in sizes]
        if want_peer and a.peer_nolock_tasks:
            plan.append(("nolock", a.peer_nolock_tasks))
        with Server(self.fb) as srv:
            url = srv.base + f"delay/{delay_ms}"
            log(f"tasks: server {srv.base}, delay {delay_ms} ms, sizes {sizes}, "
                f"{self.runs} runs each" + (", peer interleaved (ABAB)" if want_peer else ""))
            for mode, n in plan:
                for r in range(self.runs):
                    fb_runs.append(self.one_fb_tasks(srv, url, delay_ms, mode, n, r))
                    if want_peer and n <= a.peer_max_tasks:
                        peer_runs.append(self.one_peer(srv, url, delay_ms, mode, n, r))
            server_log = srv.errors()
        config = {"delay_ms": delay_ms, "sizes": sizes, "runs": self.runs,
                  "peer_max_tasks": a.peer_max_tasks,
                  "peer_nolock_tasks": a.peer_nolock_tasks if want_peer else None,
                  "commands": {
                      "server": "fetchbench serve --port 0",
                      "fetchbench": f"fetchbench -n N --mode lock --url "
                                    f"http://127.0.0.1:PORT/delay/{delay_ms} > /dev/null",
                      "peer": f"{PYTHON} bench/peer_asyncio.py -n N --mode lock --url "
                              f"http://127.0.0.1:PORT/delay/{delay_ms}"}}
        if want_peer and a.peer_nolock_tasks:
            n = a.peer_nolock_tasks
            config["commands"]["nolock fetchbench"] = (
                f"fetchbench -n {n} --mode nolock --url "
                f"http://127.0.0.1:PORT/delay/{delay_ms} > /dev/null")
            config["commands"]["nolock peer"] = (
                f"{PYTHON} bench/peer_asyncio.py -n {n} --mode nolock --url "
                f"http://127.0.0.1:PORT/delay/{delay_ms}")
        out = {}
        if want_overhead:
            own = dict(config, commands={k: v for k, v in config["commands"].items()
                                         if k in ("server", "fetchbench")})
            out["overhead"] = {"config": own,
                               "runs": [x for x in fb_runs if x["mode"] == "lock"],
                               "server_stderr": tail(server_log)}
        if want_peer:
            out["peer"] = {"config": config, "runs": fb_runs + peer_runs,
                           "server_stderr": tail(server_log)}
        return out

    def per_task(self, rec, delay_ms, n):
        rec["overhead_us_per_task"] = (rec["wall_s"] - delay_ms / 1000) * 1e6 / n
        rec["rss_bytes_per_task"] = rec["maxrss_kb"] * 1024 / n if rec["maxrss_kb"] else None
        if rec.get("internal_wall_s") is not None:
            rec["internal_overhead_us_per_task"] = \
                (rec["internal_wall_s"] - delay_ms / 1000) * 1e6 / n

    def finish_task_record(self, rec, m, delay_ms, label):
        """Adds the measurement and per-task figures to rec, logs it, returns it."""
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        if m["rc"] != 0:
            rec["stderr"] = tail(m["stderr"])
        self.per_task(rec, delay_ms, rec["tasks"])
        log(f"  {label:<10} {rec['mode']} N={rec['tasks']:>7} run {rec['run'] + 1}/{self.runs}: "
            f"wall {m['wall_s']:.3f} s, {rec['overhead_us_per_task']:.3f} µs/task, "
            f"{rec['rss_bytes_per_task']:.0f} B/task, rc {m['rc']}, server saw {rec['server_requests']}")
        return rec

    def one_fb_tasks(self, srv, url, delay_ms, mode, n, r):
        before = srv.stats()["requests"]
        m = measure([self.fb, "-n", str(n), "--mode", mode, "--url", url])
        rec = {"tool": "fetchbench", "mode": mode, "tasks": n, "run": r,
               "internal_wall_s": stderr_wall_s(m["stderr"]),
               "server_requests": srv.stats()["requests"] - before}
        return self.finish_task_record(rec, m, delay_ms, "fetchbench")

    def one_peer(self, srv, url, delay_ms, mode, n, r):
        before = srv.stats()["requests"]
        with tempfile.TemporaryFile() as out:
            m = measure([PYTHON, os.path.join(BENCH, "peer_asyncio.py"), "-n", str(n),
                         "--mode", mode, "--url", url], stdout=out)
            out.seek(0)
            try:
                doc = json.loads(out.read() or b"null")
            except ValueError:
                doc = None
        rec = {"tool": "peer_asyncio", "mode": mode, "tasks": n, "run": r,
               "internal_wall_s": doc["wall_us"] / 1e6 if doc else None,
               "upstream_requests": doc["upstream_requests"] if doc else None,
               "errors": doc["errors"] if doc else None,
               "server_requests": srv.stats()["requests"] - before}
        return self.finish_task_record(rec, m, delay_ms, "peer")

    # -- fetch path

    def fetch(self):
        a = self.args
        n = 10_000 if self.quick else a.fetch_requests
        c = a.connections
        dur = 1 if self.quick else a.wrk_seconds
        runs = []
        tmp = tempfile.mkdtemp(prefix="fb-bench-fetch-", dir=scratch_dir())
        try:
            with Server(self.fb) as srv:
                url = srv.base + "delay/0"
                log(f"fetch: server {srv.base}, {n} fetches over {c} connections; "
                    f"wrk -c {c} -t 2 -d {dur}s; hey -n {n} -c {c}; {self.runs} runs, interleaved")
                for r in range(self.runs):
                    runs.append(self.one_fb_fetch(url, n, c, r, tmp))
                    runs.append(self.one_wrk(url, c, dur, r, "fetch"))
                    runs.append(self.one_hey(url, n, c, r))
                server_log = srv.errors()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        config = {"requests": n, "connections": c, "wrk_seconds": dur, "runs": self.runs,
                  "commands": {
                      "server": "fetchbench serve --port 0",
                      "fetchbench": f"fetchbench -n {n} --mode nolock --max-connections {c} "
                                    f"--url http://127.0.0.1:PORT/delay/0 -o FILE -q",
                      "wrk": f"wrk -c {c} -t 2 -d {dur}s http://127.0.0.1:PORT/delay/0",
                      "hey": f"hey -n {n} -c {c} http://127.0.0.1:PORT/delay/0"}}
        return {"fetch": {"config": config, "runs": runs, "server_stderr": tail(server_log)}}

    def one_fb_fetch(self, url, n, c, r, tmp):
        path = os.path.join(tmp, f"fetch-{r}.json")
        m = measure([self.fb, "-n", str(n), "--mode", "nolock", "--max-connections", str(c),
                     "--url", url, "-o", path, "-q"])
        rec = {"tool": "fetchbench", "run": r, "requests": n}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        try:
            head = read_report_head(path)
            s = head["summary"]
            rec.update(wall_us=s["wall_us"], upstream_requests=s["upstream_requests"],
                       errors=s["errors"]["total"], peak_connections=s["peak_connections"],
                       rps=s["upstream_requests"] / (s["wall_us"] / 1e6))
        except (OSError, ValueError, KeyError) as e:
            rec.update(rps=None, error=str(e), stderr=tail(m["stderr"]))
        rec["rps_process_wall"] = n / m["wall_s"]
        if os.path.exists(path):
            os.unlink(path)
        log(f"  fetchbench run {r + 1}/{self.runs}: {fmt_num(rec.get('rps'))} req/s "
            f"(process wall {m['wall_s']:.2f} s), errors {rec.get('errors')}, rc {m['rc']}")
        return rec

    def one_wrk(self, url, c, dur, r, section, extra=()):
        argv = ["wrk", "-c", str(c), "-t", "2", "-d", f"{dur}s", *extra, url]
        with tempfile.TemporaryFile() as out:
            m = measure(argv, stdout=out, timeout_s=dur + 120)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        rec = {"tool": "wrk", "run": r, "argv": " ".join(shlex.quote(x) for x in argv[:-1])}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        rec.update(parse_wrk(text))
        if rec.get("rps") is None:
            rec["output"] = tail(text + m["stderr"])
        log(f"  wrk {' '.join(extra) or '(keep-alive)'} run {r + 1}/{self.runs}: "
            f"{fmt_num(rec.get('rps'))} req/s, socket errors {rec.get('socket_errors')}, "
            f"non-2xx {rec.get('non_2xx')}")
        return rec

    def one_hey(self, url, n, c, r):
        with tempfile.TemporaryFile() as out:
            m = measure(["hey", "-n", str(n), "-c", str(c), url], stdout=out, timeout_s=600)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        rec = {"tool": "hey", "run": r}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        rec.update(parse_hey(text))
        if rec.get("rps") is None:
            rec["output"] = tail(text + m["stderr"])
        log(f"  hey run {r + 1}/{self.runs}: {fmt_num(rec.get('rps'))} req/s, "
            f"statuses {rec.get('statuses')}, errors {rec.get('errors')}")
        return rec

    # -- embedded server

    def server(self):
        a = self.args
        c = a.connections
        dur = 1 if self.quick else a.wrk_seconds
        hold_n, hold_delay = a.hold_connections, 5000
        runs = []
        with Server(self.fb) as srv:
            url = srv.base + "delay/0"
            log(f"server: wrk -c {c} -t 2 -d {dur}s keep-alive and Connection: close, "
                f"{self.runs} runs interleaved")
            for r in range(self.runs):
                rec = self.one_wrk(url, c, dur, r, "server")
                rec["variant"] = "keep-alive"
                runs.append(rec)
                rec = self.one_wrk(url, c, dur, r, "server", ("-H", "Connection: close"))
                rec["variant"] = "close"
                runs.append(rec)
            server_log = srv.errors()
        log(f"server: hold {hold_n} concurrent /delay/{hold_delay} requests, {self.runs} runs, "
            f"a fresh server each")
        holds = [self.one_hold(hold_n, hold_delay, r, "hold") for r in range(self.runs)]
        probe = None
        if a.hold_probe and not self.quick:
            nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            if nofile >= a.hold_probe + 200:
                log(f"server: probe, one run holding {a.hold_probe} requests of 20 s")
                probe = self.one_hold(a.hold_probe, 20000, 0, "probe")
            else:
                log(f"server: probe skipped, open-file limit {nofile} < {a.hold_probe} + 200")
        config = {"connections": c, "wrk_seconds": dur, "runs": self.runs,
                  "hold_connections": hold_n, "hold_delay_ms": hold_delay,
                  "hold_probe": a.hold_probe if probe else None,
                  "commands": {
                      "server": "fetchbench serve --port 0",
                      "keep-alive": f"wrk -c {c} -t 2 -d {dur}s http://127.0.0.1:PORT/delay/0",
                      "close": f"wrk -c {c} -t 2 -d {dur}s -H 'Connection: close' "
                               f"http://127.0.0.1:PORT/delay/0",
                      "hold": f"{PYTHON} bench/hold_conns.py --url http://127.0.0.1:PORT/ "
                              f"--connections {hold_n} --delay-ms {hold_delay}"}}
        return {"server": {"config": config, "runs": runs, "holds": holds, "probe": probe,
                           "server_stderr": tail(server_log)}}

    def one_hold(self, n, delay_ms, r, what):
        with Server(self.fb) as srv:
            with tempfile.TemporaryFile() as out:
                m = measure([PYTHON, os.path.join(BENCH, "hold_conns.py"), "--url", srv.base,
                             "--connections", str(n), "--delay-ms", str(delay_ms)],
                            stdout=out, timeout_s=delay_ms / 1000 + 300)
                out.seek(0)
                try:
                    doc = json.loads(out.read() or b"null")
                except ValueError:
                    doc = None
            server_log = srv.errors()
        rec = {"run": r, "connections": n, "delay_ms": delay_ms,
               "client_wall_s": m["wall_s"], "client_rc": m["rc"],
               "client_maxrss_kb": m["maxrss_kb"], "server_stderr": tail(server_log)}
        if doc:
            rec.update({k: doc[k] for k in ("max_in_service", "ok", "statuses", "errors",
                                             "open_all_s", "in_service_when_all_sent",
                                             "nofile_soft_limit")})
        else:
            rec.update(max_in_service=None, stderr=tail(m["stderr"]))
        log(f"  {what} run {r + 1}: max_in_service {rec.get('max_in_service')}, "
            f"{rec.get('ok')}/{n} answered 200, opened all in {rec.get('open_all_s')} s, "
            f"errors {rec.get('errors')}")
        return rec

    # -- scaling sweep

    def sweep(self):
        a = self.args
        sizes = [10, 100, 1000] if self.quick else [10, 100, 1000, 10_000, 100_000]
        cap, delay = 8, a.sweep_delay_ms
        runs, files = [], []
        tmp = tempfile.mkdtemp(prefix="fb-bench-sweep-", dir=scratch_dir())
        try:
            log(f"sweep: N {sizes}, lock and nolock interleaved, embedded server "
                f"--capacity {cap} --delay-ms {delay}, {self.runs} runs each")
            for n in sizes:
                for r in range(self.runs):
                    for mode in ("lock", "nolock"):
                        path = os.path.join(tmp, f"sweep-{n}-{mode}-{r}.json")
                        runs.append(self.one_sweep(n, mode, cap, delay, r, path))
                        if os.path.exists(path):
                            files.append(path)
            plot = self.plot_sweep(files, runs)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        config = {"sizes": sizes, "capacity": cap, "delay_ms": delay, "runs": self.runs,
                  "commands": {"run": f"fetchbench -n N --mode MODE --capacity {cap} "
                                      f"--delay-ms {delay} -o FILE -q"}}
        return {"sweep": {"config": config, "runs": runs, "plot": plot}}

    def one_sweep(self, n, mode, cap, delay, r, path):
        m = measure([self.fb, "-n", str(n), "--mode", mode, "--capacity", str(cap),
                     "--delay-ms", str(delay), "-o", path, "-q"])
        rec = {"tool": "fetchbench", "tasks": n, "mode": mode, "run": r}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        try:
            head = read_report_head(path)
            s = head["summary"]
            rec.update(wall_us=s["wall_us"], upstream_requests=s["upstream_requests"],
                       server_requests=s["server_requests"], errors=s["errors"]["total"],
                       peak_threads=s["peak_threads"], threads_created=s["threads_created"],
                       peak_connections=s["peak_connections"],
                       max_in_service=(head["server"] or {}).get("max_in_service"),
                       max_queued=(head["server"] or {}).get("max_queued"))
        except (OSError, ValueError, KeyError) as e:
            rec.update(wall_us=None, error=str(e), stderr=tail(m["stderr"]))
        log(f"  {mode:>6} N={n:>6} run {r + 1}/{self.runs}: wall "
            f"{fmt_num(rec['wall_us'] and rec['wall_us'] / 1e6, 3)} s, upstream "
            f"{rec.get('upstream_requests')}, peak threads {rec.get('peak_threads')}, "
            f"max in service {rec.get('max_in_service')}, rc {m['rc']}")
        return rec

    def plot_sweep(self, files, runs):
        out = os.path.join(self.args.out_dir, "sweep.png")
        os.makedirs(self.args.out_dir, exist_ok=True)
        script = os.path.join(ROOT, "scripts", "plot-compare")
        note = None
        if os.path.exists(script) and files:
            log(f"sweep: plotting {len(files)} reports with scripts/plot-compare --sweep")
            m = measure([script, "--sweep", *files, "-o", out], timeout_s=900)
            if m["rc"] == 0:
                return {"file": "sweep.png", "by": "scripts/plot-compare --sweep"}
            note = f"scripts/plot-compare --sweep failed (rc {m['rc']}): {tail(m['stderr'], 300)}"
            log(note)
        elif not os.path.exists(script):
            note = "scripts/plot-compare does not exist"
        import plot_sweep
        plot_sweep.plot(runs, out, title_note=f"capacity 8, delay {self.args.sweep_delay_ms} ms")
        log(f"sweep: plotted with bench/plot_sweep.py ({note})")
        return {"file": "sweep.png", "by": "bench/plot_sweep.py", "note": note}


def scratch_dir():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def fmt_num(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def parse_wrk(text):
    def num(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"rps": num(r"Requests/sec:\s+([0-9.]+)"),
            "requests": num(r"(\d+) requests in"),
            "socket_errors": sum(map(int, sock.groups())) if sock else 0,
            "socket_errors_detail": sock.group(0) if sock else None,
            "non_2xx": int(num(r"Non-2xx or 3xx responses:\s+(\d+)") or 0)}


def parse_hey(text):
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    statuses = {k: int(v) for k, v in re.findall(r"\[(\d+)\]\s+(\d+) responses", text)}
    errors = 0
    if "Error distribution:" in text:
        errors = sum(int(v) for v in re.findall(r"^\s+\[(\d+)\]\s+\D",
                                                  text.split("Error distribution:")[1], re.M))
    return {"rps": float(m.group(1)) if m else None, "statuses": statuses, "errors": errors}


# ------------------------------------------------------------- the record

def machine_facts(fb, nofile):
    def first(text):
        return text.splitlines()[0] if text else None
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       None)
    except OSError:
        pass
    try:
        import aiohttp
        aiohttp_v = aiohttp.__version__
    except ImportError:
        aiohttp_v = None
    git = capture(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = capture(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "mem_total_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "loadavg_start": os.getloadavg(),
        "fetchbench": first(capture([fb, "--version"])),
        "git_commit": git + ("-dirty" if dirty else "") if git else None,
        "curl": first(capture(["curl", "--version"])),
        "libcurl": capture(["pkg-config", "--modversion", "libcurl"]),
        "libevent": capture(["pkg-config", "--modversion", "libevent"]),
        "python": platform.python_version() + f" ({sys.executable})",
        "aiohttp": aiohttp_v,
        "wrk": first(capture(["dpkg-query", "-W", "-f", "${Version}", "wrk"])),
        "hey": first(capture(["dpkg-query", "-W", "-f", "${Version}", "hey"])),
        "nofile": nofile,
        "rss_source": RSS_SOURCE,
    }


def load_previous(path):
    try:
        with open(path) as f:
            doc = json.load(f)
        return doc if doc.get("schema") == SCHEMA else None
    except (OSError, ValueError):
        return None


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0],
                                epilog="Sections: " + ", ".join(SECTIONS))
    p.add_argument("--only", default=",".join(SECTIONS), metavar="LIST",
                   help="comma-separated sections to run (default: all)")
    p.add_argument("--runs", type=int, help="runs per measured point (default 5; 2 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="a fast smoke version: small sizes, short runs; writes to build/bench-quick "
                        "unless --out-dir is given")
    p.add_argument("--out-dir", help="where results go (default results/bench)")
    p.add_argument("--fetchbench", default=os.path.join(ROOT, "fetchbench"),
                   help="the binary (default: the repo's ./fetchbench)")
    p.add_argument("--peer-max-tasks", type=int, default=10**6,
                   help="largest N the peer runs (default 1000000)")
    p.add_argument("--peer-nolock-tasks", type=int, default=1000,
                   help="N of the extra nolock peer comparison; 0 skips it (default 1000)")
    p.add_argument("--connections", type=int, default=50,
                   help="concurrency C of the fetch path and wrk (default 50)")
    p.add_argument("--fetch-requests", type=int, default=100_000,
                   help="fetches of the fetch path, and hey's -n (default 100000)")
    p.add_argument("--wrk-seconds", type=int, default=5, help="wrk -d (default 5)")
    p.add_argument("--hold-connections", type=int, default=10_000,
                   help="concurrent delayed requests to hold (default 10000)")
    p.add_argument("--hold-probe", type=int, default=19_000,
                   help="one extra run holding this many, 0 skips (default 19000)")
    p.add_argument("--sweep-delay-ms", type=int, default=2,
                   help="the sweep server's delay (default 2; see README for why not 200)")
    args = p.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in args.only if s not in SECTIONS]
    if bad or not args.only:
        p.error(f"--only: unknown section {', '.join(bad) or '(none)'}; "
                f"choose from {','.join(SECTIONS)}")
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        p.error("--runs: must be at least 1")
    for name in ("connections", "fetch_requests", "wrk_seconds", "hold_connections",
                 "peer_max_tasks"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}: must be at least 1")
    if args.peer_nolock_tasks < 0 or args.hold_probe < 0 or args.sweep_delay_ms < 0:
        p.error("--peer-nolock-tasks, --hold-probe, --sweep-delay-ms: must not be negative")
    if args.out_dir is None:
        args.out_dir = os.path.join(ROOT, *(("build", "bench-quick") if args.quick
                                            else ("results", "bench")))
    if not os.access(args.fetchbench, os.X_OK):
        p.error(f"--fetchbench: {args.fetchbench} is not executable (run make first)")
    return args


def main():
    args = parse_args(sys.argv[1:])
    nofile = raise_nofile()
    log(f"open-file limit: soft {nofile['soft_before']} -> {nofile['soft']} (hard "
        f"{nofile['hard']}), inherited by every child")
    bench = Bench(args)
    os.makedirs(args.out_dir, exist_ok=True)
    results_path = os.path.join(args.out_dir, "results.json")
    doc = load_previous(results_path) or {"schema": SCHEMA, "sections": {}}
    doc["machine"] = machine_facts(args.fetchbench, nofile)
    command = " ".join(shlex.quote(x) for x in [PYTHON, "bench/run.py", *sys.argv[1:]])

    steps = []
    if "overhead" in args.only or "peer" in args.only:
        steps.append(lambda: bench.tasks_loop("overhead" in args.only, "peer" in args.only))
    for name in ("fetch", "server", "sweep"):
        if name in args.only:
            steps.append(getattr(bench, name))
    failed = []
    for step in steps:
        started = datetime.datetime.now().astimezone()
        t = time.monotonic()
        try:
            produced = step()
        except Exception as e:  # one broken section must not lose the others
            log(f"section failed: {type(e).__name__}: {e}")
            failed.append(str(e))
            continue
        for name, sec in produced.items():
            sec["meta"] = {"started": started.isoformat(timespec="seconds"),
                           "duration_s": round(time.monotonic() - t, 1),
                           "runs": args.runs, "quick": args.quick, "command": command,
                           "loadavg_end": os.getloadavg()}
            sec["summary"] = report.summarize(name, sec)
            doc["sections"][name] = sec
        # after each section, so an interrupted run keeps what it finished
        doc["machine"]["loadavg_end"] = os.getloadavg()
        doc["targets"] = report.targets(doc)
        doc["generated"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        write_atomic(results_path, json.dumps(doc, indent=1) + "\n")
        write_atomic(os.path.join(args.out_dir, "README.md"), report.markdown(doc))
    log(f"done in {time.monotonic() - T0:.0f} s: {results_path}, "
        f"{os.path.join(args.out_dir, 'README.md')}")
    for t in doc.get("targets", []):
        log(f"  {'met    ' if t['met'] else 'NOT MET' if t['met'] is False else 'n/a    '} "
            f"{t['what']}: {t['measured_text']} (target {t['target_text']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
