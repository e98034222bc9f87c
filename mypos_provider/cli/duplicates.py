"""Duplicates of a stack's resources, as `drift`, `list --stack` and `recover --delete-duplicates` name them.

The rule is core/reconcile.py's (`find_duplicates`): an object no stack records, with the content of a resource
this stack records, made at or after that resource was first attempted. This module reads the recorded
resources out of a state (`pulumi stack export --show-secrets`: a webhook's secret is part of its identity, so
the state is read with secrets in clear, in memory only) and words the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..client import Subscription, Webhook
from ..core import reconcile
from ..core.values import NOT_BEFORE, SECRET_GENERATED
from .stack import StackResource, pending_creates, resources


def recorded_resources(deployment: Mapping[str, Any]) -> list[reconcile.Recorded]:
    """The stack's webhooks and subscriptions with their identity; adopted ones were never created by it."""
    found = []
    for resource in resources(deployment):
        if resource.kind is None or not resource.id or resource.inputs.get("adopt_id"):
            continue
        key = _key(resource.kind, resource.outputs)
        if key is None:
            continue
        stamp = resource.outputs.get(NOT_BEFORE, resource.inputs.get(NOT_BEFORE))
        found.append(
            reconcile.Recorded(
                resource.name,
                resource.id,
                key,
                not_before=float(stamp) if stamp is not None else None,
                secret_generated=bool(resource.outputs.get(SECRET_GENERATED, resource.inputs.get(SECRET_GENERATED))),
            )
        )
    return found


def _key(kind: str, outputs: Mapping[str, Any]) -> reconcile.Key | None:
    if kind == "webhook":
        if not outputs.get("payload_url") or not outputs.get("secret"):
            return None
        return reconcile.WebhookKey(str(outputs["payload_url"]), str(outputs["secret"]))
    if not outputs.get("webhook_id") or not outputs.get("event"):
        return None
    tids = frozenset(outputs.get("terminal_ids") or ())
    return reconcile.SubscriptionKey(str(outputs["webhook_id"]), str(outputs["event"]), tids)


def duplicates_in(
    deployment: Mapping[str, Any], live: Iterable[Webhook | Subscription], managed: set[str]
) -> list[reconcile.Duplicate]:
    """The duplicates of the stack's resources among `live`, leaving out what its pending creates may have
    made (that is `recover`'s to record, not a duplicate)."""
    objects = list(live)
    pending = pending_keys(pending_creates(deployment))
    candidates = [o for o in objects if not any(reconcile.matches(key, o) for key in pending)]
    return reconcile.find_duplicates(recorded_resources(deployment), candidates, managed=managed)


def pending_keys(pending: list[StackResource]) -> list[reconcile.Key]:
    keys: list[reconcile.Key] = []
    for resource in pending:
        inputs = resource.inputs
        if resource.kind == "webhook":
            keys.append(reconcile.WebhookKey(str(inputs.get("payload_url")), str(inputs.get("secret"))))
        elif resource.kind == "subscription":
            tids = frozenset(inputs.get("terminal_ids") or ())
            keys.append(reconcile.SubscriptionKey(str(inputs.get("webhook_id")), str(inputs.get("event")), tids))
    return keys


def describe(duplicate: reconcile.Duplicate) -> str:
    """One line: what the object is, whose duplicate, and why it is taken to be one."""
    obj = duplicate.obj
    created = obj.created_on.strftime("%Y-%m-%d %H:%M:%S UTC") if obj.created_on else "at an unknown time"
    if duplicate.via is not None:
        return f"subscription {obj.id} ({_event(obj)}) of the duplicate webhook {duplicate.via.id}: removed with it"
    if isinstance(obj, Webhook):
        secret = "generated" if duplicate.of.secret_generated else "declared"
        why = f"same URL and {secret} secret as `{duplicate.of.name}`"
    else:
        why = f"same webhook, event and terminal filter as `{duplicate.of.name}`"
    caution = " (a declared secret: check no other project uses it)" if duplicate.declared_secret else ""
    return (
        f"{duplicate.obj.__class__.__name__.lower()} {obj.id}: duplicate of `{duplicate.of.name}` "
        f"({duplicate.of.kind} {duplicate.of.id}): {why}, created {created}, after `{duplicate.of.name}` was "
        f"first attempted{caution}"
    )


def _event(obj: Webhook | Subscription) -> str:
    return obj.event_name if isinstance(obj, Subscription) else obj.payload_url
