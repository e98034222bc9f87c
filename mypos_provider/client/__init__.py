"""Typed client of the myPOS Auth and Webhook APIs. No Pulumi imports: usable from any Python code.

client = MyPOSClient.connect(api_url=..., auth_url=..., credentials=Credentials(client_id, client_secret))
"""

from .api import Made, MyPOSClient
from .auth import Credentials
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    Culprit,
    MyPOSError,
    NotFoundError,
    TransientError,
    UnreachableError,
    ValidationError,
)
from .models import Event, Notification, Subscription, Webhook
from .transport import RetryPolicy, TransportOptions, is_loopback

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "Credentials",
    "Culprit",
    "Event",
    "Made",
    "MyPOSClient",
    "MyPOSError",
    "NotFoundError",
    "Notification",
    "RetryPolicy",
    "Subscription",
    "TransientError",
    "TransportOptions",
    "UnreachableError",
    "ValidationError",
    "Webhook",
    "is_loopback",
]
