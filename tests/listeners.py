"""Real listeners on loopback for the download-guard tests: an HTTP(S) server that counts the
connections it accepts (zero means not even a TLS ClientHello reached it), with certificates
from a CA made in the test (trustme). The fixtures using it are in tests/conftest.py."""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = b'{"internal": "secret"}\n'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(SECRET)))
        self.end_headers()
        self.wfile.write(SECRET)

    def log_message(self, *args):
        pass


class Listener(ThreadingHTTPServer):
    """An HTTP(S) server on a loopback address that counts the connections it accepts."""

    daemon_threads = True

    def __init__(self, host: str, context: ssl.SSLContext | None = None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        self.context = context
        self.accepted = 0
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def get_request(self):
        sock, address = super().get_request()
        self.accepted += 1
        if self.context is not None:  # the handshake happens in the handler's thread
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        pass  # a client that gave up on the certificate is what some tests expect

    def stop(self):
        self.shutdown()
        self.server_close()


def tls_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(context)
    return context
