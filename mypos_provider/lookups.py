"""Read-only lookups for Pulumi programs: the live event catalogue and the account's webhooks.

    from mypos_provider import get_events, get_webhooks

Both run in the program itself, when they are called: during `pulumi preview` as well as `pulumi up`
(they change nothing). They read the same settings chain as the provider (the stack's `mypos:*` config,
then `MYPOS_*` variables, then the project's .env) and send one token request plus one listing each.
A webhook's secret comes back as a Pulumi secret, so exporting it never puts it in the state in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pulumi

from .client import MyPOSClient, MyPOSError, Subscription
from .core.account import webhooks_with_subscriptions
from .settings import NAMESPACE, PROVIDER_KEYS, Settings, load_settings


@dataclass(frozen=True)
class LiveWebhook:
    """A webhook of the account as `get_webhooks()` returns it, with its subscriptions."""

    id: str
    payload_url: str
    is_active: bool
    created_on: datetime | None
    secret: pulumi.Output[str]
    subscriptions: tuple[Subscription, ...]


def get_events() -> list[str]:
    """The names of the live event catalogue (`GET /v1/events`), e.g. ["pos.payment.completed", ...]."""
    settings, client = _connect()
    try:
        return [event.name for event in client.list_events()]
    except MyPOSError as error:
        raise pulumi.RunError(f"mypos get_events(): {settings.explain(error)}") from None


def get_webhooks() -> list[LiveWebhook]:
    """Every webhook of the account with its subscriptions, in creation order."""
    settings, client = _connect()
    try:
        return [
            LiveWebhook(
                id=hook.id,
                payload_url=hook.payload_url,
                is_active=hook.is_active,
                created_on=hook.created_on,
                secret=pulumi.Output.secret(hook.secret),
                subscriptions=subscriptions,
            )
            for hook, subscriptions in webhooks_with_subscriptions(client)
        ]
    except MyPOSError as error:
        raise pulumi.RunError(f"mypos get_webhooks(): {settings.explain(error)}") from None


def _connect() -> tuple[Settings, MyPOSClient]:
    config = pulumi.Config(NAMESPACE)
    stack_config = {key.config_key: value for key in PROVIDER_KEYS if (value := config.get(key.name)) is not None}
    try:
        settings = load_settings(stack_config)
    except MyPOSError as error:
        raise pulumi.RunError(f"mypos: {error}") from None
    return settings, settings.connect()
