"""myPOS webhooks and event subscriptions as Pulumi resources.

    from mypos_provider import Webhook, Subscription, get_events, get_webhooks

The names are imported lazily, so `mypos_provider.signature`, the client and the emulator can be used
without importing Pulumi.
"""

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ("Subscription", "Webhook", "get_events", "get_webhooks")

if TYPE_CHECKING:
    from .lookups import get_events, get_webhooks
    from .resources import Subscription, Webhook

_HOMES = MappingProxyType(
    {"Subscription": "resources", "Webhook": "resources", "get_events": "lookups", "get_webhooks": "lookups"}
)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'mypos_provider' has no attribute {name!r}")
