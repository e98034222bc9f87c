"""The `Subscription` resource: one webhook subscribed to one event type, optionally for some terminals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..client import Event, MyPOSError, NotFoundError
from ..client import Subscription as ApiSubscription
from . import detailed_diff
from . import validation as v
from .base import MyPOSProvider
from .diagnostics import warn
from .errors import ProviderError, describe
from .runtime import RUNTIME

INPUTS = ("webhook_id", "event", "terminal_ids", "adopt_id")


class SubscriptionProvider(MyPOSProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: news.get(k) for k in INPUTS}
        failures = v.check_fields(
            inputs,
            {
                "webhook_id": _webhook_id_problem,
                "terminal_ids": v.terminal_ids_problem,
                "adopt_id": v.adopt_id_problem,
            },
        )
        config_problem = RUNTIME.config_error()
        if config_problem is not None:
            failures.append(v.failure(config_problem.field, str(config_problem)))
        event = inputs["event"]
        if not v.is_unknown(event):
            if not isinstance(event, str) or not event:
                failures.append(
                    v.failure("event", 'event is required: give an event name such as "pos.payment.completed"')
                )
            elif config_problem is None and not failures and (not olds or olds.get("event") != event):
                # An event name already validated for this resource needs no request: a no-op preview sends none.
                problem = _event_problem(event)
                if problem:
                    failures.append(v.failure("event", problem))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [f for f in ("webhook_id", "event") if v.is_unknown(news.get(f)) or olds.get(f) != news.get(f)]
        tids_changed = _terminal_set(news.get("terminal_ids")) != _terminal_set(olds.get("terminal_ids"))
        detailed_diff.report(["terminal_ids"] if tids_changed else [], replaced=replaces)
        return DiffResult(changes=bool(replaces) or tids_changed, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            event = _resolve_event(props["event"])
            if props.get("adopt_id"):
                subscription = _adopt(props, event)
            else:
                subscription = RUNTIME.client().create_subscription(
                    props["webhook_id"], event, props.get("terminal_ids")
                )
        except MyPOSError as error:
            raise ProviderError(
                describe(error, f"subscription of webhook {props.get('webhook_id')} to {props.get('event')}")
            ) from None
        RUNTIME.snapshot_if_loaded_remember(subscription)
        return CreateResult(subscription.id, _outputs(subscription, props, event))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            subscription = RUNTIME.snapshot().subscription(id_)
        except MyPOSError as error:
            raise ProviderError(describe(error, f"subscription {id_}")) from None
        if subscription is None:
            warn(
                f"subscription {id_} (webhook {props.get('webhook_id')}, event {props.get('event')}) no longer "
                "exists in myPOS (deleted outside Pulumi); it was removed from the stack's state, and the next "
                "`pulumi up` recreates it"
            )
            return ReadResult("", {})
        event = Event(id=str(props.get("event_id") or ""), name=subscription.event_name)
        if subscription.event_name != props.get("event"):
            event = _resolve_event(subscription.event_name, missing_ok=True) or event
        terminal_ids = _keep_declared_order(subscription.terminal_ids, props.get("terminal_ids"))
        outputs = _outputs(subscription, {**props, "terminal_ids": terminal_ids}, event)
        inputs = {"webhook_id": subscription.webhook_id, "event": subscription.event_name, "terminal_ids": terminal_ids}
        if props.get("adopt_id"):
            inputs["adopt_id"] = props["adopt_id"]
        return ReadResult(id_, outputs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        try:
            subscription = RUNTIME.client().update_subscription(id_, news.get("terminal_ids"))
        except NotFoundError:
            raise ProviderError(
                f"subscription {id_} no longer exists in myPOS (deleted outside Pulumi): run `pulumi refresh` to "
                "drop it from the state, then `pulumi up` to recreate it"
            ) from None
        except MyPOSError as error:
            raise ProviderError(describe(error, f"subscription {id_}")) from None
        RUNTIME.snapshot_if_loaded_remember(subscription)
        event = Event(id=str(olds.get("event_id") or ""), name=str(news.get("event")))
        return UpdateResult(_outputs(subscription, news, event))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            RUNTIME.client().delete_subscription(id_)
        except NotFoundError:
            pass  # already gone, e.g. together with its webhook
        except MyPOSError as error:
            raise ProviderError(describe(error, f"subscription {id_}")) from None
        RUNTIME.snapshot_if_loaded_forget_subscription(id_)


def _webhook_id_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "webhook_id is required: pass the id of a Webhook resource, e.g. webhook_id=hook.id"
    return None


def _event_problem(name: str) -> str | None:
    try:
        catalogue = RUNTIME.client().list_events()
    except MyPOSError as error:
        return str(error)
    if any(e.name == name for e in catalogue):
        return None
    return f"unknown event {name!r}: myPOS offers " + ", ".join(sorted(e.name for e in catalogue))


def _resolve_event(name: str, *, missing_ok: bool = False) -> Event | None:
    event = RUNTIME.client().event_by_name(name)
    if event is None and not missing_ok:
        raise ProviderError(f"unknown event {name!r}: it is no longer in myPOS's event catalogue")
    return event


def _adopt(props: Mapping[str, Any], event: Event) -> ApiSubscription:
    """Bring an existing subscription under management; only its terminal filter can change in place."""
    client = RUNTIME.client()
    adopt_id = props["adopt_id"]
    try:
        subscription = client.get_subscription(adopt_id)
    except NotFoundError:
        raise ProviderError(
            f"adopt_id {adopt_id}: this account has no such subscription; list existing ones with "
            "`python -m mypos_provider list`, or remove adopt_id to create a new subscription"
        ) from None
    for field, live, declared in (
        ("event", subscription.event_name, event.name),
        ("webhook_id", subscription.webhook_id, props["webhook_id"]),
    ):
        if live != declared:
            raise ProviderError(
                f"adopt_id {adopt_id} is a subscription with {field} {live!r}, but {field} is declared as "
                f"{declared!r}: declare {field}={live!r} to adopt it (a subscription's {field} cannot change in place)"
            )
    if _terminal_set(props.get("terminal_ids")) != _terminal_set(list(subscription.terminal_ids or ())):
        subscription = client.update_subscription(adopt_id, props.get("terminal_ids"))
    return subscription


def _outputs(subscription: ApiSubscription, props: Mapping[str, Any], event: Event) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "webhook_id": subscription.webhook_id or props.get("webhook_id"),
        "event": subscription.event_name or event.name,
        "event_id": event.id,
        "terminal_ids": _keep_declared_order(subscription.terminal_ids, props.get("terminal_ids")),
    }
    if props.get("adopt_id"):
        outputs["adopt_id"] = props["adopt_id"]
    return outputs


def _terminal_set(value: Any) -> frozenset[str] | None:
    if v.is_unknown(value):
        return frozenset({"<unknown>"})
    return frozenset(value) if value else None


def _keep_declared_order(live: Sequence[str] | None, declared: Any) -> list[str] | None:
    """Terminal ids are a set: report them in the declared order when they are the same set."""
    if not live:
        return None
    if isinstance(declared, list) and set(declared) == set(live):
        return list(declared)
    return list(live)


class Subscription(Resource, module="mypos", name="Subscription"):
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
