"""One delivery attempt on the wire: a POST that reports what the receiver answered, and never reaches
the emulator itself.

The self check runs on the connected socket, before a byte is sent: whatever spelling of the address the
URL uses (localhost, 127.1, 2130706433, [::ffff:127.0.0.1], 0.0.0.0, a DNS name), the peer it really
reached is compared with the emulator's own listening address. So a webhook aimed at the control plane
cannot reset the emulator or make it deliver to itself in a loop.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ANSWER_EXCERPT_BYTES = 2048
HEADER_RECORD_BYTES = 8192  # names and values together, per attempt and direction
Header = tuple[str, str]
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Answer:
    """How one attempt went: the status, or why there was none, and what the receiver said how fast."""

    status: int | None
    seconds: float | None = None  # real time from connecting to the receiver's answer
    body: str = ""  # the start of the receiver's answer body
    error: str | None = None  # why no HTTP answer came back
    headers: tuple[Header, ...] = ()  # the receiver's answer headers, as many as fit HEADER_RECORD_BYTES
    sent_headers: tuple[Header, ...] = ()  # every request header, http.client's own included, in order
    # The whole request went out before anything failed: without an answer, the receiver may still have
    # processed it (a timeout, a connection closed while it worked).
    request_sent: bool = False


def bounded(headers: Iterable[Header], limit: int = HEADER_RECORD_BYTES) -> tuple[Header, ...]:
    """The leading headers that fit `limit` bytes: a receiver cannot make the emulator keep megabytes."""
    kept: list[Header] = []
    used = 0
    for name, value in headers:
        used += len(name) + len(value)
        if used > limit:
            break
        kept.append((name, value))
    return tuple(kept)


def _header_text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _plain(ip: str) -> _IPAddress:
    address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_this_machine(address: _IPAddress) -> bool:
    """Loopback, unspecified (which connects locally), or an address of one of this machine's interfaces."""
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))  # only a local address can be bound
    except OSError:
        return False
    return True


class OwnAddress:
    """The emulator's listening address, as bound (an interface address, or all interfaces)."""

    def __init__(self, host: str, port: int) -> None:
        bound = _plain(host or "0.0.0.0")
        self._ip = None if bound.is_unspecified else bound
        self._port = port

    def is_reached_by(self, peer: tuple[Any, ...]) -> bool:
        if peer[1] != self._port:
            return False
        reached = _plain(str(peer[0]))
        return _is_this_machine(reached) if self._ip is None else reached == self._ip


class _SelfDelivery(Exception):
    """The connection landed on the emulator's own listening socket."""


class _Connection(http.client.HTTPConnection):
    """http.client with the self check between connecting and sending, and optional TLS after it."""

    def __init__(
        self, host: str, port: int, timeout: float, own: OwnAddress | None, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._own = own
        self._tls = tls
        self.sent_headers: list[Header] = []

    def putheader(self, header: str | bytes, *values: Any) -> None:
        # Every header passes here, Host, Accept-Encoding and Content-Length too: the record is what went out.
        self.sent_headers.append((_header_text(header), ", ".join(_header_text(value) for value in values)))
        super().putheader(header, *values)

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        if self._own is not None and self._own.is_reached_by(sock.getpeername()):
            sock.close()
            raise _SelfDelivery()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host) if self._tls is not None else sock


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, own: OwnAddress | None) -> Answer:
    """POSTs `body` and reports the answer. Never raises for network trouble: that is the answer.

    http.client rather than urllib.request: urllib title-cases header names (X-Mypos-Signature) and
    follows redirects, while myPOS sends X-myPOS-* and counts every 3xx as a failure. No proxies either,
    so a developer's http_proxy never captures loopback deliveries. HTTPS verifies certificates.
    """
    target = urlsplit(url)
    try:
        port = target.port or (443 if target.scheme == "https" else 80)
    except ValueError:
        return Answer(None, error="the payload URL has an invalid port")
    tls = ssl.create_default_context() if target.scheme == "https" else None
    connection = _Connection(target.hostname or "", port, timeout, own, tls)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    started = time.perf_counter()  # real elapsed time: how long the receiver really took
    request_sent = False
    try:
        connection.request("POST", path, body=body, headers=headers)
        request_sent = True
        response = connection.getresponse()
        excerpt = response.read(ANSWER_EXCERPT_BYTES)  # never more: a receiver cannot flood the emulator
        elapsed = time.perf_counter() - started
        text = excerpt.decode("utf-8", "replace")
        sent = bounded(connection.sent_headers)
        answer_headers = bounded(response.getheaders())
        return Answer(response.status, elapsed, text, headers=answer_headers, sent_headers=sent, request_sent=True)
    except (OSError, http.client.HTTPException, _SelfDelivery) as problem:
        sent = bounded(connection.sent_headers)
        return Answer(None, error=_describe(problem, timeout), sent_headers=sent, request_sent=request_sent)
    finally:
        connection.close()


def _describe(problem: BaseException, timeout: float) -> str:
    """One short reason for the delivery log; never a traceback."""
    if isinstance(problem, _SelfDelivery):
        return "refused: the payload URL leads to the emulator itself (its own address and port)"
    if isinstance(problem, ConnectionRefusedError):
        return "connection refused"
    if isinstance(problem, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(problem, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {problem.verify_message}"
    if isinstance(problem, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(problem, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(problem, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        return "the connection closed without an answer"
    if isinstance(problem, http.client.HTTPException):
        return "the answer was not valid HTTP"
    return f"network error: {getattr(problem, 'strerror', None) or type(problem).__name__}"


__all__ = ("ANSWER_EXCERPT_BYTES", "HEADER_RECORD_BYTES", "Answer", "Header", "OwnAddress", "bounded", "post")
