"""Who may use the control plane (/_emulator/...), its dashboard included.

Without a control token, only requests addressed to a loopback Host are answered: a web page the
developer visits cannot reach the control plane through DNS rebinding (its Host is the attacker's name).
With a token (required when the emulator listens beyond loopback), every request must carry it, as
`Authorization: Bearer <token>` or as the dashboard's session cookie, which a browser gets once from
`/_emulator/ui?token=<token>`. In both cases a request from another origin is refused, and every write
must be JSON, which a cross-site form or a `text/plain` fetch cannot send without a CORS preflight.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
from collections.abc import Mapping

from .errors import ApiError
from .wire import Request, Response

COOKIE_NAME = "mypos_emulator_session"
TOKEN_ENVIRONMENT_VARIABLE = "MYPOS_EMULATOR_CONTROL_TOKEN"
MINIMUM_TOKEN_LENGTH = 16
DASHBOARD_PATH = "/_emulator/ui"
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9._~+/=-]+")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ControlTokenRequired(ValueError):
    """A non-loopback listen address was asked for without a control token."""


def checked_token(token: str | None) -> str | None:
    """The token as given, or a ValueError saying what a usable one looks like."""
    if token is None:
        return None
    if len(token) < MINIMUM_TOKEN_LENGTH:
        raise ValueError(f"the control token must be at least {MINIMUM_TOKEN_LENGTH} characters long")
    if not _TOKEN_ALPHABET.fullmatch(token):
        raise ValueError("the control token may hold only letters, digits and . _ ~ + / = -")
    return token


def is_loopback_name(host: str) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1, and IPv4-mapped loopback)."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def listens_on_loopback_only(host: str) -> bool:
    """Whether a listen address is reachable from this machine only. A name counts when all its
    addresses are loopback; "" and 0.0.0.0 (every interface) never do."""
    if not host:
        return False
    if is_loopback_name(host):
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(is_loopback_name(str(address)) for address in addresses)


def _host_name(host_header: str) -> str:
    """The host part of a Host header: `[::1]:8787` -> `::1`, `localhost:8787` -> `localhost`."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else ""
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _cookies(header: str) -> Mapping[str, str]:
    pairs = (part.strip().partition("=") for part in header.split(";"))
    return {name: value for name, _, value in pairs if name}


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def _require_loopback_host(request: Request) -> None:
    if not is_loopback_name(_host_name(request.header("Host"))):
        raise ApiError(
            403,
            "forbidden",
            "the control plane answers only requests addressed to a loopback host "
            "(http://127.0.0.1:PORT or http://localhost:PORT)",
        )


class ControlGuard:
    def __init__(self, token: str | None) -> None:
        self._token = checked_token(token)
        # The browser keeps a value derived from the token, never the token itself.
        self._session = (
            hmac.new(token.encode(), b"mypos-emulator dashboard", hashlib.sha256).hexdigest() if token else None
        )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def admit(self, request: Request) -> Response | None:
        """None when the request may proceed; otherwise the answer to send instead.

        Raises ApiError for a refusal. Answers a redirect that sets the session cookie when a browser
        presents the token once in the dashboard's URL.
        """
        presented_in_url = self._check_identity(request)
        self._check_origin(request)
        self._check_media_type(request)
        if presented_in_url:
            return self._start_session()
        return None

    def _check_identity(self, request: Request) -> bool:
        """True when the token came in the dashboard's URL (and a session cookie should be set)."""
        if self._token is None:
            _require_loopback_host(request)
            return False
        if self._carries_token(request, self._token):
            return False
        if request.method == "GET" and request.path.rstrip("/") == DASHBOARD_PATH:
            in_url = request.query.get("token", "")
            if in_url and _same(in_url, self._token):
                return True
        raise ApiError(
            401,
            "unauthorized",
            "the control plane needs the control token: send Authorization: Bearer <token>, "
            f"or open {DASHBOARD_PATH}?token=<token> once in a browser",
            headers={"WWW-Authenticate": 'Bearer realm="mypos-emulator-control"'},
        )

    def _carries_token(self, request: Request, token: str) -> bool:
        scheme, _, value = request.header("Authorization").partition(" ")
        if scheme.lower() == "bearer" and _same(value.strip(), token):
            return True
        cookie = _cookies(request.header("Cookie")).get(COOKIE_NAME, "")
        return self._session is not None and bool(cookie) and _same(cookie, self._session)

    def _check_origin(self, request: Request) -> None:
        origin = request.header("Origin")
        if not origin:
            return  # not a browser's cross-origin request: browsers send Origin on every one that matters
        allowed = {f"http://{request.header('Host')}", f"https://{request.header('Host')}"}
        if origin not in allowed:
            raise ApiError(403, "forbidden", "requests from another origin are refused by the control plane")

    def _check_media_type(self, request: Request) -> None:
        if request.method not in _WRITES:
            return
        media_type = request.header("Content-Type").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                "control-plane writes must be JSON: send Content-Type: application/json",
            )

    def _start_session(self) -> Response:
        """Trades the token in the URL for an HttpOnly, SameSite=Strict cookie, and drops it from the URL."""
        cookie = f"{COOKIE_NAME}={self._session}; Path=/_emulator; HttpOnly; SameSite=Strict"
        headers = {"Location": DASHBOARD_PATH, "Set-Cookie": cookie, "Cache-Control": "no-store"}
        return Response(303, b"", None, headers)


__all__ = (
    "COOKIE_NAME",
    "DASHBOARD_PATH",
    "TOKEN_ENVIRONMENT_VARIABLE",
    "ControlGuard",
    "ControlTokenRequired",
    "checked_token",
    "is_loopback_name",
    "listens_on_loopback_only",
)
