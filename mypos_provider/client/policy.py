"""The one place that decides whether, when and how a request is sent again.

Three kinds of call share one loop; they differ only in what may be sent twice:

* IDEMPOTENT (read, update, delete): any transient failure is retried as it is.
* TOKEN (`POST /oauth/token`): the same; asking for a token twice has no effect worth protecting.
* CREATE (`POST /webhooks`, `POST /subscriptions`): a failure that may have been applied (5xx, a dropped
  connection, a timeout) is never resent blindly. The caller's `look_up` first searches for the object
  the attempt would have made, and the create returns that object when it is found. After a timeout the
  server may still be finishing the write, so the look-up is repeated over the next two read timeouts
  (½, 1 and 2 timeouts after giving up) before the create is sent again. myPOS has no idempotency key
  (docs/mypos-api.md §3), so this is the only protection against duplicates.

urllib3's `Retry` is the budget and the clock: it counts attempts per cause, computes exponential backoff
with jitter, honours `Retry-After` (capped), and `BoundedRetry` adds a deadline after the first failure.
A refused token (401) is renewed once and the request resent at once, outside the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from .errors import Culprit, TransientError, UnreachableError
from .transport import RetryPolicy

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# After a create timed out, look for its object this many read timeouts later (cumulative ½, 1, 2).
LATE_COMMIT_LOOKS = (0.5, 0.5, 1.0)


class CallKind(Enum):
    IDEMPOTENT = "idempotent"
    TOKEN = "token"
    CREATE = "create"


class BoundedRetry(Retry):
    """urllib3's Retry with a deadline: no retry starts more than `deadline` seconds after the first failure."""

    def __init__(self, *args: Any, deadline: float | None = None, started: float | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.deadline = deadline
        self.started = started

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("deadline", self.deadline)
        # The clock starts at the first failure (the first `increment`, which calls `new`).
        kw.setdefault("started", time.monotonic() if self.started is None else self.started)
        return super().new(**kw)

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or self.past_deadline()

    def past_deadline(self) -> bool:
        if self.deadline is None or self.started is None:
            return False
        return time.monotonic() - self.started > self.deadline

    def remaining(self) -> float:
        if self.deadline is None or self.started is None:
            return float("inf")
        return max(0.0, self.deadline - (time.monotonic() - self.started))


@dataclass(frozen=True)
class Failure:
    """One attempt that did not produce a usable answer."""

    problem: str  # for the final error message
    error: Exception | None  # urllib3's view of it, for the budget's accounting
    response: requests.Response | None = None
    maybe_applied: bool = False  # the server may have acted on the request
    timed_out: bool = False
    never_connected: bool = False


class RequestPolicy:
    """Runs one request under the retry policy; thread-safe (it holds no per-request state)."""

    def __init__(self, policy: RetryPolicy, *, endpoint: Culprit, service: str, host: str) -> None:
        self.policy = policy
        self._endpoint = endpoint  # whom to blame when no connection could be made
        self._where = f"the myPOS {service} at {host}"

    def call(
        self,
        kind: CallKind,
        operation: str,
        send: Callable[[], requests.Response],
        *,
        renew_token: Callable[[requests.Response], None] | None = None,
    ) -> requests.Response:
        """An idempotent request or a token request; returns the final response (success or a non-retryable error)."""
        outcome = self._run(kind, operation, send, renew_token=renew_token, look_up=None)
        assert isinstance(outcome, requests.Response)
        return outcome

    def create(
        self,
        operation: str,
        send: Callable[[], requests.Response],
        look_up: Callable[[], T | None],
        *,
        renew_token: Callable[[requests.Response], None] | None = None,
    ) -> requests.Response | T:
        """A create: the final response, or the object an ambiguous attempt made, as found by `look_up`."""
        return self._run(CallKind.CREATE, operation, send, renew_token=renew_token, look_up=look_up)

    def _run(
        self,
        kind: CallKind,
        operation: str,
        send: Callable[[], requests.Response],
        *,
        renew_token: Callable[[requests.Response], None] | None,
        look_up: Callable[[], T | None] | None,
    ) -> requests.Response | T:
        budget = self._budget()
        renewed = False
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(send)
            if isinstance(outcome, requests.Response):
                if outcome.status_code == 401 and renew_token is not None and not renewed:
                    renewed, attempts = True, attempts - 1  # a stale token costs no attempt
                    renew_token(outcome)
                    continue
                return outcome
            if kind is CallKind.CREATE and outcome.maybe_applied and look_up is not None:
                found = self._look_for_commit(look_up, outcome, budget)
                if found is not None:
                    return found
            budget = self._spend(budget, outcome, operation, attempts)

    def _attempt(self, send: Callable[[], requests.Response]) -> requests.Response | Failure:
        try:
            response = send()
        except requests.RequestException as exc:
            return self._failure_of(exc)
        if response.status_code not in RETRYABLE_STATUSES:
            return response
        # 429 is refused before any work is done; a 5xx may come after the write committed.
        return Failure(f"HTTP {response.status_code}", None, response, maybe_applied=response.status_code != 429)

    def _failure_of(self, exc: requests.RequestException) -> Failure:
        if isinstance(exc, requests.exceptions.SSLError):
            raise UnreachableError(
                f"cannot reach {self._where}: TLS failed ({tls_reason(exc)})", culprit=self._endpoint
            ) from None
        if isinstance(exc, requests.exceptions.ProxyError):
            raise UnreachableError(
                f"cannot reach {self._where}: the proxy refused or dropped the connection ({reason(exc)})",
                culprit=self._endpoint,
            ) from None
        if isinstance(exc, requests.ConnectTimeout) or (
            isinstance(exc, requests.ConnectionError) and never_connected(exc)
        ):
            text = f"cannot reach {self._where} ({reason(exc)})"
            return Failure(text, ConnectTimeoutError(reason(exc)), never_connected=True)
        if isinstance(exc, requests.ReadTimeout):
            text = f"no answer within {self.policy.timeout:g}s"
            return Failure(text, ProtocolError(text), maybe_applied=True, timed_out=True)
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            text = "the connection dropped before a complete answer came"
            return Failure(text, ProtocolError(text), maybe_applied=True)
        # Anything else (a malformed URL or header, an undecodable answer) will not get better by retrying.
        raise UnreachableError(
            f"the request to {self._where} failed ({type(exc).__name__})", culprit=self._endpoint
        ) from None

    def _look_for_commit(self, look_up: Callable[[], T | None], failure: Failure, budget: BoundedRetry) -> T | None:
        waits = LATE_COMMIT_LOOKS if failure.timed_out else (0.0,)
        for share in waits:
            time.sleep(min(share * self.policy.timeout, budget.remaining()))
            found = look_up()
            if found is not None:
                return found
        return None

    def _spend(self, budget: BoundedRetry, failure: Failure, operation: str, attempts: int) -> BoundedRetry:
        """Count the failure and wait before the next attempt; raise when the budget is spent."""
        raw = failure.response.raw if failure.response is not None else None
        try:
            budget = budget.increment(method="POST", url=operation, response=raw, error=failure.error)
        except MaxRetryError:
            raise self._exhausted(operation, attempts, failure) from None
        budget.sleep(raw)
        if budget.past_deadline():
            raise self._exhausted(operation, attempts, failure)
        return budget

    def _exhausted(self, operation: str, attempts: int, failure: Failure) -> Exception:
        if failure.never_connected:
            return UnreachableError(
                f"{operation} failed: {failure.problem} after {attempts} attempt(s)", culprit=self._endpoint
            )
        status = failure.response.status_code if failure.response is not None else None
        problem = failure.problem + (" (the request may have been applied)" if failure.maybe_applied else "")
        return TransientError(operation, attempts, problem, status=status)

    def _budget(self) -> BoundedRetry:
        policy = self.policy
        return BoundedRetry(
            total=policy.max_retries,
            connect=policy.max_retries,
            read=policy.max_retries,
            status=policy.max_retries,
            other=0,
            redirect=0,
            allowed_methods=None,  # every method: which failures may be resent is decided above
            backoff_factor=policy.backoff_factor,
            backoff_max=policy.backoff_max,
            backoff_jitter=policy.backoff_jitter,
            retry_after_max=policy.retry_after_max,
            respect_retry_after_header=True,
            deadline=policy.deadline,
        )


def never_connected(exc: requests.ConnectionError) -> bool:
    """True when the TCP connection was never made (refused, unresolvable, connect timeout)."""
    cause = exc.args[0] if exc.args else None
    underlying = getattr(cause, "reason", cause)
    return isinstance(underlying, ConnectTimeoutError)  # NewConnectionError is a subclass


_REASONS = (
    "Connection refused",
    "Name or service not known",
    "timed out",
    "No route to host",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


def reason(exc: Exception) -> str:
    text = str(exc)
    return next((marker.lower() for marker in _REASONS if marker in text), type(exc).__name__)


def tls_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("certificate verify failed", "hostname mismatch", "wrong version number", "handshake failure"):
        if marker in text:
            return marker
    return "TLS handshake failed"
