"""OAuth 2.0 client credentials for the myPOS Auth API.

One token per set of credentials per process: every client, provider instance and thread asks the same
`TokenSource`, which renews the token shortly before it expires and once more when the API answers 401.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field

import requests

from .errors import ApiError, AuthenticationError, TransientError, UnreachableError, redact
from .transport import RetryPolicy, build_session

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
SCOPE = "webhooks"


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic()


class TokenSource:
    """Fetches, caches and renews the access token of one client id."""

    def __init__(self, auth_url: str, client_id: str, client_secret: str, policy: RetryPolicy) -> None:
        self.token_url = auth_url.rstrip("/") + TOKEN_PATH
        self._client_id = client_id
        self._client_secret = client_secret
        self._policy = policy
        # A token request has no side effect worth protecting, so it may be retried like a GET.
        self._session = build_session(policy, retry_posts=True)
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
        self.requests_sent += 1
        try:
            response = self._session.post(
                self.token_url,
                auth=(self._client_id, self._client_secret),
                data={"grant_type": "client_credentials", "scope": SCOPE},
                timeout=(self._policy.connect_timeout, self._policy.timeout),
                allow_redirects=False,
                verify=True,
            )
        except requests.ConnectionError as exc:
            raise UnreachableError(
                f"cannot reach the myPOS Auth API at {self.token_url} ({_reason(exc)}): check mypos:authUrl "
                "(or MYPOS_AUTH_URL, or mypos:environment) and the network"
            ) from None
        except requests.Timeout:
            raise TransientError("get an access token", self._policy.max_attempts, "timed out") from None
        return self._parse(response)

    def _parse(self, response: requests.Response) -> _Token:
        if response.status_code in (400, 401) and _error_code(response) == "invalid_client":
            raise AuthenticationError(
                "get an access token",
                response.status_code,
                "myPOS rejected the client credentials: check mypos:clientId and mypos:clientSecret "
                "(or MYPOS_CLIENT_ID and MYPOS_CLIENT_SECRET), and that they belong to this environment",
                error_code="invalid_client",
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(
                "get an access token",
                self._policy.max_attempts,
                f"HTTP {response.status_code}",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise ApiError(
                "get an access token", response.status_code, self._safe_text(response), error_code=_error_code(response)
            )
        try:
            body = response.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise ApiError(
                "get an access token", response.status_code, "the Auth API answered without an access_token"
            ) from None
        # Renew a little early so a token never expires between our check and the request.
        margin = min(60.0, lifetime * 0.1)
        log.debug("obtained an access token valid for %ss", lifetime)
        return _Token(value=value, expires_at=time.monotonic() + lifetime - margin)

    def _safe_text(self, response: requests.Response) -> str:
        return redact(response.text[:300], [self._client_secret])


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "timed out",
        "No route to host",
        "Temporary failure in name resolution",
        "certificate verify failed",
    ):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


_sources: dict[tuple[str, str, str], TokenSource] = {}
_sources_lock = threading.Lock()


def shared_token_source(auth_url: str, client_id: str, client_secret: str, policy: RetryPolicy) -> TokenSource:
    """The process-wide token source of these credentials (the secret is keyed by its hash only)."""
    key = (auth_url.rstrip("/"), client_id, hashlib.sha256(client_secret.encode()).hexdigest())
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = TokenSource(auth_url, client_id, client_secret, policy)
        return source
