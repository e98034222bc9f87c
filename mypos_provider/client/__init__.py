"""Typed client of the myPOS Auth and Webhook APIs. No Pulumi imports: usable from any Python code."""

from .api import MyPOSClient
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    MyPOSError,
    NotFoundError,
    TransientError,
    UnreachableError,
    ValidationError,
)
from .models import Event, Notification, Subscription, Webhook
from .transport import RetryPolicy

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "Event",
    "MyPOSClient",
    "MyPOSError",
    "NotFoundError",
    "Notification",
    "RetryPolicy",
    "Subscription",
    "TransientError",
    "UnreachableError",
    "ValidationError",
    "Webhook",
]
