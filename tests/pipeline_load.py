#!/usr/bin/python3
"""pipeline_load — many quick requests against a fetchbench server.

    pipeline_load.py URL COUNT [CONNECTIONS]

Sends COUNT requests GET /delay/0 over CONNECTIONS (default 4) keep-alive
connections to URL (http://127.0.0.1:PORT), 64 pipelined at a time, and
reads every answer. Exits 0 when all COUNT came back 200, 1 otherwise (one
line on stdout says why), 2 on bad usage.
"""
import re
import socket
import sys
import threading
import urllib.parse

PIPELINE = 64
REQUEST = b"GET /delay/0 HTTP/1.1\r\nHost: t\r\n\r\n"


def read_answers(sock, buf, n):
    """Reads n answers; returns (number that were 200, leftover bytes)."""
    ok = 0
    for _ in range(n):
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise OSError("connection closed early")
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1))
        while len(buf) < length:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise OSError("connection closed inside a body")
            buf += chunk
        buf = buf[length:]
        ok += head.startswith(b"HTTP/1.1 200 ")
    return ok, buf


def run(host, port, count, results):
    try:
        sock = socket.create_connection((host, port), timeout=60)
        buf = b""
        ok = 0
        while count > 0:
            n = min(PIPELINE, count)
            sock.sendall(REQUEST * n)
            got, buf = read_answers(sock, buf, n)
            ok += got
            count -= n
        sock.close()
        results.append(ok)
    except OSError as e:
        results.append(e)


def main(argv):
    try:
        url = urllib.parse.urlsplit(argv[1])
        count = int(argv[2])
        conns = int(argv[3]) if len(argv) > 3 else 4
        if len(argv) > 4 or count < 1 or conns < 1 or url.port is None:
            raise ValueError
    except (IndexError, ValueError):
        print("usage: pipeline_load.py URL COUNT [CONNECTIONS]", file=sys.stderr)
        return 2
    results = []
    threads = [threading.Thread(target=run, args=(url.hostname, url.port,
                                                  count // conns + (i < count % conns), results))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, Exception)]
    ok = sum(r for r in results if not isinstance(r, Exception))
    if errors or ok != count:
        print(f"pipeline_load: {ok} of {count} answered 200; errors: {errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
