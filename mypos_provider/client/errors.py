"""Exceptions raised by the myPOS API client.

Every message is written for the person running `pulumi up`: it names what failed and what to do, and it
never contains a webhook secret, a client secret or a token (see `redact`).
"""

from __future__ import annotations

from collections.abc import Iterable


class MyPOSError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MyPOSError):
    """Configuration is missing or invalid; raised before any request is sent."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ApiError(MyPOSError):
    """The API answered with an error status."""

    def __init__(
        self,
        operation: str,
        status: int,
        message: str,
        *,
        error_code: str | None = None,
        field: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.api_message = message
        self.error_code = error_code
        self.field = field
        detail = f" ({error_code})" if error_code else ""
        super().__init__(f"{operation} failed: HTTP {status}{detail}: {message}")


class NotFoundError(ApiError):
    """The object does not exist, was deleted, or belongs to another merchant account (HTTP 404)."""


class ValidationError(ApiError):
    """The API rejected a field of the request (HTTP 400/422)."""


class AuthenticationError(ApiError):
    """The Auth API rejected the client credentials, or a fresh token was refused."""


class TransientError(MyPOSError):
    """A request failed after the retry policy gave up (rate limit, 5xx, timeouts, dropped connections)."""

    def __init__(self, operation: str, attempts: int, last_problem: str, *, status: int | None = None) -> None:
        self.operation = operation
        self.attempts = attempts
        self.status = status
        self.last_problem = last_problem
        super().__init__(
            f"{operation} failed after {attempts} attempt(s); last problem: {last_problem}. "
            "myPOS may be rate limiting or unavailable: wait and run `pulumi up` again "
            "(it resumes where it stopped, without duplicates), or raise mypos:maxRetries / mypos:timeout."
        )


class UnreachableError(MyPOSError):
    """No connection could be made to the configured host."""


REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Remove every known secret value from text that may reach logs or the CLI."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text
