"""The `Subscription` resource: a thin shell over `core.subscriptions` (the rules live there)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import tokens
from .base import MyPOSProvider, from_pulumi
from .process import Skipped


def _subject(props: dict[str, Any]) -> str:
    return f"subscription of webhook {props.get('webhook_id')} to {props.get('event')}"


class SubscriptionProvider(MyPOSProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        with self.translating(_subject(news)):
            return self.check_result(self.process().subscriptions().check(from_pulumi(olds), from_pulumi(news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = None
        with self.translating(f"subscription {_id}"), suppress(Skipped):
            rules = self.process().subscriptions(verified=False)
            changes = rules.diff(_id, from_pulumi(olds), from_pulumi(news))
        return self.diff_result(changes)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.translating(_subject(props)):
            created = self.process().subscriptions().create(from_pulumi(props))
        return CreateResult(created.id, created.outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if (kept := self.unread(id_, props)) is not None:
            return kept
        with self.translating(f"subscription {id_}"):
            # A program's Subscription.get() sends its own (empty) inputs; a refresh sends the recorded outputs.
            lookup = not props.get("event")
            rules = self.process().subscriptions()
            return self.read_result(rules.read(id_, from_pulumi(props), lookup=lookup))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        with self.translating(f"subscription {_id}"):
            outputs = self.process().subscriptions().update(_id, from_pulumi(_olds), from_pulumi(_news))
        return UpdateResult(outputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        with self.translating(f"subscription {_id}"):
            self.process().subscriptions().delete(_id, from_pulumi(_props))


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
