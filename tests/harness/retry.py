"""A retry policy for tests: the client's real loop, with waits short enough for the fast tier."""

from __future__ import annotations

from mypos_provider.client import RetryPolicy

FAST_RETRY = RetryPolicy(
    max_retries=3,
    timeout=1.0,
    connect_timeout=1.0,
    deadline=20,
    backoff_factor=0.01,
    backoff_max=0.05,
    backoff_jitter=0.0,
    retry_after_max=1,
)
