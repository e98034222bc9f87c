"""One client per credentials and endpoints per process, so a deployment shares one token and one pool."""

from __future__ import annotations

import hashlib
import threading
from typing import Protocol

from .api import MyPOSClient
from .transport import RetryPolicy


class ClientSettings(Protocol):
    client_id: str
    client_secret: str
    auth_url: str
    api_url: str
    policy: RetryPolicy


_clients: dict[tuple[object, ...], MyPOSClient] = {}
_lock = threading.Lock()


def shared_client(settings: ClientSettings) -> MyPOSClient:
    key = (
        settings.api_url,
        settings.auth_url,
        settings.client_id,
        hashlib.sha256(settings.client_secret.encode()).hexdigest(),
        settings.policy,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = MyPOSClient(
                api_url=settings.api_url,
                auth_url=settings.auth_url,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                policy=settings.policy,
            )
        return client
