"""The `Subscription` resource: a thin shell over `core.subscriptions` (the rules live there)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi.dynamic import Resource

from .. import tokens
from ..core.subscriptions import SubscriptionRules
from .shell import DynamicProvider


class SubscriptionProvider(DynamicProvider):
    """Pickled by reference into every Subscription's state: its module path and name are a long-term contract."""

    rules = SubscriptionRules


class Subscription(Resource, module=tokens.MODULE, name=tokens.SUBSCRIPTION):
    """A subscription of a webhook to one myPOS event.

    :param webhook_id: the webhook to deliver to (e.g. ``hook.id``); changing it replaces the subscription.
    :param event: the event name, one of myPOS's catalogue (``GET /v1/events``), e.g. ``pos.payment.completed``;
        changing it replaces the subscription.
    :param terminal_ids: deliver only events of these terminals (compared as a set); omit for all terminals.
    :param adopt_id: the id of an existing subscription to bring under management instead of creating one.
    """

    id: pulumi.Output[str]
    webhook_id: pulumi.Output[str]
    event: pulumi.Output[str]
    event_id: pulumi.Output[str]
    terminal_ids: pulumi.Output[list[str] | None]
    adopt_id: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        webhook_id: pulumi.Input[str],
        event: pulumi.Input[str],
        terminal_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "webhook_id": webhook_id,
            "event": event,
            "terminal_ids": terminal_ids,
            "adopt_id": adopt_id,
            "event_id": None,
        }
        super().__init__(SubscriptionProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Subscription:
        """Read an existing subscription into the program without managing it: never changed, never deleted."""
        looked_up = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return Subscription(resource_name, webhook_id=None, event=None, opts=looked_up)  # type: ignore[arg-type]
