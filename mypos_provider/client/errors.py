"""Exceptions raised by the myPOS API client.

Messages say what failed and why, in the API's own terms; they never name a setting, a tool or a command,
because the client does not know how it was configured. Each error carries a `culprit`: what a caller
should tell its user to check (the credentials, one of the two endpoints, the retry budget). The layers
above turn that into advice: `settings.advice()` names the setting and where its value came from, the
Pulumi shell adds what to run next.

No message contains a secret: every text taken from an answer goes through `SecretRedactor` first.
"""

from __future__ import annotations

from enum import Enum


class Culprit(Enum):
    """What a user should look at when a request fails."""

    CREDENTIALS = "credentials"  # the Auth API refused the client id / secret
    AUTH_ENDPOINT = "auth endpoint"  # the Auth API could not be reached (URL, network, TLS)
    API_ENDPOINT = "api endpoint"  # the Webhook API could not be reached (URL, network, TLS)
    RETRY_BUDGET = "retry budget"  # the service stayed unavailable for every attempt the policy allowed
    REQUEST = "request"  # the API rejected a field of the request
    OBJECT = "object"  # the object does not exist (any more)
    SERVICE = "service"  # the API answered something the client cannot use


class MyPOSError(Exception):
    """Base class of every error this package raises on purpose."""

    culprit: Culprit = Culprit.SERVICE


class ConfigError(MyPOSError):
    """Configuration is missing or invalid; raised before any request is sent. `field` names the setting."""

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

    culprit = Culprit.OBJECT


class ValidationError(ApiError):
    """The API rejected a field of the request (HTTP 400/422)."""

    culprit = Culprit.REQUEST


class AuthenticationError(ApiError):
    """The Auth API rejected the client credentials, or a fresh token was refused."""

    culprit = Culprit.CREDENTIALS


class TransientError(MyPOSError):
    """A request failed after the retry policy gave up (rate limit, 5xx, timeouts, dropped connections)."""

    culprit = Culprit.RETRY_BUDGET

    def __init__(self, operation: str, attempts: int, last_problem: str, *, status: int | None = None) -> None:
        self.operation = operation
        self.attempts = attempts
        self.status = status
        self.last_problem = last_problem
        super().__init__(
            f"{operation} failed after {attempts} attempt(s); last problem: {last_problem}. "
            "myPOS may be rate limiting or unavailable"
        )


class UnreachableError(MyPOSError):
    """No usable connection could be made to an endpoint (refused, unresolvable, TLS failure)."""

    def __init__(self, message: str, *, culprit: Culprit) -> None:
        super().__init__(message)
        self.culprit = culprit
