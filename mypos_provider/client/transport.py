"""HTTP transport: one pooled `requests` session per client, with a bounded retry policy.

Retries are urllib3's `Retry`, with two adjustments it cannot express by configuration:

* A POST is re-sent by urllib3 only when the server says it did nothing: 429 (rate limited) or a connection
  that never opened. Any other failure of a POST is ambiguous (the object may exist), so it is raised to the
  client, which looks for the object before trying again (`MyPOSClient.create_webhook`).
* Every request has a deadline: no retry starts more than `deadline` seconds after its first failure,
  whatever the attempt count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request tries. Defaults are documented in the README ("Retry and timeout policy")."""

    max_retries: int = 4  # so at most 5 attempts
    timeout: float = 10.0  # read timeout of one attempt, seconds
    connect_timeout: float = 5.0
    deadline: float = 60.0  # no retry starts later than this after a request's first failure
    backoff_factor: float = 0.25  # 0.25, 0.5, 1, 2 ... seconds
    backoff_max: float = 8.0
    backoff_jitter: float = 0.25
    retry_after_max: int = 30  # a longer Retry-After is waited only up to this

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1


class BoundedRetry(Retry):
    """urllib3 Retry with a per-request deadline and, unless `retry_posts`, a POST rule safe against duplicates."""

    def __init__(
        self,
        *args: Any,
        deadline: float | None = None,
        started: float | None = None,
        retry_posts: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.deadline = deadline
        self.retry_posts = retry_posts
        # The adapter shares one template instance between requests, so the clock starts at the first
        # failure of a request (the first `increment`, which calls `new`), never at session creation.
        self.started = started

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("deadline", self.deadline)
        kw.setdefault("retry_posts", self.retry_posts)
        kw.setdefault("started", time.monotonic() if self.started is None else self.started)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self._past_deadline():
            return False
        if method.upper() == "POST" and not self.retry_posts:
            # 429 means the request was refused before any work was done, so sending it again is safe.
            return status_code == 429 and bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or self._past_deadline()

    def _past_deadline(self) -> bool:
        if self.deadline is None or self.started is None:
            return False
        return time.monotonic() - self.started > self.deadline


def build_retry(policy: RetryPolicy, *, retry_posts: bool = False) -> BoundedRetry:
    methods = IDEMPOTENT_METHODS | {"POST"} if retry_posts else IDEMPOTENT_METHODS
    return BoundedRetry(
        total=policy.max_retries,
        connect=policy.max_retries,
        read=policy.max_retries,
        status=policy.max_retries,
        other=0,
        redirect=0,
        allowed_methods=methods,
        status_forcelist=RETRYABLE_STATUSES,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        retry_after_max=policy.retry_after_max,
        respect_retry_after_header=True,
        # The client turns the final error response into an ApiError itself.
        raise_on_status=False,
        raise_on_redirect=False,
        deadline=policy.deadline,
        retry_posts=retry_posts,
    )


def build_session(policy: RetryPolicy | None, *, retry_posts: bool = False, pool_size: int = 8) -> requests.Session:
    """A session whose adapters retry per `policy` (None: never retry; the caller runs its own loop).

    The pool covers the dynamic-provider host's 4 concurrent calls with room to spare.
    """
    retries: Retry | int = 0 if policy is None else build_retry(policy, retry_posts=retry_posts)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retries, pool_connections=2, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "mypos-pulumi/0.1"
    return session
