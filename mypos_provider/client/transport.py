"""HTTP sessions and the retry budget: what a request may cost, and where its bytes may go.

A session trusts nothing from the process environment (`trust_env = False`): no netrc credentials in place
of the bearer token, no `*_PROXY` relaying the Basic header, no `REQUESTS_CA_BUNDLE` swapping the trust
store. A proxy and extra CA certificates come only from `TransportOptions`, which the settings fill from
documented keys (SECURITY.md, "What the environment can change"). Sessions never retry by themselves:
`policy.RequestPolicy` decides every resend.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "mypos-pulumi/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request tries. Defaults are documented in the README ("Reliability")."""

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


@dataclass(frozen=True)
class TransportOptions:
    """Where requests may go besides straight to the endpoints, and whom TLS trusts besides the default CAs."""

    proxy: str | None = None  # e.g. http://proxy.internal:3128, used for both endpoints
    ca_bundle: str | None = None  # a PEM file that replaces the default trust store (e.g. a corporate CA)


def build_session(options: TransportOptions = TransportOptions(), *, pool_size: int = 8) -> requests.Session:
    """One pooled session, keeping up to `pool_size` connections: as many as requests are sent at once."""
    session = requests.Session()
    session.trust_env = False
    session.verify = options.ca_bundle or True
    session.proxies = {"http": options.proxy, "https": options.proxy} if options.proxy else {}
    adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = USER_AGENT
    return session


def is_loopback(hostname: str) -> bool:
    """A host on this machine: the one place plain http may be used (the emulator, a local receiver)."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False
