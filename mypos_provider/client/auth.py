"""OAuth 2.0 client credentials for the myPOS Auth API (docs/mypos-api.md §2).

A `TokenSource` belongs to whoever builds it (one per client, normally one per provider process): it
fetches the token on first use, renews it shortly before it expires, and forgets it when the API refuses it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from .errors import ApiError, AuthenticationError
from .policy import CallKind, RequestPolicy
from .redaction import SecretRedactor, basic_credentials

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
SCOPE = "webhooks"
# RFC 6750's b64token: anything else (a CR or LF above all) could split the Authorization header.
TOKEN_ALPHABET = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic()


class TokenSource:
    """Fetches, caches and renews the access token of one set of credentials. Thread-safe."""

    def __init__(
        self,
        auth_url: str,
        credentials: Credentials,
        *,
        session: requests.Session,
        policy: RequestPolicy,
        redactor: SecretRedactor,
        on_answer: Callable[[requests.Response], None] | None = None,
    ) -> None:
        """`on_answer` sees every answer of the Auth API (the client learns the server's clock from it)."""
        self.token_url = auth_url.rstrip("/") + TOKEN_PATH
        self._credentials = credentials
        self._session = session
        self._policy = policy
        self._redactor = redactor
        self._on_answer = on_answer
        redactor.add(credentials.client_secret, basic_credentials(credentials.client_id, credentials.client_secret))
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.requests_sent = 0

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token.expires_at:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, rejected: str) -> None:
        """Forget the token the API just refused, unless another thread already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == rejected:
                self._token = None

    def _fetch(self) -> _Token:
        response = self._policy.call(CallKind.TOKEN, "get an access token", self._post)
        return self._parse(response)

    def _post(self) -> requests.Response:
        self.requests_sent += 1
        response = self._session.post(
            self.token_url,
            auth=(self._credentials.client_id, self._credentials.client_secret),
            data={"grant_type": "client_credentials", "scope": SCOPE},
            timeout=(self._policy.policy.connect_timeout, self._policy.policy.timeout),
            allow_redirects=False,  # the client secret never follows a redirect to another host
        )
        if self._on_answer is not None:
            self._on_answer(response)
        return response

    def _parse(self, response: requests.Response) -> _Token:
        code = _error_code(response)
        if response.status_code in (400, 401) and code == "invalid_client":
            raise AuthenticationError(
                "get an access token",
                response.status_code,
                "the Auth API rejected the client credentials",
                error_code="invalid_client",
            )
        if response.status_code != 200:
            raise ApiError("get an access token", response.status_code, self._safe_text(response), error_code=code)
        try:
            body = response.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise ApiError("get an access token", 200, "the Auth API answered without an access_token") from None
        if not TOKEN_ALPHABET.match(value):
            raise ApiError(
                "get an access token", 200, "the Auth API issued a token with characters outside the token alphabet"
            )
        self._redactor.add(value)
        # Renew a little early so a token never expires between our check and the request.
        margin = min(60.0, lifetime * 0.1)
        log.debug("obtained an access token valid for %ss", lifetime)
        return _Token(value=value, expires_at=time.monotonic() + lifetime - margin)

    def _safe_text(self, response: requests.Response) -> str:
        return self._redactor.redact(response.text[:300].strip())


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else None
