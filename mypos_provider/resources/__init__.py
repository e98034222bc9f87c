"""Pulumi resources (dynamic providers) for myPOS webhooks and subscriptions."""

from .subscription import Subscription, SubscriptionProvider
from .webhook import Webhook, WebhookProvider

__all__ = ["Subscription", "SubscriptionProvider", "Webhook", "WebhookProvider"]
