#!/usr/bin/python3
"""An HTTPS delay server for fetchbench's TLS tests, on a loopback port.

    tls_server.py CERT.pem KEY.pem [PORT]

Serves with the certificate (and chain) in CERT.pem and its key; prints
https://127.0.0.1:PORT once listening. Paths:
  /delay/MS[/url/ANY]  200 with a 1 KiB body, MS milliseconds after the request
  /stats               {"requests", "in_service", "max_in_service", "queued",
                        "max_queued"}: /delay requests answered or under way,
                        the shape `fetchbench serve` gives --backend-stats
A handshake that fails (the client did not trust us) counts no request.
"""
import http.server
import json
import ssl
import sys
import threading
import time

lock = threading.Lock()
counts = {"requests": 0, "in_service": 0, "max_in_service": 0, "queued": 0, "max_queued": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.split("?")[0].split("/")
        if len(parts) >= 3 and parts[1] == "delay" and parts[2].isdigit():
            with lock:
                counts["requests"] += 1
                counts["in_service"] += 1
                counts["max_in_service"] = max(counts["max_in_service"], counts["in_service"])
            time.sleep(int(parts[2]) / 1000)
            with lock:
                counts["in_service"] -= 1
            self.answer(200, "text/html", b"<p>" + b"x" * 1017 + b"</p>")
        elif parts[1:] == ["stats"]:
            with lock:
                body = json.dumps(counts).encode()
            self.answer(200, "application/json", body)
        else:
            self.answer(404, "text/plain", b"not found")

    def answer(self, status, kind, body):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a refused handshake is what some tests are about


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: tls_server.py CERT.pem KEY.pem [PORT]")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    server = Server(("127.0.0.1", int(sys.argv[3]) if len(sys.argv) == 4 else 0), Handler)
    # The handshake happens in the request's thread, not in accept: a client
    # that hangs up mid-handshake does not stop the others.
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print("https://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
