"""myPOS webhooks and event subscriptions as Pulumi resources.

    from mypos_provider import Webhook, Subscription

The resources are imported lazily, so `mypos_provider.signature`, the client and the emulator can be used
without importing Pulumi.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Subscription", "Webhook"]

if TYPE_CHECKING:
    from .resources import Subscription, Webhook


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import resources

        return getattr(resources, name)
    raise AttributeError(f"module 'mypos_provider' has no attribute {name!r}")
