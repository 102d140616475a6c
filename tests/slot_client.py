#!/usr/bin/python3
"""slot_client — clients that leave, half-close or pipeline, against a
`fetchbench serve --capacity 1` on loopback.

    slot_client.py CASE URL SERVER_PID

URL is the server's base (http://127.0.0.1:PORT); the server must be fresh
(its /stats counters all 0) and have capacity 1. SERVER_PID lets a case
check that the server does not spin while it holds a connection. Prints
"ok CASE" and exits 0, or prints "FAIL CASE: why" and exits 1; 2 on usage.

Cases (in each, a client B queued behind the others must be served in
order, and long before the LONG delay of any client that left):
  gone-extra-byte    A sends its request and one more byte, then closes,
                     while in service: its slot is freed at once.
  gone-extra-queued  the same while queued behind a client that stays.
  gone-close         A closes (FIN) while in service.
  gone-reset         A resets (SO_LINGER 0) while in service.
  half-close         A sends its request then shutdown(SHUT_WR): it gets
                     a 102, then its 200 with the page; B is served after.
  half-close-queued  the same while queued.
  http10-half-close  an HTTP/1.0 client that half-closes is taken for
                     gone (no 1xx may be sent to it): freed, no answer.
  pipelined-stays    A sends a second request behind its first and stays:
                     both answered in order, no 102, the server idle.
"""
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request

LONG_MS = 20000          # what a client that left would hold the slot for
SERVED_WITHIN_S = 5.0    # B's answer must come well before LONG_MS
PAGE_BYTES = 1024


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


class Server:
    def __init__(self, url, pid):
        parts = urllib.parse.urlsplit(url)
        self.url = url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port
        self.pid = pid

    def connect(self):
        s = socket.create_connection((self.host, self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Conn(s)

    def stats(self):
        with urllib.request.urlopen(self.url + "/stats", timeout=5) as r:
            return json.load(r)

    def cpu_s(self):
        """User + system CPU seconds the server has used."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_for(self, what, pred, timeout=5.0):
        """Polls /stats until pred(stats) holds; returns the stats."""
        end = time.monotonic() + timeout
        while True:
            st = self.stats()
            if pred(st):
                return st
            check(time.monotonic() < end, f"{what}: /stats stayed {st}")
            time.sleep(0.02)


class Conn:
    """A client socket and the bytes received but not yet parsed."""
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def __getattr__(self, name):
        return getattr(self.sock, name)


def request(path, version="1.1"):
    return f"GET {path} HTTP/{version}\r\nHost: t\r\n\r\n".encode()


def read_response(conn, timeout):
    """Reads one final response, skipping interim 1xx ones. Returns
    (interim status codes, final status, body); (.., None, b"") on EOF."""
    sock = conn.sock
    sock.settimeout(timeout)
    buf = conn.buf
    interim = []
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return interim, None, b""
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if 100 <= status < 200:
            interim.append(status)
            continue
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(buf) < length:
            chunk = sock.recv(65536)
            check(chunk, "connection closed inside a body")
            buf += chunk
        conn.buf = buf[length:]
        return interim, status, buf[:length]


def served(sock, what, within=SERVED_WITHIN_S):
    """B's answer: a 200 with the page, long before LONG_MS."""
    t0 = time.monotonic()
    try:
        interim, status, body = read_response(sock, within)
    except socket.timeout:
        raise Failure(f"{what}: no answer within {within} s (the delay of a client "
                      f"that left is {LONG_MS / 1000} s)")
    check(status == 200 and len(body) == PAGE_BYTES,
          f"{what}: got status {status}, {len(body)} bytes")
    check(interim == [], f"{what}: unexpected interim answers {interim}")
    return time.monotonic() - t0


def expect_counts(srv, completed, abandoned):
    st = srv.wait_for(f"completed {completed}, abandoned {abandoned}, idle",
                      lambda s: s["completed"] == completed and s["abandoned"] == abandoned
                      and s["in_service"] == 0 and s["queued"] == 0)
    return st


def gone(srv, how, queued):
    """A client leaves (how) while in service, or while queued behind a
    client that stays (queued); B behind it is served at once."""
    holder = None
    if queued:
        holder = srv.connect()
        holder.sendall(request("/delay/1000"))
        srv.wait_for("holder in service", lambda s: s["in_service"] == 1)
    a = srv.connect()
    a.sendall(request(f"/delay/{LONG_MS}"))
    srv.wait_for("A in service or queued",
                 lambda s: s["requests"] == (2 if queued else 1))
    if how == "extra-byte":
        # After the server has taken the request, so the byte waits in
        # the kernel rather than in evhttp's buffer.
        a.sendall(b"X")
        time.sleep(0.1)
    b = srv.connect()
    b.sendall(request("/delay/0"))
    srv.wait_for("B queued", lambda s: s["queued"] == (2 if queued else 1))
    if how == "reset":
        a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()
    if queued:
        served(holder, "the holder")
        holder.close()
    served(b, "B behind a client that left")
    b.close()
    expect_counts(srv, completed=2 if queued else 1, abandoned=1)


def half_close(srv, queued, version="1.1"):
    """A half-closes; it is answered (HTTP/1.1) and B after it."""
    holder = None
    if queued:
        holder = srv.connect()
        holder.sendall(request("/delay/500"))
        srv.wait_for("holder in service", lambda s: s["in_service"] == 1)
    a = srv.connect()
    a.sendall(request("/delay/800", version))
    a.shutdown(socket.SHUT_WR)
    srv.wait_for("A in", lambda s: s["requests"] == (2 if queued else 1))
    b = srv.connect()
    b.sendall(request("/delay/0"))
    cpu0, t0 = srv.cpu_s(), time.monotonic()
    if version == "1.0":
        # Taken for gone: B is served at once and A gets no answer.
        if queued:
            served(holder, "the holder")
        served(b, "B behind an HTTP/1.0 half-closed client")
        interim, status, _ = read_response(a, 5)
        check(status is None and interim == [],
              f"HTTP/1.0 half-closed A: expected no answer, got {interim} {status}")
        expect_counts(srv, completed=2 if queued else 1, abandoned=1)
        return
    if queued:
        served(holder, "the holder")
    interim, status, body = read_response(a, 10)
    check(interim == [102], f"half-closed A: interim answers {interim}, expected [102]")
    check(status == 200 and len(body) == PAGE_BYTES,
          f"half-closed A: status {status}, {len(body)} bytes")
    served(b, "B behind a half-closed client")
    busy = srv.cpu_s() - cpu0
    wall = time.monotonic() - t0
    check(busy < 0.5 * wall, f"the server used {busy:.2f} s CPU in {wall:.2f} s: spinning?")
    expect_counts(srv, completed=3 if queued else 2, abandoned=0)


def pipelined_stays(srv):
    a = srv.connect()
    a.sendall(request("/delay/1000"))
    srv.wait_for("A in service", lambda s: s["in_service"] == 1)
    # Sent once the first is taken, so it waits in the kernel, readable.
    a.sendall(request("/delay/0"))
    cpu0, t0 = srv.cpu_s(), time.monotonic()
    first = read_response(a, 10)
    busy = srv.cpu_s() - cpu0
    wall = time.monotonic() - t0
    check(first[0] == [] and first[1] == 200, f"first pipelined answer: {first[:2]}")
    check(busy < 0.5 * wall, f"the server used {busy:.2f} s CPU in {wall:.2f} s: spinning?")
    second = read_response(a, 10)
    check(second[0] == [] and second[1] == 200, f"second pipelined answer: {second[:2]}")
    expect_counts(srv, completed=2, abandoned=0)


CASES = {
    "gone-extra-byte": lambda s: gone(s, "extra-byte", queued=False),
    "gone-extra-queued": lambda s: gone(s, "extra-byte", queued=True),
    "gone-close": lambda s: gone(s, "close", queued=False),
    "gone-reset": lambda s: gone(s, "reset", queued=False),
    "half-close": lambda s: half_close(s, queued=False),
    "half-close-queued": lambda s: half_close(s, queued=True),
    "http10-half-close": lambda s: half_close(s, queued=False, version="1.0"),
    "pipelined-stays": pipelined_stays,
}


def main(argv):
    if len(argv) != 4 or argv[1] not in CASES:
        print(f"usage: slot_client.py {{{'|'.join(CASES)}}} URL SERVER_PID", file=sys.stderr)
        return 2
    srv = Server(argv[2], int(argv[3]))
    try:
        st = srv.stats()
        check(st["requests"] == 0, f"the server is not fresh: {st}")
        CASES[argv[1]](srv)
    except (Failure, OSError) as e:
        print(f"FAIL {argv[1]}: {e}")
        return 1
    print(f"ok {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
