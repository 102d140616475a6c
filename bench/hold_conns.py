#!/usr/bin/python3
"""hold_conns — hold many delayed requests open against a fetchbench server.

    hold_conns.py --url http://127.0.0.1:PORT/ [--connections 10000] [--delay-ms 5000]

Opens --connections TCP connections to the server, sends one
GET /delay/MS on each (HTTP/1.1, Connection: close) as soon as it connects,
and reads every answer.  Once every request has been sent it reads /stats
(the in_service then); after the last answer it reads /stats again, whose
max_in_service is the most requests the server held at once.  A fresh
server is needed for max_in_service to describe this run alone.

Connection attempts in progress are capped (--connect-window) so a burst of
SYNs does not overflow the listen queue; the delay has to outlast the time
it takes to open them all, or the first answers leave before the last
requests arrive.  Raises its own open-file soft limit to the hard limit.

Prints one JSON object on stdout; exit status 0 when every request got a
200, 1 otherwise, 2 on bad usage.
"""
import argparse
import asyncio
import json
import resource
import sys
import time
import urllib.parse


def raise_nofile(wanted):
    """Raises the soft open-file limit to the hard one; returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def http_get_json(host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return json.loads(body)


class Holder:
    def __init__(self, args, host, port):
        self.args = args
        self.host = host
        self.port = port
        self.window = asyncio.Semaphore(args.connect_window)
        self.settled = 0   # requests sent, or given up on
        self.all_sent = asyncio.Event()
        self.t_all_sent = None
        self.errors = {}       # stage:ExceptionName -> count
        self.statuses = {}     # HTTP status -> count

    def error(self, stage, e):
        key = f"{stage}:{type(e).__name__}"
        self.errors[key] = self.errors.get(key, 0) + 1

    def settle(self):
        self.settled += 1
        if self.settled == self.args.connections:
            self.t_all_sent = time.monotonic()
            self.all_sent.set()

    async def one(self):
        request = (f"GET /delay/{self.args.delay_ms} HTTP/1.1\r\nHost: {self.host}\r\n"
                   "Connection: close\r\n\r\n").encode()
        async with self.window:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as e:
                self.error("connect", e)
                self.settle()  # it will never be sent: do not wait for it
                return
        sent = False
        try:
            writer.write(request)
            await writer.drain()
            sent = True
            self.settle()
            line = await reader.readline()
            parts = line.split()
            status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
            await reader.read()  # the rest, until the server closes
            self.statuses[status] = self.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError) as e:
            self.error("read" if sent else "write", e)
            if not sent:
                self.settle()
        finally:
            writer.close()


async def hold(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    h = Holder(args, host, port)
    t0 = time.monotonic()
    tasks = [asyncio.create_task(h.one()) for _ in range(args.connections)]
    await h.all_sent.wait()
    mid = await http_get_json(host, port, "/stats")
    await asyncio.gather(*tasks)
    t_end = time.monotonic()
    end = await http_get_json(host, port, "/stats")
    ok = h.statuses.get(200, 0)
    return {
        "tool": "hold_conns",
        "connections": args.connections,
        "delay_ms": args.delay_ms,
        "open_all_s": round(h.t_all_sent - t0, 4),
        "total_s": round(t_end - t0, 4),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(h.statuses.items())},
        "errors": h.errors,
        "in_service_when_all_sent": mid.get("in_service"),
        "queued_when_all_sent": mid.get("queued"),
        "stats_end": end,
        "max_in_service": end.get("max_in_service"),
    }


def parse_args(argv):
    p = argparse.ArgumentParser(prog="hold_conns.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the server's base URL, http://HOST:PORT/")
    p.add_argument("-c", "--connections", type=int, default=10000)
    p.add_argument("-d", "--delay-ms", type=int, default=5000)
    p.add_argument("--connect-window", type=int, default=256,
                   help="connection attempts in progress at once (default 256)")
    args = p.parse_args(argv)
    if args.connections < 1:
        p.error("--connections: must be at least 1")
    if args.delay_ms < 0:
        p.error("--delay-ms: must not be negative")
    if args.connect_window < 1:
        p.error("--connect-window: must be at least 1")
    return args


def main():
    args = parse_args(sys.argv[1:])
    before, after = raise_nofile(args.connections + 64)
    if after < args.connections + 16:
        print(f"hold_conns: the open-file limit is {after}; {args.connections} "
              "connections will not fit", file=sys.stderr)
    report = asyncio.run(hold(args))
    report["nofile_soft_limit"] = {"before": before, "after": after}
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0 if report["ok"] == args.connections else 1


if __name__ == "__main__":
    sys.exit(main())
