#!/usr/bin/python3
"""A misbehaving HTTP server for fetchbench's fault tests, on a loopback port.
Prints http://127.0.0.1:PORT once listening. Paths:
  /reset       headers promising 100000 bytes, 100 of them, then a TCP reset
  /close       the same, then an orderly close (a short body)
  /status/N    status N with a small body
  /big/N       200 with an N-byte body
  /hang        reads the request, never answers
  /nocontent   204 with no body
  /flaky/NAME  503 the first time NAME is asked for, 200 with a body after
"""
import asyncio
import socket
import struct
import sys


flaky_seen = set()


async def handle(reader, writer):
    try:
        request = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    path = request.split(b" ")[1].decode()
    sock = writer.get_extra_info("socket")
    if path in ("/reset", "/close"):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100)
        await writer.drain()
        await asyncio.sleep(0.05)
        if path == "/reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()
        return
    if path.startswith("/status/"):
        code = int(path.split("/")[2])
        writer.write(b"HTTP/1.1 %d Fault\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfault" % code)
    elif path.startswith("/big/"):
        n = int(path.split("/")[2])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n)
        writer.write(b"y" * n)
    elif path.startswith("/flaky/"):
        if path in flaky_seen:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        else:
            flaky_seen.add(path)
            writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy")
    elif path == "/nocontent":
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    elif path == "/hang":
        await asyncio.sleep(3600)
    else:
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
