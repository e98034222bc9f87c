"""The socket side: a threaded HTTP/1.1 server with keep-alive that hands requests to the core.

It protects itself from its clients: bodies are bounded (bodies.py); each request must arrive whole,
headers and body, within `request_timeout` of its first byte, so a client trickling bytes cannot keep a
thread (a new connection's first request is due within the same time); and at most `max_connections` are
served at once. When full, a connection that idles between keep-alive requests is closed to make room; if
none idles, the newcomer gets an immediate 503.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .bodies import BodyError, read_body
from .core import EmulatorCore
from .wire import Drop, Request, Response

LINGER_SECONDS = 0.5
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")
LINGER_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 10 * 1024 * 1024
    max_connections: int = 128
    request_timeout: float = 30.0  # from a request's first byte to its last, headers and body
    idle_timeout: float = 120.0  # a keep-alive connection waiting for its next request


class _RequestReader(io.RawIOBase):
    """The socket as a raw stream whose reads for one request share one deadline.

    A per-read timeout alone lets a client send one byte just before each timeout forever. Here the
    first byte of a request starts the clock, and every later read gets only the time that is left.
    """

    def __init__(self, sock: socket.socket, limits: ServerLimits) -> None:
        self._sock = sock
        self._limits = limits
        # A new connection's first request is due at once: a client that connects and sends nothing
        # holds a thread no longer than one that trickles.
        self._deadline: float | None = time.monotonic() + limits.request_timeout
        self.working = False  # the request is read and being answered
        self._answered_one = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._deadline is None:
            self._sock.settimeout(self._limits.idle_timeout)
        else:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive within the request timeout")
            self._sock.settimeout(left)
        count = self._sock.recv_into(buffer)
        if count and self._deadline is None:
            self._deadline = time.monotonic() + self._limits.request_timeout
        return count

    def request_read(self) -> None:
        """The whole request is in: writes get the generous idle timeout, not what was left."""
        self._deadline = None
        self.working = True
        self._sock.settimeout(self._limits.idle_timeout)

    def answered(self) -> None:
        self.working = False
        self._answered_one = True

    @property
    def idle(self) -> bool:
        """Kept alive after an answer, with nothing of the next request pending: closable to make room
        (as any keep-alive connection may be; clients reconnect). A connection before its first answer
        never is, so one that just sent a request is never cut off."""
        if not self._answered_one or self.working or self._deadline is not None:
            return False
        # poll, not a peeking recv: the socket has a timeout, so recv would wait for data first.
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        return not poller.poll(0)  # readable: a request (or the client's close) is arriving


_BUSY_BODY = json.dumps({"error": "busy", "message": "too many open connections; try again"}).encode()
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY
)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], core: EmulatorCore, quiet: bool, limits: ServerLimits) -> None:
        self.core = core
        self.quiet = quiet
        self.limits = limits
        self._connections: dict[socket.socket, _RequestReader | None] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            full = len(self._connections) >= self.limits.max_connections
            if full and not self._close_one_idle_connection():
                _refuse(request)
                return
            self._connections[request] = None
        super().process_request(request, client_address)

    def _close_one_idle_connection(self) -> bool:
        """Called with the lock held; the closed connection's thread ends on its own."""
        for connection, reader in self._connections.items():
            if reader is not None and reader.idle:
                del self._connections[connection]
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                return True
        return False

    def track(self, connection: socket.socket, reader: _RequestReader) -> None:
        with self._connections_lock:
            if connection in self._connections:
                self._connections[connection] = reader

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Ends idle keep-alive connections, whose threads would otherwise outlive the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _refuse(connection: socket.socket) -> None:
    """503 without blocking the accept loop; what the client already sent is drained, so the close is
    a clean FIN and the client reads the answer rather than a reset."""
    with contextlib.suppress(OSError):
        connection.setblocking(False)
        connection.send(_BUSY)
        connection.shutdown(socket.SHUT_WR)
        with contextlib.suppress(BlockingIOError):
            while connection.recv(65536):
                pass
    connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mypos-emulator/1.0"
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self._reader = _RequestReader(self.connection, self.server.limits)
        # Closed at once: an open socket.makefile() would keep the socket's file descriptor alive.
        self.rfile.close()
        self.rfile = io.BufferedReader(self._reader)
        self.server.track(self.connection, self._reader)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        try:
            body = read_body(self.rfile, self.headers, self.server.limits.max_body_bytes)
        except BodyError as problem:
            self._refuse_request(problem.status, str(problem))
            return
        except TimeoutError:
            self._refuse_request(408, "the request did not arrive within the request timeout")
            return
        self._reader.request_read()
        try:
            self._answer(body)
        finally:
            self._reader.answered()

    def _answer(self, body: bytes) -> None:
        target = urlsplit(self.path)
        request = Request(self.command, target.path, target.query, self.headers, body)
        outcome = self.server.core.handle(request)
        if isinstance(outcome, Drop):
            self.close_connection = True  # nothing written: the client sees the connection close
            return
        self._write(outcome)

    def _refuse_request(self, status: int, message: str) -> None:
        """Answers and closes; unread input is drained briefly so the client reads the answer."""
        self._reader.request_read()
        self._write(Response(status, f"{message}\n".encode(), "text/plain", {"Connection": "close"}))
        self.close_connection = True
        self._linger()

    def _linger(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            drained, deadline = 0, time.monotonic() + LINGER_SECONDS
            while drained < LINGER_BYTES and time.monotonic() < deadline:
                chunk = self.connection.recv(65536)
                if not chunk:
                    return
                drained += len(chunk)

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            # 204 must not carry a body length; every other answer says how long it is, for keep-alive.
            if response.status != 204:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body and response.status != 204:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. after a slow fault): nobody to tell

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            # The dashboard's one-time ?token=... must not land in a log.
            line = _TOKEN_IN_QUERY.sub(r"\1<redacted>", format % args)
            sys.stderr.write(f"{self.address_string()} {line}\n")


__all__ = ("EmulatorHTTPServer", "ServerLimits")
