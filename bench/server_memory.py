#!/usr/bin/python3
"""server_memory — the embedded server's memory and /stats?log=1 after many requests.

    server_memory.py [--fetchbench BIN] [--requests 1000000] [--connections 4]
                     [--pipeline 64]

Starts `BIN serve --port 0` on loopback, sends --requests GET /delay/0 over
--connections keep-alive connections (each pipelining --pipeline requests at
a time, so the load generator is not the bottleneck), then measures:

  rss_start_kb, rss_kb, hwm_kb   VmRSS before, VmRSS and VmHWM after
  stats_log_bytes, stats_log_ms  size of /stats?log=1 and time to get it
  stats_since_bytes              /stats?log=1&since=<now> (0 when the
                                 server does not know `since`: it then
                                 answers the whole log)
  delay100_alone_ms              a /delay/100 request on its own
  delay100_during_stats_ms       a /delay/100 request with /stats?log=1
                                 asked 20 ms after it (a stalled loop
                                 answers it late)

Prints one JSON object on stdout; exit 0, or 1 when a request fails, 2 on
bad usage.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def response_size(host, port):
    """Bytes of one /delay/0 answer (all are the same length)."""
    s = socket.create_connection((host, port))
    s.sendall(b"GET /delay/0 HTTP/1.1\r\nHost: b\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        body += s.recv(65536)
    s.close()
    return len(head) + 4 + length


def load(host, port, count, pipeline, size, errors):
    """count requests on one keep-alive connection, pipeline at a time."""
    req = b"GET /delay/0 HTTP/1.1\r\nHost: b\r\n\r\n"
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    left = count
    try:
        while left > 0:
            n = min(pipeline, left)
            s.sendall(req * n)
            want = n * size
            got = 0
            while got < want:
                chunk = s.recv(min(1 << 20, want - got))
                if not chunk:
                    raise OSError("server closed the connection")
                got += len(chunk)
            left -= n
    except OSError as e:
        errors.append(str(e))
    finally:
        s.close()


def get(url, timeout=60):
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
        status = r.status
    return status, body, (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fetchbench", default=os.path.join(HERE, "..", "build", "release",
                                                         "fetchbench"))
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--pipeline", type=int, default=64)
    args = ap.parse_args()
    if args.requests < 1 or args.connections < 1 or args.pipeline < 1:
        print("server_memory: --requests, --connections and --pipeline must be >= 1",
              file=sys.stderr)
        return 2

    srv = subprocess.Popen([args.fetchbench, "serve", "--port", "0"],
                           stdout=subprocess.PIPE, text=True)
    try:
        url = srv.stdout.readline().strip().rstrip("/")
        host, port = re.match(r"http://([\d.]+):(\d+)", url).groups()
        port = int(port)
        out = {"requests": args.requests, "rss_start_kb": vm(srv.pid, "VmRSS")}
        size = response_size(host, port)
        errors = []
        per = [args.requests // args.connections] * args.connections
        per[0] += args.requests - sum(per) - 1  # response_size sent one
        t0 = time.monotonic()
        threads = [threading.Thread(target=load, args=(host, port, n, args.pipeline, size, errors))
                   for n in per]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["load_s"] = round(time.monotonic() - t0, 2)
        out["errors"] = errors
        out["rss_kb"] = vm(srv.pid, "VmRSS")
        out["hwm_kb"] = vm(srv.pid, "VmHWM")

        status, body, ms = get(url + "/stats?log=1")
        doc = json.loads(body)
        out["served"] = doc["requests"]
        out["stats_log_bytes"] = len(body)
        out["stats_log_entries"] = len(doc.get("in_service_log", []))
        out["stats_log_ms"] = round(ms, 1)
        for key in ("in_service_log_dropped", "in_service_log_truncated"):
            if key in doc:
                out[key] = doc[key]
        now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        status, body, ms = get(f"{url}/stats?log=1&since={now_us}")
        out["stats_since_bytes"] = len(body)

        _, _, out["delay100_alone_ms"] = get(url + "/delay/100")
        result = {}

        def delayed():
            _, _, result["ms"] = get(url + "/delay/100")
        t = threading.Thread(target=delayed)
        t.start()
        time.sleep(0.02)
        _, _, out["stats_log_ms_during"] = get(url + "/stats?log=1")
        t.join()
        out["delay100_during_stats_ms"] = result["ms"]
        for k in ("delay100_alone_ms", "delay100_during_stats_ms", "stats_log_ms_during"):
            out[k] = round(out[k], 1)
        out["rss_end_kb"] = vm(srv.pid, "VmRSS")
    finally:
        srv.terminate()
        srv.wait()
    print(json.dumps(out))
    return 1 if out["errors"] or out["served"] < args.requests else 0


if __name__ == "__main__":
    sys.exit(main())
