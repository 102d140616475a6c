#!/usr/bin/python3
"""run.py — fetchbench's benchmarks, against its peers, in one command.

    /usr/bin/python3 bench/run.py [--only overhead,peer,engine,strategies,fetch,server,sweep,redis]
                                  [--runs 5] [--quick] [--out-dir DIR]
                                  [--fetchbench PATH] [--label LABEL]

Sections (all by default):
  overhead  fetchbench's per-task cost: lock mode, one URL, delay 1000 ms,
            N = 10^3..10^7, full timeline written to stdout > /dev/null;
            process CPU time/N, (process wall - delay)/N and peak RSS/N.
  peer      the same experiment as plain asyncio + aiohttp
            (bench/peer_asyncio.py) and Node.js (bench/peer_node.mjs, with
            its built-in fetch and with http.get), each N's runs interleaved
            with fetchbench's (A B C D A B C D ...) against the same server;
            ratios of cost and memory, pair by pair.
  engine    the multi-mode workload: --mode lock,nolock --rate R --tasks
            10^6 --keys 1000 --zipf 1 --ttl-ms T, CPU time per task; one more
            invocation writes the report and each run's summary is read.
  strategies the engine's workload under each strategy alone (--strategies-
            modes; modes the binary does not know are skipped), the
            strategies interleaved run by run (S1 S2 … S1 S2 …): CPU time and
            peak RSS per task; one checked run of each reads its summary.
  fetch     the fetch path: nolock, delay 0, 100,000 fetches over C reused
            connections, against wrk and hey at the same concurrency.
  server    the embedded server: requests/s under wrk (keep-alive and
            Connection: close) and the most concurrent delayed requests it
            holds (bench/hold_conns.py, 10,000 connections).
  sweep     N = 10..100,000, both modes, against a capacity-8 server.
  redis     cache hits through Redis from one process: nolock, 10^5 tasks on
            one key filled first (an earlier invocation with the same
            --run-id), against `redis-benchmark -t get -P 16` on the same
            redis-server, interleaved run by run: as typed (its key absent,
            so each answer is nil) and with its key holding a value of our
            entry's size; Redis commands per hit from INFO commandstats.

Before/after: overhead, peer, engine and strategies measure one binary (--fetchbench,
or $FETCHBENCH) and are kept under builds[--label] in results.json, so two
runs of this harness with two binaries (e.g. --label before with a build of
the v1 core, --label after with the new one) fill the README's table of
targets side by side.  Reports are read in both formats (fetchbench/1 and
fetchbench/2's runs[i].summary).

Every run is timed from outside (time.monotonic around the child, CPU times
from os.wait4, peak RSS from GNU time).  Results: DIR/results.json (every
raw run, plus median/min/max), DIR/README.md (tables, targets, machine,
commands) and DIR/sweep.png.  Running a subset keeps the other sections
already in DIR/results.json.  Progress goes to stderr.
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
import socket
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
SECTIONS = ("overhead", "peer", "engine", "strategies", "fetch", "server", "sweep", "redis")
# Measured per build (before/after): they go under builds[LABEL]; the others
# (the fetch path and the server) stay in the top-level sections.
BUILD_SECTIONS = ("overhead", "peer", "engine", "strategies")
SCHEMA = "fetchbench-bench/2"
# The strategies issue's defences and the two baselines, in the issue's order.
STRATEGIES = ("lock", "keylock", "singleflight", "xfetch", "stale", "lease", "nolock")
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
                # CPU stays wait4's (µs; it covers time's child too): %U/%S have
                # 10 ms steps, 2-3% of a 10^6-task run
                rec.update(maxrss_kb=int(kb), time_utime_s=float(user),
                           time_stime_s=float(system))
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


class Child:
    """A server the harness runs as a child (self.proc), stopped on exit:
    SIGTERM, then SIGKILL if it has not gone in 30 s."""

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


class Server(Child):
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

class RedisServer(Child):
    """A redis-server of the harness's own: loopback, an ephemeral port, no
    persistence, in DIR, stopped on exit."""

    def __init__(self, dir):
        self.dir = dir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", dir, "--logfile", os.path.join(dir, "redis.log"),
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer PING")

    def cli(self, *args):
        return capture(["redis-cli", "-p", str(self.port), *args])

    def command_calls(self):
        """INFO commandstats as {command: calls}."""
        text = self.cli("INFO", "commandstats") or ""
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^cmdstat_([a-z|]+):calls=(\d+)", text, re.M)}

def read_report(path):
    """schema, config and one {mode, summary, server} per run of a fetchbench
    report, v1 (`fetchbench/1`: one run, its summary at the top level) or v2
    (`fetchbench/2`: runs[i].summary).

    Reads the file line by line and skips the per-task lines (both versions
    stream one task per line, `{"id":...`), so a report of 10^7 tasks costs
    one pass and no memory; what is left is small and parsed with
    raw_decode at each key.  An unescaped `"summary":` can only be a key (in
    a string its quotes would be escaped), and tasks carry no such key."""
    parts = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if not line.lstrip().startswith('{"id":'):
                parts.append(line)
    text = "".join(parts)
    dec = json.JSONDecoder()

    def value_at(i):
        j = i
        while text[j] in ' \t\r\n:':
            j += 1
        return dec.raw_decode(text, j)[0]

    m = re.search(r'"schema":\s*"([^"]*)"', text)
    if not m:
        raise ValueError(f"{path}: not a fetchbench report (no schema)")
    schema = m.group(1)
    if schema not in ("fetchbench/1", "fetchbench/2"):
        raise ValueError(f"{path}: unknown report schema {schema!r}")
    i = text.find('"config":')
    if i < 0:
        raise ValueError(f"{path}: no config")
    config = value_at(i + len('"config":'))
    runs = []
    for m in re.finditer(r'"summary":', text):
        summary = value_at(m.end())
        if schema == "fetchbench/1":
            mode = config.get("mode")
        else:
            k = text.rfind('"mode":', 0, m.start())
            mode = value_at(k + len('"mode":')) if k >= 0 else None
        # the run's server object follows its summary (v2: after keys/load)
        nxt = text.find('"summary":', m.end())
        k = text.find('"server":', m.end(), nxt if nxt > 0 else len(text))
        server = value_at(k + len('"server":')) if k >= 0 else None
        runs.append({"mode": mode, "summary": summary,
                     "server": server if isinstance(server, dict) else None})
    if not runs:
        raise ValueError(f"{path}: no summary in the report")
    return {"schema": schema, "config": config, "runs": runs}


# The peers: each prints one JSON object (wall_us, upstream_requests, errors)
# and is run as `ARGV -n N --mode MODE --url URL`.
NODE = shutil.which("node") or shutil.which("nodejs")
PEERS = {
    "asyncio": {"tool": "peer_asyncio", "argv": [PYTHON, os.path.join(BENCH, "peer_asyncio.py")],
                "shown": f"{PYTHON} bench/peer_asyncio.py"},
    "node-fetch": {"tool": "peer_node_fetch",
                   "argv": [NODE, os.path.join(BENCH, "peer_node.mjs"), "--client", "fetch"],
                   "shown": "node bench/peer_node.mjs --client fetch"},
    "node-http": {"tool": "peer_node_http",
                  "argv": [NODE, os.path.join(BENCH, "peer_node.mjs"), "--client", "http"],
                  "shown": "node bench/peer_node.mjs --client http"},
}


def peer_argv(peer, n, mode, url, display=False):
    head = [PEERS[peer]["shown"]] if display else PEERS[peer]["argv"]
    return [*head, "-n", n, "--mode", mode, "--url", url]


def cpu_us_per_task(rec, n):
    """Process CPU time (user + system, all its threads) per task, in µs."""
    if rec.get("utime_s") is None or rec.get("stime_s") is None:
        return None
    return (rec["utime_s"] + rec["stime_s"]) * 1e6 / n


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

    # -- overhead and peer: one loop, so the peers' runs interleave with ours

    def tasks_loop(self, want_overhead, want_peer):
        a = self.args
        delay_ms = 200 if self.quick else 1000
        sizes = a.sizes or ([10**3, 10**4] if self.quick else [10**3, 10**4, 10**5, 10**6, 10**7])
        peers = [p for p in a.peers if want_peer]
        fb_runs, peer_runs = [], []
        plan = [("lock", n) for n in sizes]
        if peers and a.peer_nolock_tasks:
            plan.append(("nolock", a.peer_nolock_tasks))
        with Server(self.fb) as srv:
            url = srv.base + f"delay/{delay_ms}"
            log(f"tasks: server {srv.base}, delay {delay_ms} ms, sizes {sizes}, "
                f"{self.runs} runs each" + (f", peers {', '.join(peers)} interleaved "
                                            "(A B C … A B C …)" if peers else ""))
            for mode, n in plan:
                for r in range(self.runs):
                    fb_runs.append(self.one_fb_tasks(srv, url, delay_ms, mode, n, r))
                    if n <= a.peer_max_tasks:
                        for peer in peers:
                            peer_runs.append(self.one_peer(peer, srv, url, delay_ms, mode, n, r))
            server_log = srv.errors()
        commands = {"server": "fetchbench serve --port 0",
                    "fetchbench": f"fetchbench -n N --mode lock --url "
                                  f"http://127.0.0.1:PORT/delay/{delay_ms} > /dev/null"}
        for peer in peers:
            commands[peer] = " ".join(peer_argv(peer, "N", "lock",
                                                f"http://127.0.0.1:PORT/delay/{delay_ms}",
                                                display=True))
        config = {"delay_ms": delay_ms, "sizes": sizes, "runs": self.runs,
                  "peers": peers, "peer_max_tasks": a.peer_max_tasks,
                  "peer_nolock_tasks": a.peer_nolock_tasks if peers else None,
                  "commands": commands}
        if peers and a.peer_nolock_tasks:
            n = a.peer_nolock_tasks
            commands["nolock fetchbench"] = (f"fetchbench -n {n} --mode nolock --url "
                                             f"http://127.0.0.1:PORT/delay/{delay_ms} > /dev/null")
            for peer in peers:
                commands[f"nolock {peer}"] = " ".join(peer_argv(
                    peer, str(n), "nolock", f"http://127.0.0.1:PORT/delay/{delay_ms}",
                    display=True))
        out = {}
        if want_overhead:
            own = dict(config, peers=[], commands={k: v for k, v in commands.items()
                                                  if k in ("server", "fetchbench")})
            out["overhead"] = {"config": own,
                               "runs": [x for x in fb_runs if x["mode"] == "lock"],
                               "server_stderr": tail(server_log)}
        if want_peer:
            out["peer"] = {"config": config, "runs": fb_runs + peer_runs,
                           "server_stderr": tail(server_log)}
        return out

    def per_task(self, rec, delay_ms, n):
        # Two costs per task, the same for every tool: (wall - delay)/N, where
        # the delay is the run's idle time (every task waits for the one fetch),
        # and process CPU time (user + system, every thread)/N.
        rec["overhead_us_per_task"] = (rec["wall_s"] - delay_ms / 1000) * 1e6 / n
        rec["cpu_us_per_task"] = cpu_us_per_task(rec, n)
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
        log(f"  {label:<15} {rec['mode']} N={rec['tasks']:>8} run {rec['run'] + 1}/{self.runs}: "
            f"wall {m['wall_s']:.3f} s, {rec['overhead_us_per_task']:.3f} µs/task, "
            f"cpu {fmt_num(rec['cpu_us_per_task'], 3)} µs/task, "
            f"{fmt_num(rec['rss_bytes_per_task'])} B/task, rc {m['rc']}, "
            f"server saw {rec['server_requests']}")
        return rec

    def one_fb_tasks(self, srv, url, delay_ms, mode, n, r):
        before = srv.stats()["requests"]
        m = measure([self.fb, "-n", str(n), "--mode", mode, "--url", url])
        rec = {"tool": "fetchbench", "mode": mode, "tasks": n, "run": r,
               "internal_wall_s": stderr_wall_s(m["stderr"]),
               "server_requests": srv.stats()["requests"] - before}
        return self.finish_task_record(rec, m, delay_ms, "fetchbench")

    def one_peer(self, peer, srv, url, delay_ms, mode, n, r):
        before = srv.stats()["requests"]
        with tempfile.TemporaryFile() as out:
            m = measure(peer_argv(peer, str(n), mode, url), stdout=out)
            out.seek(0)
            try:
                doc = json.loads(out.read() or b"null")
            except ValueError:
                doc = None
        rec = {"tool": PEERS[peer]["tool"], "mode": mode, "tasks": n, "run": r,
               "internal_wall_s": doc["wall_us"] / 1e6 if doc else None,
               "upstream_requests": doc["upstream_requests"] if doc else None,
               "errors": doc["errors"] if doc else None,
               "server_requests": srv.stats()["requests"] - before}
        if doc and doc.get("node"):
            rec["runtime"] = f"node {doc['node']}, undici {doc.get('undici')}"
        return self.finish_task_record(rec, m, delay_ms, peer)

    # -- engine: the targets of the engine rebuild (10^6, 10^7, the multi-mode workload)

    def workload(self, modes):
        """The engine's Poisson/Zipf workload (--engine-* flags; 10,000 tasks
        with --quick) run under --mode MODES."""
        a = self.args
        return {"tasks": 10_000 if self.quick else a.engine_tasks, "rate": a.engine_rate,
                "keys": a.engine_keys, "zipf": a.engine_zipf, "ttl_ms": a.engine_ttl_ms,
                "delay_ms": a.engine_delay_ms, "modes": modes,
                "max_connections": a.engine_max_connections}

    def workload_argv(self, srv, w, tasks=None):
        """fetchbench's argv for workload w against srv (tasks overrides its --tasks)."""
        url = srv.base + f"delay/{w['delay_ms']}/url/{{key}}"
        argv = [self.fb, "--mode", w["modes"], "--rate", str(w["rate"]),
                "--tasks", str(tasks or w["tasks"]), "--keys", str(w["keys"]),
                "--zipf", str(w["zipf"]), "--ttl-ms", str(w["ttl_ms"]), "--url", url]
        if w["max_connections"]:
            argv[-2:-2] = ["--max-connections", str(w["max_connections"])]
        return argv

    @staticmethod
    def workload_command(w, modes):
        """The command line of workload w as the results show it."""
        return (f"fetchbench --mode {modes} --rate {w['rate']} --tasks {w['tasks']} "
                f"--keys {w['keys']} --zipf {w['zipf']} --ttl-ms {w['ttl_ms']} "
                + (f"--max-connections {w['max_connections']} " if w["max_connections"] else "")
                + f"--url 'http://127.0.0.1:PORT/delay/{w['delay_ms']}/url/{{key}}' > /dev/null")

    def engine(self):
        """The multi-mode Poisson/Zipf invocation, timed from outside with its
        JSON to /dev/null, then once more with -o FILE to read each run's
        summary (the lock runs at 10^6 and 10^7 are the overhead section's)."""
        w = self.workload(self.args.engine_modes)
        runs = []
        tmp = tempfile.mkdtemp(prefix="fb-bench-engine-", dir=scratch_dir())
        try:
            with Server(self.fb) as srv:
                argv = self.workload_argv(srv, w)
                log(f"engine: {' '.join(argv[1:])} > /dev/null, {self.runs} runs, then one "
                    "more with -o FILE to read each run's summary")
                for r in range(self.runs):
                    runs.append(self.one_engine(srv, argv, w, r, None))
                    if runs[-1]["rc"] == 2:
                        log("engine: the binary refuses the workload (usage error): "
                            "not run again")
                        break
                if runs[-1]["rc"] != 2:
                    path = os.path.join(tmp, "engine.json")
                    runs.append(self.one_engine(srv, argv + ["-o", path, "-q"], w,
                                                len(runs), path))
                server_log = srv.errors()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        config = dict(w, runs=self.runs, commands={
            "server": "fetchbench serve --port 0",
            "multi-mode": self.workload_command(w, w["modes"]),
            "multi-mode (checked)": "the same with -o FILE -q, once, its runs[i].summary read"})
        return {"engine": {"config": config, "runs": runs, "server_stderr": tail(server_log)}}

    # What a checked run keeps of each run's summary (counters: the strategy's own).
    SUMMARY_KEYS = ("tasks", "wall_us", "upstream_requests", "cache_hits", "cache_misses",
                    "outcomes", "peak_connections", "stampede_max", "waiters",
                    "waiter_latency_us", "counters")

    def one_engine(self, srv, argv, w, r, path, what="multi-mode"):
        """One timed invocation of workload w (checked: with -o path, its
        summaries read); CPU and RSS per task are over tasks x modes."""
        before = srv.stats()["requests"]
        m = measure(argv)
        nmodes = len(w["modes"].split(","))
        total = w["tasks"] * nmodes
        rec = {"tool": "fetchbench", "what": what, "run": r, "checked": path is not None,
               "tasks": w["tasks"], "modes": nmodes, "total_tasks": total,
               "server_requests": srv.stats()["requests"] - before}
        if what != "multi-mode":
            rec["strategy"] = w["modes"]
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        if m["rc"] != 0:
            rec["stderr"] = tail(m["stderr"])
        rec["cpu_us_per_task"] = cpu_us_per_task(rec, total)
        rec["wall_us_per_task"] = m["wall_s"] * 1e6 / total
        rec["rss_bytes_per_task"] = m["maxrss_kb"] * 1024 / total if m["maxrss_kb"] else None
        if path:
            try:
                rep = read_report(path)
                rec["schema"] = rep["schema"]
                rec["per_run"] = [{"mode": x["mode"],
                                   **{k: x["summary"].get(k) for k in self.SUMMARY_KEYS},
                                   "errors": (x["summary"].get("errors") or {}).get("total")}
                                  for x in rep["runs"]]
            except (OSError, ValueError, KeyError) as e:
                rec["report_error"] = str(e)
        name = what if what == "multi-mode" else w["modes"]
        log(f"  {name} run {r + 1}{' (checked)' if path else ''}: wall {m['wall_s']:.2f} s, "
            f"cpu {m['utime_s'] + m['stime_s']:.2f} s = {fmt_num(rec['cpu_us_per_task'], 3)} "
            f"µs/task, {fmt_num(rec['rss_bytes_per_task'])} B/task, rc {m['rc']}, server saw "
            f"{rec['server_requests']}" + (f": {tail(m['stderr'], 200)}" if m["rc"] else ""))
        for x in rec.get("per_run", []):
            log(f"    {x['mode']}: {x['tasks']} tasks, wall {x['wall_us']} µs, upstream "
                f"{x['upstream_requests']}, stampede_max {x['stampede_max']}, waiters "
                f"{x['waiters']}, errors {x['errors']}")
        return rec

    # -- strategies: the engine's workload, one strategy per invocation

    def strategies(self):
        """Each strategy of --strategies-modes alone on the engine's workload,
        the strategies interleaved run by run (S1 S2 … S1 S2 …), each
        invocation timed from outside; then one checked run per strategy.  A
        mode the binary refuses (exit 2: unknown to it) is skipped, with the
        binary's own line as the reason."""
        modes = self.args.strategies_modes
        w0 = self.workload(None)
        runs, skipped = [], {}
        tmp = tempfile.mkdtemp(prefix="fb-bench-strategies-", dir=scratch_dir())
        try:
            with Server(self.fb) as srv:
                known = []
                for mode in modes:  # a one-task run: does the binary know the mode?
                    m = measure(self.workload_argv(srv, dict(w0, modes=mode), tasks=1),
                                timeout_s=60)
                    if m["rc"] == 2:
                        skipped[mode] = tail(m["stderr"].strip().split("\n")[0], 300)
                        log(f"strategies: {mode} skipped: {skipped[mode]}")
                    else:
                        known.append(mode)
                log(f"strategies: {' '.join(self.workload_argv(srv, dict(w0, modes='MODE'))[1:])}"
                    f" > /dev/null for MODE in {','.join(known)}, interleaved, {self.runs} runs, "
                    "then one checked run of each with -o FILE")
                for r in range(self.runs):
                    for mode in known:
                        w = dict(w0, modes=mode)
                        runs.append(self.one_engine(srv, self.workload_argv(srv, w), w, r, None,
                                                    what="strategy"))
                for mode in known:
                    w = dict(w0, modes=mode)
                    path = os.path.join(tmp, f"strategy-{mode}.json")
                    runs.append(self.one_engine(srv, self.workload_argv(srv, w)
                                                + ["-o", path, "-q"], w, self.runs, path,
                                                what="strategy"))
                    if os.path.exists(path):
                        os.unlink(path)
                server_log = srv.errors()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        config = dict(w0, modes=",".join(modes), measured=known, skipped=skipped,
                      runs=self.runs, commands={
                          "server": "fetchbench serve --port 0",
                          "per strategy": self.workload_command(w0, "MODE"),
                          "per strategy (checked)": "the same with -o FILE -q, once per "
                                                    "strategy, its runs[0].summary read"})
        return {"strategies": {"config": config, "runs": runs,
                               "server_stderr": tail(server_log)}}

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
            run = read_report(path)["runs"][0]
            s = run["summary"]
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

    # -- Redis hit path

    def redis(self):
        n = 10_000 if self.quick else 100_000
        bench_n = 200_000 if self.quick else 2_000_000
        runs = []
        tmp = tempfile.mkdtemp(prefix="fb-bench-redis-", dir=scratch_dir())
        try:
            with RedisServer(tmp) as rs:
                store = f"redis://127.0.0.1:{rs.port}/0"
                run_id = f"bench{os.getpid()}"
                fill = os.path.join(tmp, "fill.json")
                measure([self.fb, "-q", "--run-id", run_id, "--mode", "nolock", "--store", store,
                         "--tasks", "1", "--delay-ms", "0", "-o", fill])
                key = f"fb:{run_id}:r0:nolock:k:0"
                size = int(rs.cli("STRLEN", key) or 0)
                if size == 0:
                    raise RuntimeError(f"the fill run stored nothing under {key}")
                log(f"redis: redis-server on port {rs.port}; {n:,} hits of a {size}-byte entry; "
                    f"redis-benchmark -t get -P 16 -n {bench_n:,}, as typed and with a "
                    f"{size}-byte value; {self.runs} runs, interleaved")
                for r in range(self.runs):
                    runs.append(self.one_fb_hits(rs, store, run_id, n, r, tmp))
                    rs.cli("DEL", "key:__rand_int__")
                    runs.append(self.one_redis_benchmark(rs, bench_n, r, "as typed"))
                    rs.cli("SET", "key:__rand_int__", "x" * size)
                    runs.append(self.one_redis_benchmark(rs, bench_n, r, "same value"))
                version = rs.cli("INFO", "server")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        m = re.search(r"redis_version:(\S+)", version or "")
        config = {"tasks": n, "value_bytes": size, "benchmark_requests": bench_n, "runs": self.runs,
                  "redis_version": m.group(1) if m else None,
                  "commands": {
                      "server": "redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no",
                      "fill": "fetchbench -q --run-id ID --mode nolock --store redis://127.0.0.1:PORT/0 "
                              "--tasks 1 --delay-ms 0",
                      "fetchbench": f"fetchbench -q --run-id ID --mode nolock --store "
                                    f"redis://127.0.0.1:PORT/0 --tasks {n} --delay-ms 0 -o FILE",
                      "as typed": f"redis-benchmark -p PORT -t get -P 16 -n {bench_n} --csv",
                      "same value": f"redis-cli SET key:__rand_int__ <{size} bytes>; "
                                    f"redis-benchmark -p PORT -t get -P 16 -n {bench_n} --csv"}}
        return {"redis": {"config": config, "runs": runs}}

    def one_fb_hits(self, rs, store, run_id, n, r, tmp):
        path = os.path.join(tmp, f"hits-{r}.json")
        before = rs.command_calls()
        m = measure([self.fb, "-q", "--run-id", run_id, "--mode", "nolock", "--store", store,
                     "--tasks", str(n), "--delay-ms", "0", "-o", path])
        after = rs.command_calls()
        calls = {k: after.get(k, 0) - before.get(k, 0) for k in after
                 if after.get(k, 0) != before.get(k, 0)}
        rec = {"tool": "fetchbench", "run": r, "tasks": n, "redis_calls": calls}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        try:
            s = read_report(path)["runs"][0]["summary"]
            rec.update(wall_us=s["wall_us"], cache_hits=s["cache_hits"],
                       upstream_requests=s["upstream_requests"], latency_us=s["latency_us"],
                       rps=s["cache_hits"] / (s["wall_us"] / 1e6),
                       commands_per_hit=sum(v for k, v in calls.items()
                                            if k not in ("select", "psubscribe", "info"))
                       / max(s["cache_hits"], 1))
        except (OSError, ValueError, KeyError, ZeroDivisionError) as e:
            rec.update(rps=None, error=str(e), stderr=tail(m["stderr"]))
        if os.path.exists(path):
            os.unlink(path)
        log(f"  fetchbench run {r + 1}/{self.runs}: {fmt_num(rec.get('rps'))} hits/s "
            f"({rec.get('cache_hits')} hits, {rec.get('upstream_requests')} fetches, "
            f"{rec.get('commands_per_hit', 0):.2f} commands a hit), rc {m['rc']}")
        return rec

    def one_redis_benchmark(self, rs, n, r, variant):
        argv = ["redis-benchmark", "-p", str(rs.port), "-t", "get", "-P", "16", "-n", str(n), "--csv"]
        with tempfile.TemporaryFile() as out:
            m = measure(argv, stdout=out, timeout_s=600)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        rec = {"tool": "redis-benchmark", "variant": variant, "run": r}
        rec.update({k: v for k, v in m.items() if k != "stderr"})
        got = re.search(r'^"GET","([0-9.]+)"', text, re.M)
        rec["rps"] = float(got.group(1)) if got else None
        if rec["rps"] is None:
            rec["output"] = tail(text + m["stderr"])
        log(f"  redis-benchmark ({variant}) run {r + 1}/{self.runs}: {fmt_num(rec['rps'])} GET/s")
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
            run = read_report(path)["runs"][0]
            s = run["summary"]
            rec.update(wall_us=s["wall_us"], upstream_requests=s["upstream_requests"],
                       server_requests=s["server_requests"], errors=s["errors"]["total"],
                       peak_threads=s["peak_threads"], threads_created=s["threads_created"],
                       peak_connections=s["peak_connections"],
                       max_in_service=(run["server"] or {}).get("max_in_service"),
                       max_queued=(run["server"] or {}).get("max_queued"))
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
        "harness_commit": git + ("-dirty" if dirty else "") if git else None,
        "curl": first(capture(["curl", "--version"])),
        "libcurl": capture(["pkg-config", "--modversion", "libcurl"]),
        "libevent": capture(["pkg-config", "--modversion", "libevent"]),
        "python": platform.python_version() + f" ({sys.executable})",
        "aiohttp": aiohttp_v,
        "node": capture([NODE, "--version"]) if NODE else None,
        "wrk": first(capture(["dpkg-query", "-W", "-f", "${Version}", "wrk"])),
        "hey": first(capture(["dpkg-query", "-W", "-f", "${Version}", "hey"])),
        "nofile": nofile,
        "rss_source": RSS_SOURCE,
    }


def load_previous(path):
    """The results document to add to: ours, or the previous schema's, whose
    fetch/server/sweep sections are kept (its overhead and peer, measured
    before builds had labels, are superseded by builds[LABEL])."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if doc.get("schema") == SCHEMA:
        return doc
    if doc.get("schema") == "fetchbench-bench/1":
        kept = {k: v for k, v in doc.get("sections", {}).items() if k not in BUILD_SECTIONS}
        return {"schema": SCHEMA, "sections": kept, "builds": {}}
    return None


def shown_path(path):
    """A path as the results may show it: relative to the repository when
    inside it, else its last two parts (no machine's directories)."""
    real = os.path.abspath(path)
    if real.startswith(ROOT + os.sep):
        return os.path.relpath(real, ROOT)
    return os.path.join("…", *real.split(os.sep)[-2:])


def binary_facts(fb):
    """What the measured binary is: its path, --version and the commit of the
    git tree it sits in (a worktree of another commit says so)."""
    real = os.path.realpath(fb)
    top = capture(["git", "-C", os.path.dirname(real), "rev-parse", "--show-toplevel"])
    commit = capture(["git", "-C", top, "rev-parse", "--short", "HEAD"]) if top else None
    dirty = capture(["git", "-C", top, "status", "--porcelain", "--untracked-files=no"]) \
        if top else None
    subject = capture(["git", "-C", top, "log", "-1", "--format=%s"]) if top else None
    # the tree's HEAD may be a merge or a bench commit: name the engine's last change too
    src = capture(["git", "-C", top, "log", "-1", "--format=%h %s", "--", "src"]) if top else None
    return {"version": (capture([fb, "--version"]) or "").split("\n")[0] or None,
            "commit": commit + ("-dirty" if dirty else "") if commit else None,
            "commit_subject": subject, "src_last_change": src}


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
    p.add_argument("--fetchbench",
                   default=os.environ.get("FETCHBENCH") or os.path.join(ROOT, "fetchbench"),
                   help="the binary to measure (default: $FETCHBENCH, else the repo's "
                        "./fetchbench); before/after = two runs with two binaries")
    p.add_argument("--label", default="current",
                   help="the name the overhead/peer/engine figures are kept under in "
                        "results.json's builds, e.g. before, after (default current); the "
                        "Targets table shows one column per label")
    p.add_argument("--sizes", help="N of the overhead/peer loop, comma-separated "
                                   "(default 1000,10000,100000,1000000,10000000)")
    p.add_argument("--peers", default="asyncio,node-fetch,node-http",
                   help="peers of the peer section, comma-separated, from "
                        + ",".join(PEERS) + " (default all)")
    p.add_argument("--peer-max-tasks", type=int, default=10**6,
                   help="largest N the peers run (default 1000000)")
    p.add_argument("--engine-tasks", type=int, default=10**6,
                   help="--tasks of the engine's multi-mode run (default 1000000)")
    p.add_argument("--engine-rate", type=int, default=500_000,
                   help="--rate of the engine's multi-mode run, arrivals/s (default 500000)")
    p.add_argument("--engine-keys", type=int, default=1000, help="--keys (default 1000)")
    p.add_argument("--engine-zipf", type=float, default=1.0, help="--zipf (default 1)")
    p.add_argument("--engine-ttl-ms", type=int, default=1000,
                   help="--ttl-ms (default 1000; see results/bench/README.md for why not 50)")
    p.add_argument("--engine-delay-ms", type=int, default=0,
                   help="the server's delay for the multi-mode run (default 0)")
    p.add_argument("--engine-max-connections", type=int, default=64,
                   help="--max-connections of the multi-mode run (default 64; 0 = a new "
                        "connection per fetch)")
    p.add_argument("--engine-modes", default="lock,nolock",
                   help="--mode of the multi-mode run (default lock,nolock)")
    p.add_argument("--strategies-modes", default=",".join(STRATEGIES),
                   help="the strategies section's modes, each run alone on the engine's "
                        f"workload (default {','.join(STRATEGIES)}); modes the binary does "
                        "not know are reported as skipped")
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
    if args.sizes:
        try:
            args.sizes = [int(float(x)) for x in args.sizes.split(",") if x.strip()]
        except ValueError:
            p.error(f"--sizes: not a list of numbers: {args.sizes}")
        if not args.sizes or min(args.sizes) < 1:
            p.error("--sizes: each N must be at least 1")
    raw = args.strategies_modes
    args.strategies_modes = list(dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()))
    if not args.strategies_modes or any(not re.fullmatch(r"[a-z0-9_]+", x)
                                        for x in args.strategies_modes):
        p.error(f"--strategies-modes: a comma-separated list of mode names, not {raw!r}")
    args.peers = [x.strip() for x in args.peers.split(",") if x.strip()]
    bad = [x for x in args.peers if x not in PEERS]
    if bad:
        p.error(f"--peers: unknown peer {', '.join(bad)}; choose from {','.join(PEERS)}")
    if not NODE and any(x.startswith("node") for x in args.peers):
        p.error("--peers: node is not installed (scripts/setup bench), or leave out "
                "node-fetch,node-http")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.label):
        p.error(f"--label: letters, digits, '.', '_' and '-' only, not {args.label!r}")
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        p.error("--runs: must be at least 1")
    for name in ("connections", "fetch_requests", "wrk_seconds", "hold_connections",
                 "peer_max_tasks", "engine_tasks", "engine_rate", "engine_keys"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}: must be at least 1")
    if args.engine_zipf < 0 or args.engine_ttl_ms < 0 or args.engine_delay_ms < 0 \
            or args.engine_max_connections < 0:
        p.error("--engine-zipf, --engine-ttl-ms, --engine-delay-ms: must not be negative")
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
    doc = load_previous(results_path) or {"schema": SCHEMA, "sections": {}, "builds": {}}
    doc["machine"] = machine_facts(args.fetchbench, nofile)
    build = None
    if any(x in args.only for x in BUILD_SECTIONS):
        build = doc["builds"].setdefault(args.label, {"sections": {}})
        build.update(label=args.label, fetchbench=binary_facts(args.fetchbench),
                     machine=doc["machine"])
        log(f"measuring {shown_path(args.fetchbench)} ({build['fetchbench']['version']}, commit "
            f"{build['fetchbench']['commit']}) as '{args.label}'")
    command = " ".join(shlex.quote(x) for x in [PYTHON, "bench/run.py", *sys.argv[1:]])

    steps = []
    if "overhead" in args.only or "peer" in args.only:
        steps.append(lambda: bench.tasks_loop("overhead" in args.only, "peer" in args.only))
    for name in ("engine", "strategies", "fetch", "server", "sweep", "redis"):
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
                           "loadavg_end": os.getloadavg(), "fetchbench": shown_path(args.fetchbench),
                           "label": args.label if name in BUILD_SECTIONS else None}
            sec["summary"] = report.summarize(name, sec)
            (build["sections"] if name in BUILD_SECTIONS else doc["sections"])[name] = sec
        # after each section, so an interrupted run keeps what it finished
        doc["machine"]["loadavg_end"] = os.getloadavg()
        doc["targets"] = report.targets(doc)
        doc["engine_targets"] = report.engine_targets(doc)
        doc["strategy_targets"] = report.strategy_targets(doc)
        doc["generated"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        write_atomic(results_path, json.dumps(doc, indent=1) + "\n")
        write_atomic(os.path.join(args.out_dir, "README.md"), report.markdown(doc))
    log(f"done in {time.monotonic() - T0:.0f} s: {results_path}, "
        f"{os.path.join(args.out_dir, 'README.md')}")
    for t in doc.get("targets", []):
        log(f"  {'met    ' if t['met'] else 'NOT MET' if t['met'] is False else 'n/a    '} "
            f"{t['what']}: {t['measured_text']} (target {t['target_text']})")
    for t in doc.get("engine_targets", []):
        cells = ", ".join(f"{k}: {v['text']}" for k, v in t["by_label"].items())
        log(f"  {t['verdict_text']:<8} {t['what']} (target {t['target_text']}): {cells}")
    for t in doc.get("strategy_targets", []):
        log(f"  {t['verdict_text']:<8} {t['strategy']}: {t['what']} (target {t['target_text']}, "
            f"'{t['judged_on']}'): {t['text']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
