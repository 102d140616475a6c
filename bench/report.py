"""report — summaries, targets and the Markdown of bench/run.py's results.

summarize(name, section) -> the section's median/min/max tables (from its raw
runs); targets(doc) -> the issue's targets beside the measured figures;
markdown(doc) -> results/bench/README.md.  Pure functions of the results
document, so the README can be rebuilt from results.json alone:

    /usr/bin/python3 bench/report.py results/bench/results.json > results/bench/README.md
"""
import json
import statistics
import sys


def spread(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def med(s):
    return s["median"] if s else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def pick(runs, **want):
    return [r for r in runs if all(r.get(k) == v for k, v in want.items())]


# ------------------------------------------------------------- summaries

def summarize(name, sec):
    return {"overhead": sum_overhead, "peer": sum_peer, "fetch": sum_fetch,
            "server": sum_server, "sweep": sum_sweep}[name](sec)


def sum_overhead(sec):
    rows = []
    for n in sorted({r["tasks"] for r in sec["runs"]}):
        rs = pick(sec["runs"], tasks=n)
        rows.append({"tasks": n, "runs": len(rs),
                     "failed_runs": sum(r["rc"] != 0 for r in rs),
                     "wall_s": spread(r["wall_s"] for r in rs),
                     "overhead_us_per_task": spread(r["overhead_us_per_task"] for r in rs),
                     "rss_bytes_per_task": spread(r["rss_bytes_per_task"] for r in rs),
                     "maxrss_mb": spread(r["maxrss_kb"] / 1024 if r["maxrss_kb"] else None
                                         for r in rs),
                     "internal_wall_s": spread(r.get("internal_wall_s") for r in rs),
                     "internal_overhead_us_per_task":
                         spread(r.get("internal_overhead_us_per_task") for r in rs),
                     "server_requests": spread(r["server_requests"] for r in rs)})
    return rows


def sum_peer(sec):
    rows = []
    keys = sorted({(r["mode"], r["tasks"]) for r in sec["runs"]})
    for mode, n in keys:
        fb = pick(sec["runs"], tool="fetchbench", mode=mode, tasks=n)
        peer = pick(sec["runs"], tool="peer_asyncio", mode=mode, tasks=n)
        row = {"mode": mode, "tasks": n, "runs_fetchbench": len(fb), "runs_peer": len(peer)}
        for tool, rs in (("fetchbench", fb), ("peer", peer)):
            row[tool] = {"overhead_us_per_task": spread(r["overhead_us_per_task"] for r in rs),
                         "rss_bytes_per_task": spread(r["rss_bytes_per_task"] for r in rs),
                         "wall_s": spread(r["wall_s"] for r in rs),
                         "internal_wall_s": spread(r.get("internal_wall_s") for r in rs),
                         "server_requests": spread(r.get("server_requests") for r in rs),
                         "failed_runs": sum(r["rc"] != 0 for r in rs)}
        by_run = {r["run"]: r for r in fb}
        pairs = [(by_run[p["run"]], p) for p in peer if p["run"] in by_run]
        for metric in ("overhead_us_per_task", "rss_bytes_per_task"):
            row[f"ratio_{metric}"] = {
                "of_medians": ratio(med(row["peer"][metric]), med(row["fetchbench"][metric])),
                "pairs": spread(ratio(p[metric], f[metric]) for f, p in pairs)}
        rows.append(row)
    return rows


def sum_fetch(sec):
    rows = {}
    for tool in ("fetchbench", "wrk", "hey"):
        rs = pick(sec["runs"], tool=tool)
        rows[tool] = {"rps": spread(r.get("rps") for r in rs), "runs": len(rs),
                      "failed_runs": sum(r.get("rc") != 0 or r.get("rps") is None for r in rs)}
    fb = {r["run"]: r for r in pick(sec["runs"], tool="fetchbench")}
    wrk = {r["run"]: r for r in pick(sec["runs"], tool="wrk")}
    rows["fetchbench"]["errors"] = sum(r.get("errors") or 0 for r in fb.values())
    rows["fetchbench"]["rps_process_wall"] = spread(r.get("rps_process_wall") for r in fb.values())
    rows["wrk"]["errors"] = sum(r.get("socket_errors", 0) + r.get("non_2xx", 0)
                                for r in wrk.values())
    hey = pick(sec["runs"], tool="hey")
    rows["hey"]["errors"] = sum(r.get("errors", 0) + sum(v for k, v in r.get("statuses", {})
                                                          .items() if k != "200") for r in hey)
    rows["ratio_fetchbench_wrk"] = {
        "of_medians": ratio(med(rows["fetchbench"]["rps"]), med(rows["wrk"]["rps"])),
        "pairs": spread(ratio(fb[i].get("rps"), wrk[i].get("rps")) for i in fb if i in wrk)}
    rows["ratio_fetchbench_hey"] = {
        "of_medians": ratio(med(rows["fetchbench"]["rps"]), med(rows["hey"]["rps"]))}
    return rows


def sum_server(sec):
    out = {}
    for variant in ("keep-alive", "close"):
        rs = pick(sec["runs"], variant=variant)
        out[variant] = {"rps": spread(r.get("rps") for r in rs), "runs": len(rs),
                        "errors": sum(r.get("socket_errors", 0) + r.get("non_2xx", 0)
                                      for r in rs)}
    holds = sec["holds"]
    out["hold"] = {"connections": sec["config"]["hold_connections"],
                   "max_in_service": spread(h.get("max_in_service") for h in holds),
                   "ok": spread(h.get("ok") for h in holds),
                   "open_all_s": spread(h.get("open_all_s") for h in holds),
                   "runs": len(holds)}
    p = sec.get("probe")
    out["probe"] = None if not p else {"connections": p["connections"],
                                       "delay_ms": p["delay_ms"],
                                       "max_in_service": p.get("max_in_service"),
                                       "ok": p.get("ok"), "open_all_s": p.get("open_all_s")}
    return out


def sum_sweep(sec):
    rows = []
    for n in sorted({r["tasks"] for r in sec["runs"]}):
        for mode in ("lock", "nolock"):
            rs = pick(sec["runs"], tasks=n, mode=mode)
            if not rs:
                continue
            row = {"tasks": n, "mode": mode, "runs": len(rs),
                   "failed_runs": sum(r["rc"] != 0 for r in rs),
                   "wall_s": spread(r["wall_us"] / 1e6 if r.get("wall_us") is not None
                                    else None for r in rs)}
            for k in ("upstream_requests", "server_requests", "peak_threads",
                      "threads_created", "peak_connections", "max_in_service", "max_queued",
                      "errors", "maxrss_kb"):
                row[k] = spread(r.get(k) for r in rs)
            rows.append(row)
    return rows


# --------------------------------------------------------------- targets

def target(what, measured, op, goal, measured_text, target_text, note=None):
    met = None if measured is None else (measured <= goal if op == "<=" else measured >= goal)
    return {"what": what, "measured": measured, "target": goal, "op": op, "met": met,
            "measured_text": measured_text, "target_text": target_text, "note": note}


def targets(doc):
    secs = doc.get("sections", {})
    out = []
    ov = secs.get("overhead")
    if ov:
        top = max(ov["summary"], key=lambda r: r["tasks"])
        n = top["tasks"]
        o, m = top["overhead_us_per_task"], top["rss_bytes_per_task"]
        note = None if n == 10**6 else f"largest N run was {n:,}, not 10^6"
        d = ov["config"]["delay_ms"]
        out.append(target(f"harness overhead per task at N={n:,} (lock, delay {d} ms, "
                          "full timeline)",
                          med(o), "<=", 1.0, f"{fmt(o, 3)} µs", "≤ 1 µs", note))
        out.append(target(f"peak RSS per task at N={n:,}", med(m), "<=", 300,
                          f"{fmt(m, 0)} B", "≤ 300 B", note))
    pe = secs.get("peer")
    if pe:
        both = [r for r in pe["summary"] if r["mode"] == "lock" and r["runs_peer"]
                and r["runs_fetchbench"]]
        if both:
            top = max(both, key=lambda r: r["tasks"])
            n = top["tasks"]
            note = None if n >= 10**6 else f"the peer ran up to N={n:,} only"
            ro, rm = top["ratio_overhead_us_per_task"], top["ratio_rss_bytes_per_task"]
            out.append(target(f"overhead vs asyncio+aiohttp at N={n:,} (peer / fetchbench)",
                              ro["of_medians"], ">=", 20,
                              f"{fmtx(ro['of_medians'])} (pairs {fmt_spread_x(ro['pairs'])})",
                              "≥ 20×", note))
            out.append(target(f"memory vs asyncio+aiohttp at N={n:,} (peer / fetchbench)",
                              rm["of_medians"], ">=", 5,
                              f"{fmtx(rm['of_medians'])} (pairs {fmt_spread_x(rm['pairs'])})",
                              "≥ 5×", note))
    fe = secs.get("fetch")
    if fe:
        r = fe["summary"]["ratio_fetchbench_wrk"]
        c = fe["config"]
        out.append(target(f"fetch path, {c['requests']:,} fetches over {c['connections']} "
                          f"connections: fetchbench / wrk requests/s",
                          r["of_medians"], ">=", 0.5,
                          f"{fmtx(r['of_medians'], 2)} (pairs {fmt_spread_x(r['pairs'], 2)})",
                          "≥ 0.5×"))
    se = secs.get("server")
    if se:
        h = se["summary"]["hold"]
        out.append(target(f"embedded server: concurrent /delay/{se['config']['hold_delay_ms']} "
                          f"requests held (max_in_service, {h['connections']:,} opened)",
                          h["max_in_service"]["min"] if h["max_in_service"] else None,
                          ">=", 10000, f"{fmt(h['max_in_service'], 0)}", "≥ 10,000",
                          "judged on the smallest of the runs"))
    return out


# ------------------------------------------------------------- formatting

def fmt(s, digits=1, scale=1.0):
    """'median (min–max)' of a spread."""
    if not s:
        return "–"
    f = f"{{:,.{digits}f}}"
    m, lo, hi = (f.format(s[k] * scale) for k in ("median", "min", "max"))
    return m if s["n"] == 1 or lo == hi else f"{m} ({lo}–{hi})"


def fmtx(x, digits=1):
    return "–" if x is None else f"{x:,.{digits}f}×"


def fmt_spread_x(s, digits=1):
    if not s:
        return "–"
    return f"{s['median']:,.{digits}f}×, {s['min']:,.{digits}f}–{s['max']:,.{digits}f}×"


def verdict(met):
    return "**met**" if met else "**NOT met**" if met is False else "not measured"


def table(header, rows, numeric=True):
    """A Markdown table; columns after the first are right-aligned when numeric."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 or not numeric else "---:"
                            for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def meta_line(sec):
    m = sec["meta"]
    q = " — **quick smoke run, not a measurement**" if m.get("quick") else ""
    return (f"*{m['runs']} runs per point, run {m['started']}, took {m['duration_s']:.0f} s; "
            f"load average after: {', '.join(f'{x:.2f}' for x in m['loadavg_end'])}{q}.*")


def markdown(doc):
    secs = doc.get("sections", {})
    out = ["# fetchbench benchmarks", "",
           "Generated by `bench/run.py` (run it with `make bench`); every raw run is in "
           "[`results.json`](results.json). Each cell is the **median (min–max)** of the runs; "
           "ratios against a peer are the ratio of the two medians, with the spread of the "
           "per-pair ratios (run *i* of one tool against run *i* of the other, which ran "
           "right after it) beside it.", ""]
    out += ["## Targets", ""]
    rows = [[t["what"], t["target_text"], t["measured_text"], verdict(t["met"])
             + (f" — {t['note']}" if t.get("note") else "")] for t in doc.get("targets", [])]
    out += [table(["what", "target", "measured", "verdict"], rows, numeric=False), ""]
    if "overhead" in secs:
        out += md_overhead(secs["overhead"])
    if "peer" in secs:
        out += md_peer(secs["peer"])
    if "fetch" in secs:
        out += md_fetch(secs["fetch"])
    if "server" in secs:
        out += md_server(secs["server"])
    if "sweep" in secs:
        out += md_sweep(secs["sweep"])
    out += md_machine(doc)
    out += md_reproduce(doc)
    return "\n".join(out) + "\n"


def md_overhead(sec):
    c = sec["config"]
    out = ["## 1. Harness overhead", "",
           f"Lock mode, one URL, delay {c['delay_ms']} ms, against a separate "
           "`fetchbench serve --port 0` (so the server's memory stays out of fetchbench's RSS); "
           "the full timeline is recorded and the JSON written to stdout redirected to "
           "`/dev/null`. *Wall* is the whole process's (time.monotonic around it), "
           "*peak RSS* the process's high-water mark (see Notes for how). *Internal wall* is fetchbench's own "
           "`summary.wall_us`, read from its stderr summary (1 ms resolution) since the JSON "
           "went to /dev/null: it runs from the run's clock zero to the end of the last task, so "
           "it leaves out process start-up, whatever set-up precedes the run's clock, and "
           "writing the JSON.", "", meta_line(sec), ""]
    rows = []
    for r in sec["summary"]:
        rows.append([f"{r['tasks']:,}", fmt(r["wall_s"], 3),
                     fmt(r["overhead_us_per_task"], 3), fmt(r["maxrss_mb"], 1),
                     fmt(r["rss_bytes_per_task"], 0), fmt(r["internal_wall_s"], 3),
                     fmt(r["internal_overhead_us_per_task"], 3),
                     fmt(r["server_requests"], 0)
                     + (f", {r['failed_runs']} failed" if r["failed_runs"] else "")])
    out += [table(["N", "process wall (s)", "(wall − delay)/N (µs)", "peak RSS (MB)",
                   "peak RSS/N (B)", "internal wall (s)", "(internal − delay)/N (µs)",
                   "server requests/run"], rows), ""]
    out += ["At small N the per-task figures are dominated by fixed costs (process start-up "
            "and exit, the fetch itself); the target is judged at N = 10^6.", ""]
    return out


def md_peer(sec):
    c = sec["config"]
    out = ["## 2. Peer: plain asyncio + aiohttp", "",
           "`bench/peer_asyncio.py`: N coroutines gathered, a shared dict cache, an "
           "`asyncio.Lock` around check-cache/fetch/store in lock mode (none in nolock), a "
           "new `aiohttp.ClientSession` per fetch; it records no timeline. Same server, URL, "
           f"N and delay ({c['delay_ms']} ms) as section 1; its runs alternate with "
           "fetchbench's (fetchbench, peer, fetchbench, peer, …). Overhead is "
           "(process wall − delay)/N for both, memory is peak RSS/N for both (each includes its "
           "runtime: the Python interpreter with aiohttp imported is ~30 MB). Reference: a plain "
           "asyncio program spends about 20 µs and 1.5 KB per task at 10^6 tasks.", "",
           meta_line(sec), ""]
    rows = []
    for r in sec["summary"]:
        fb, pe = r["fetchbench"], r["peer"]
        if not r["runs_peer"]:
            rows.append([r["mode"], f"{r['tasks']:,}", fmt(fb["overhead_us_per_task"], 3),
                         "not run", "–", fmt(fb["rss_bytes_per_task"], 0), "not run", "–"])
            continue
        ro, rm = r["ratio_overhead_us_per_task"], r["ratio_rss_bytes_per_task"]
        rows.append([r["mode"], f"{r['tasks']:,}", fmt(fb["overhead_us_per_task"], 3),
                     fmt(pe["overhead_us_per_task"], 3),
                     f"**{fmtx(ro['of_medians'])}** ({fmt_spread_x(ro['pairs'])})",
                     fmt(fb["rss_bytes_per_task"], 0), fmt(pe["rss_bytes_per_task"], 0),
                     f"**{fmtx(rm['of_medians'])}** ({fmt_spread_x(rm['pairs'])})"])
    out += [table(["mode", "N", "fetchbench µs/task", "asyncio µs/task",
                   "overhead ratio (pairs)", "fetchbench B/task", "asyncio B/task",
                   "memory ratio (pairs)"], rows), ""]
    nolock = [r for r in sec["summary"] if r["mode"] == "nolock"]
    if nolock:
        out += [f"The nolock row is an extra: a stampede of {nolock[0]['tasks']:,} fetches, "
                "each on a new connection (fetchbench without --max-connections, "
                "aiohttp with a session per fetch), so the per-task figure there is the cost "
                "of a whole fetch, not of the harness.", ""]
    return out


def md_fetch(sec):
    c, s = sec["config"], sec["summary"]
    out = ["## 3. Fetch path", "",
           f"`fetchbench --mode nolock` with delay 0: {c['requests']:,} fetches reusing at most "
           f"`--max-connections {c['connections']}`, against wrk "
           f"(`-c {c['connections']} -t 2 -d {c['wrk_seconds']}s`) and hey "
           f"(`-n {c['requests']} -c {c['connections']}`) on the same `fetchbench serve`, the "
           "three interleaved run by run. fetchbench's requests/s = upstream_requests / "
           "(summary.wall_us / 10^6); the process-wall figure (start-up and writing the "
           "timeline included) is beside it.", "", meta_line(sec), ""]
    wrk_med = med(s["wrk"]["rps"])
    rows = []
    for tool in ("fetchbench", "wrk", "hey"):
        r = s[tool]
        extra = ""
        if tool == "fetchbench":
            extra = f" (process wall: {fmt(r['rps_process_wall'], 0)})"
        rows.append([tool, fmt(r["rps"], 0) + extra,
                     fmtx(ratio(med(r["rps"]), wrk_med), 2), r["errors"]])
    out += [table(["client", "requests/s", "÷ wrk", "errors (all runs)"], rows), ""]
    pr = s["ratio_fetchbench_wrk"]["pairs"]
    out += [f"Per-pair fetchbench/wrk ratio: {fmt_spread_x(pr, 2)}. All three clients share "
            "the 2 cores with the server, so each figure is client + server throughput on "
            "this machine, not the server's limit.", ""]
    return out


def md_server(sec):
    c, s = sec["config"], sec["summary"]
    out = ["## 4. Embedded server", "",
           f"`fetchbench serve` under wrk (`-c {c['connections']} -t 2 -d {c['wrk_seconds']}s`) "
           "on /delay/0, with keep-alive and with `-H 'Connection: close'` (a new connection "
           "per request), interleaved.", "", meta_line(sec), ""]
    rows = [[v, fmt(s[v]["rps"], 0), s[v]["errors"]] for v in ("keep-alive", "close")]
    out += [table(["wrk variant", "requests/s", "socket errors + non-2xx (all runs)"], rows), ""]
    h = s["hold"]
    out += [f"Concurrent delayed requests: `bench/hold_conns.py` opens {h['connections']:,} "
            f"connections (at most 256 connecting at once) to a fresh server per run and sends "
            f"one `GET /delay/{c['hold_delay_ms']}` on each, then reads the server's /stats. "
            "The open-file soft limit is raised to the hard limit by bench/run.py (inherited "
            "by every child; `fetchbench serve` also raises its own).", ""]
    rows = [[f"{h['connections']:,}", f"{c['hold_delay_ms']} ms", fmt(h["max_in_service"], 0),
             fmt(h["ok"], 0), fmt(h["open_all_s"], 2), h["runs"]]]
    p = s.get("probe")
    if p:
        rows.append([f"{p['connections']:,} (probe)", f"{p['delay_ms']} ms",
                     f"{p['max_in_service']:,}" if p["max_in_service"] is not None else "–",
                     f"{p['ok']:,}" if p["ok"] is not None else "–",
                     f"{p['open_all_s']:.2f}" if p["open_all_s"] is not None else "–", 1])
    out += [table(["connections", "delay", "max_in_service", "answered 200",
                   "time to open all (s)", "runs"], rows), ""]
    if p:
        out += ["The probe is a single run near the open-file limit (see Machine), "
                "with a longer delay so that every request is in before the "
                "first answer leaves; opening that many sockets is slow on the client side "
                "(the kernel's ephemeral-port search), not in the server.", ""]
    return out


def md_sweep(sec):
    c = sec["config"]
    out = ["## 5. Scaling sweep", "",
           f"Both modes, N = {', '.join(f'{n:,}' for n in c['sizes'])}, each run with its own "
           f"embedded server (`--capacity {c['capacity']} --delay-ms {c['delay_ms']}`), the "
           "modes interleaved. The URL's host is the machine's name, so each new connection "
           "resolves it on a thread (peak threads). Peak connections stop growing at "
           "(open-file limit − 64) / 3, fetchbench's cap on transfers in flight (6,645 with "
           "a limit of 20,000): the rest of the stampede waits in its queue, and the server's "
           "capacity still sets the wall time.", "", meta_line(sec), ""]
    if c["delay_ms"] != 200:
        out += [f"**Why delay {c['delay_ms']} ms and not 200 ms:** with capacity "
                f"{c['capacity']}, nolock serves N requests in N/{c['capacity']} rounds of the "
                f"delay; at 200 ms that is 250 s per run at N = 10,000 and 2,500 s at "
                f"N = 100,000 — {c['runs']} runs would not finish in the time budget. "
                "The delay is a flag: `bench/run.py --only sweep --sweep-delay-ms 200` "
                "(expect hours).", ""]
    rows = []
    for r in sec["summary"]:
        rows.append([f"{r['tasks']:,}", r["mode"], fmt(r["wall_s"], 3),
                     fmt(r["upstream_requests"], 0), fmt(r["peak_threads"], 0),
                     fmt(r["threads_created"], 0), fmt(r["peak_connections"], 0),
                     fmt(r["max_in_service"], 0), fmt(r["max_queued"], 0),
                     fmt(r["errors"], 0) + (f", {r['failed_runs']} runs failed"
                                            if r["failed_runs"] else "")])
    out += [table(["N", "mode", "wall (s)", "upstream requests", "peak threads",
                   "threads created", "peak connections", "server max in service",
                   "server max queued", "errors"], rows), ""]
    p = sec.get("plot")
    if p:
        out += [f"![sweep]({p['file']})", "", f"Plotted by `{p['by']}`."
                + (f" ({p['note']})" if p.get("note") else ""), ""]
    return out


def md_machine(doc):
    m = doc.get("machine", {})
    keys = [("nproc", "cores (nproc)"), ("cpu", "CPU"), ("mem_total_gb", "memory (GiB)"),
            ("kernel", "kernel"), ("fetchbench", "fetchbench"), ("git_commit", "git commit"),
            ("libevent", "libevent"), ("libcurl", "libcurl"), ("curl", "curl"),
            ("python", "python"), ("aiohttp", "aiohttp"), ("wrk", "wrk (Debian)"),
            ("hey", "hey (Debian)")]
    rows = [[label, f"`{m[k]}`"] for k, label in keys if m.get(k) is not None]
    nf = m.get("nofile")
    if nf:
        rows.append(["open-file limit", f"soft {nf['soft_before']} raised to {nf['soft']} "
                     f"(hard {nf['hard']}) for every benchmark process"])
    if m.get("loadavg_start"):
        rows.append(["load average at start / end",
                     ", ".join(f"{x:.2f}" for x in m["loadavg_start"]) + " / "
                     + ", ".join(f"{x:.2f}" for x in m.get("loadavg_end", []))])
    return ["## Machine", "",
            "Shared and noisy: the clients, the server and whatever else runs on the host "
            "share these cores, so spreads are wide and absolute numbers move from run to run; "
            "the interleaving keeps the ratios fair.", "",
            table(["fact", "value"], rows, numeric=False), ""]


def md_reproduce(doc):
    secs = doc.get("sections", {})
    cmds = sorted({s["meta"]["command"] for s in secs.values()})
    out = ["## Reproduce", "", "```sh", "make bench      # = sh scripts/setup bench && make all "
           "&& /usr/bin/python3 bench/run.py"]
    out += [f"{c}   # what produced these results" for c in cmds]
    out += ["/usr/bin/python3 bench/run.py --only peer --runs 5     # one part",
            "/usr/bin/python3 bench/run.py --quick                  # smoke test, to build/bench-quick",
            "/usr/bin/python3 bench/report.py results/bench/results.json   # README from the JSON",
            "```", "", "The commands each section ran (PORT is the server's ephemeral port):", ""]
    seen = {}
    for name, sec in secs.items():
        for label, c in sec["config"].get("commands", {}).items():
            seen.setdefault(c, []).append(f"{name} ({label})")
    out += [f"- {', '.join(where)}: `{c}`" for c, where in seen.items()]
    out += ["", "## Notes", "",
            "- Wall times are the whole process's, so they include start-up; the per-task "
            "figures subtract only the nominal delay.",
            "- Peak RSS: the brief asked for os.wait4's rusage of the process, but on Linux a "
            "child's ru_maxrss starts at its parent's RSS (the parent's high-water mark is "
            "copied into the child when it execs), which put a ~34 MB floor — the harness's own "
            "Python — under every figure: fetchbench at N = 1,000 read 33.7 MB instead of "
            "~11 MB. So every command runs under `/usr/bin/time -f %M` (GNU time forks it from "
            "a ~1 MB process and reports its own wait4's ru_maxrss); `machine.rss_source` in "
            "results.json says which method a run used.",
            "- The peers' figures include their runtimes (the Python interpreter with aiohttp "
            "imported; wrk's and hey's threads) just as fetchbench's include its own.",
            ""]
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: report.py results.json  (Markdown on stdout)", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)
    sys.stdout.write(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
