"""The live account as one deployment sees it: listed once, kept in step with the deployment's own writes.

A `pulumi refresh` of N webhooks and M subscriptions would cost N + M GETs. Instead, the first read lists
webhooks and subscriptions in pages of 100 and later reads are answered from that listing. The view lives
in one deployment's provider process, so it never serves data from an earlier deployment; the provider's
own writes update it, and an object missing from the listing (created since, or deleted) is looked up with
a single GET. After `max_age` seconds the listing is taken again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..client import MyPOSClient, NotFoundError, Subscription, Webhook

MAX_AGE_SECONDS = 300.0


class AccountView:
    def __init__(
        self,
        client: MyPOSClient,
        *,
        max_age: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._webhooks: dict[str, Webhook] = {}
        self._subscriptions: dict[str, Subscription] = {}

    def webhook(self, webhook_id: str) -> Webhook | None:
        """The live webhook, or None when it does not exist (404 or soft-deleted)."""
        self._ensure_loaded()
        with self._lock:
            cached = self._webhooks.get(webhook_id)
        if cached is not None:
            return cached
        try:
            found = self.client.get_webhook(webhook_id)
        except NotFoundError:
            return None
        return None if found.is_deleted else self.remember_webhook(found)

    def subscription(self, subscription_id: str) -> Subscription | None:
        self._ensure_loaded()
        with self._lock:
            cached = self._subscriptions.get(subscription_id)
        if cached is not None:
            return cached
        try:
            found = self.client.get_subscription(subscription_id)
        except NotFoundError:
            return None
        return self.remember_subscription(found)

    def webhooks(self) -> list[Webhook]:
        self._ensure_loaded()
        with self._lock:
            return list(self._webhooks.values())

    def subscriptions(self) -> list[Subscription]:
        self._ensure_loaded()
        with self._lock:
            return list(self._subscriptions.values())

    def remember_webhook(self, webhook: Webhook) -> Webhook:
        with self._lock:
            if self._loaded_at is not None:
                self._webhooks[webhook.id] = webhook
        return webhook

    def remember_subscription(self, subscription: Subscription) -> Subscription:
        with self._lock:
            if self._loaded_at is not None:
                self._subscriptions[subscription.id] = subscription
        return subscription

    def forget_webhook(self, webhook_id: str) -> None:
        with self._lock:
            self._webhooks.pop(webhook_id, None)
            for sub_id in [s.id for s in self._subscriptions.values() if s.webhook_id == webhook_id]:
                del self._subscriptions[sub_id]

    def forget_subscription(self, subscription_id: str) -> None:
        with self._lock:
            self._subscriptions.pop(subscription_id, None)

    def _ensure_loaded(self) -> None:
        # One thread lists while the others wait for it: a shell runs as many calls at once as the engine sends.
        with self._lock:
            loaded_at = self._loaded_at
            if loaded_at is not None and self._monotonic() - loaded_at < self._max_age:
                return
            webhooks = {w.id: w for w in self.client.iter_webhooks() if not w.is_deleted}
            subscriptions = {s.id: s for s in self.client.iter_subscriptions()}
            self._webhooks, self._subscriptions = webhooks, subscriptions
            self._loaded_at = self._monotonic()


def webhooks_with_subscriptions(client: MyPOSClient) -> list[tuple[Webhook, tuple[Subscription, ...]]]:
    """Every webhook of the account with its subscriptions, in creation order: what the lookups return."""
    subscriptions = list(client.iter_subscriptions())
    return [(hook, tuple(s for s in subscriptions if s.webhook_id == hook.id)) for hook in client.iter_webhooks()]
