"""A forwarding proxy in front of the test S3 server: counts requests and throttles on demand.

    with S3Proxy(server.endpoint) as proxy:
        env = server.env(AWS_ENDPOINT_URL=proxy.endpoint)
        proxy.throttle(5)          # the next 5 requests answer 503 SlowDown

Every request is passed to the real server as it came, Host header included,
so SigV4 signatures (which cover the host) still verify there. A throttled
request gets the answer AWS gives when it sheds load: 503 with an XML
``SlowDown`` error, and never reaches the server.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from .redis_server import free_port

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class S3Proxy:
    """A proxy on a free port of ``host`` (loopback by default), in a thread of the test process."""

    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.port = free_port()
        #: ``host``: the root namespace's end of a test machine's link, say.
        self.endpoint = f"http://{host}:{self.port}"
        #: (method, path without the query) of every request, throttled ones too.
        self.requests: list[tuple[str, str]] = []
        self.throttled = 0
        self._to_throttle = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> S3Proxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def throttle(self, count: int) -> None:
        """Answer the next ``count`` requests with 503 SlowDown."""
        with self._lock:
            self._to_throttle = count

    def count(self, method: str) -> int:
        """Requests of ``method`` seen so far."""
        with self._lock:
            return sum(1 for m, _ in self.requests if m == method)

    def clear(self) -> None:
        """Forget the requests counted so far."""
        with self._lock:
            self.requests.clear()

    def _take(self, method: str, path: str) -> bool:
        """Count a request; whether to throttle it."""
        with self._lock:
            self.requests.append((method, path.split("?", 1)[0]))
            if self._to_throttle > 0:
                self._to_throttle -= 1
                self.throttled += 1
                return True
            return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy._take(self.command, self.path):
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOW_DOWN)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    conn.putrequest(
                        self.command, self.path, skip_host=True, skip_accept_encoding=True
                    )
                    for name, value in self.headers.items():
                        conn.putheader(name, value)
                    conn.endheaders(body or None)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                # A HEAD's length is the object's, not that of the (empty) body.
                length = answer.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        return Handler
