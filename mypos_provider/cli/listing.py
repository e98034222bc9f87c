"""`list`: what a myPOS account holds, which stack resource manages each object, and code to adopt the rest.

Two routes take an existing object over in place, never recreating it or rotating its secret: for the
native provider's resources (`mypos:index:*`), `pulumi import` (printed as ready-to-paste commands); for the
dynamic resources, which `pulumi import` cannot bring into a stack (the Python dynamic-provider host fails
with `KeyError: '__provider'` before our code runs, pulumi/pulumi#16175; docs/pulumi-dynamic-providers.md
§6), a declaration with `adopt_id`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..client import Subscription, Webhook
from ..core import reconcile

MASK = "********"
IMPORT_NOTE = (
    "# `pulumi import` does not work for the dynamic resources (mypos_provider.Webhook, Subscription): the\n"
    "# dynamic-provider host fails with KeyError: '__provider' (pulumi/pulumi#16175). Adopt them instead:"
)


@dataclass
class AccountListing:
    """The account's objects, and (with a stack) the resource name of each object the stack manages."""

    webhooks: list[Webhook]
    subscriptions: list[Subscription]
    managed: Mapping[str, str] = field(default_factory=dict)  # object id -> resource name in the stack
    stack: str | None = None
    # object id -> the stack resource it duplicates (core/reconcile.py, find_duplicates): never to adopt
    stack_duplicates: Mapping[str, str] = field(default_factory=dict)

    def subscriptions_of(self, hook: Webhook) -> list[Subscription]:
        return [s for s in self.subscriptions if s.webhook_id == hook.id]

    def duplicates(self) -> dict[str, str]:
        """Subscriptions that repeat an earlier one (same webhook, event, filter): id -> the first one's id."""
        first: dict[reconcile.SubscriptionKey, str] = {}
        repeated: dict[str, str] = {}
        for sub in self.subscriptions:
            key = reconcile.SubscriptionKey.of(sub)
            if key in first:
                repeated[sub.id] = first[key]
            else:
                first[key] = sub.id
        return repeated

    def unmanaged(self) -> list[Webhook]:
        """Webhooks to adopt: with a stack, those it does not manage or that have unmanaged subscriptions."""
        if self.stack is None:
            return list(self.webhooks)
        return [
            h
            for h in self.webhooks
            if h.id not in self.stack_duplicates
            and (h.id not in self.managed or any(self.to_adopt(s) for s in self.subscriptions_of(h)))
        ]

    def to_adopt(self, sub: Subscription) -> bool:
        return sub.id not in self.managed and sub.id not in self.stack_duplicates

    def names(self) -> dict[str, str]:
        """A resource name for every webhook: the stack's own where it has one, else one made from the URL."""
        names = {h.id: self.managed[h.id] for h in self.webhooks if h.id in self.managed}
        taken = set(names.values())
        for hook in self.webhooks:
            if hook.id in names:
                continue
            path = hook.payload_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            base = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "webhook"
            if not base[0].isalpha():
                base = f"webhook-{base}"
            name, n = base, 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            taken.add(name)
            names[hook.id] = name
        return names

    def subscription_name(self, hook_name: str, sub: Subscription) -> str:
        return self.managed.get(sub.id) or f"{hook_name}-{sub.event_name}"


def render_summary(listing: AccountListing, where: str, *, show_secrets: bool) -> str:
    duplicates = listing.duplicates()
    lines = [f"# Account {where}: {len(listing.webhooks)} webhook(s), {len(listing.subscriptions)} subscription(s)"]
    for hook in listing.webhooks:
        state = "active" if hook.is_active else "inactive"
        secret = hook.secret if show_secrets else MASK
        lines.append(f"#   webhook {hook.id}  {state}  {hook.payload_url}  secret {secret}{_managed(listing, hook.id)}")
        for sub in listing.subscriptions_of(hook):
            terminals = f"  terminals {', '.join(sub.terminal_ids)}" if sub.terminal_ids else ""
            duplicate = (
                f"  DUPLICATE of {duplicates[sub.id]}: every event is delivered twice" if sub.id in duplicates else ""
            )
            lines.append(
                f"#     subscription {sub.id}  {sub.event_name}{terminals}{_managed(listing, sub.id)}{duplicate}"
            )
    return "\n".join(lines)


def _managed(listing: AccountListing, object_id: str) -> str:
    if listing.stack is None:
        return ""
    name = listing.managed.get(object_id)
    if name:
        return f"  [stack {listing.stack}: {name}]"
    if duplicated := listing.stack_duplicates.get(object_id):
        return (
            f"  [DUPLICATE of stack {listing.stack}'s {duplicated}: made by its own creates, recorded by no stack; "
            f"`python -m mypos_provider recover --stack {listing.stack} --delete-duplicates` removes it]"
        )
    return f"  [not managed by stack {listing.stack}]"


def render_python(listing: AccountListing, *, show_secrets: bool) -> str:
    """Declarations that bring unmanaged objects under management without recreating them or rotating a secret."""
    hooks = listing.unmanaged()
    if not hooks:
        return _nothing_to_adopt(listing)
    names = listing.names()
    lines = [
        IMPORT_NOTE,
        "# paste into your Pulumi program and run `pulumi up`: each object is adopted in place (adopt_id).",
        "import pulumi",
        "from mypos_provider import Subscription, Webhook",
    ]
    for hook in hooks:
        name = names[hook.id]
        lines += ["", f"{_identifier(name)} = Webhook(", f"    {name!r},", f"    payload_url={hook.payload_url!r},"]
        if show_secrets:
            lines.append(f"    secret=pulumi.Output.secret({hook.secret!r}),")
        else:
            lines.append("    # secret omitted: the current secret is kept (see --show-secrets to manage it here)")
        if not hook.is_active:
            lines.append("    is_active=False,")
        lines += [f"    adopt_id={hook.id!r},", ")"]
        for sub in listing.subscriptions_of(hook):
            if listing.stack is not None and not listing.to_adopt(sub):
                continue
            lines += [
                "Subscription(",
                f"    {listing.subscription_name(name, sub)!r},",
                f"    webhook_id={_identifier(name)}.id,",
                f"    event={sub.event_name!r},",
            ]
            if sub.terminal_ids:
                lines.append(f"    terminal_ids={list(sub.terminal_ids)!r},")
            lines += [f"    adopt_id={sub.id!r},", ")"]
    return "\n".join(lines)


def render_yaml(listing: AccountListing, *, show_secrets: bool) -> str:
    """The same, as `mypos:webhooks` stack config for this repository's stack program."""
    hooks = listing.unmanaged()
    if not hooks:
        return _nothing_to_adopt(listing)
    names = listing.names()
    lines = ["  mypos:webhooks:"]
    for hook in hooks:
        lines += [
            f"    - name: {names[hook.id]}",
            f"      payloadUrl: {json.dumps(hook.payload_url)}",
            f"      adoptId: {hook.id}",
        ]
        if not hook.is_active:
            lines.append("      active: false")
        if show_secrets:
            lines.append(
                f"      secret: {json.dumps(hook.secret)}  # move into a secure value: "
                "pulumi config set --secret --path ..."
            )
        subs = listing.subscriptions_of(hook)
        lines.append("      events:" if subs else "      events: []")
        for sub in subs:
            lines += [f"        - event: {sub.event_name}", f"          adoptId: {sub.id}"]
            if sub.terminal_ids:
                lines.append(f"          terminalIds: {json.dumps(list(sub.terminal_ids))}")
    return "\n".join(lines)


def render_imports(listing: AccountListing) -> str:
    """`pulumi import` commands that bring the unmanaged objects into a stack of native resources."""
    hooks = listing.unmanaged()
    if not hooks:
        return _nothing_to_adopt(listing)
    names = listing.names()
    stack = f" --stack {listing.stack}" if listing.stack else ""
    lines = [
        "# with the native provider (mypos:index:*), import them; each command prints the code to declare it:",
    ]
    for hook in hooks:
        name = names[hook.id]
        if listing.stack is None or hook.id not in listing.managed:
            lines.append(f"pulumi import mypos:index:Webhook {shlex.quote(name)} {hook.id}{stack}")
        for sub in listing.subscriptions_of(hook):
            if listing.stack is not None and not listing.to_adopt(sub):
                continue
            sub_name = listing.subscription_name(name, sub)
            lines.append(f"pulumi import mypos:index:Subscription {shlex.quote(sub_name)} {sub.id}{stack}")
    return "\n".join(lines)


def _nothing_to_adopt(listing: AccountListing) -> str:
    if not listing.webhooks:
        return ""
    return f"# every object of the account is managed by stack {listing.stack}: nothing to adopt"


def as_json(listing: AccountListing, *, show_secrets: bool) -> dict[str, Any]:
    duplicates = listing.duplicates()
    return {
        "webhooks": [
            {
                "id": h.id,
                "payload_url": h.payload_url,
                "is_active": h.is_active,
                "secret": h.secret if show_secrets else MASK,
                "managed_by": listing.managed.get(h.id),
                "duplicate_of": listing.stack_duplicates.get(h.id),
                "subscriptions": [
                    {
                        "id": s.id,
                        "event": s.event_name,
                        "terminal_ids": list(s.terminal_ids or ()),
                        "managed_by": listing.managed.get(s.id),
                        "duplicate_of": duplicates.get(s.id) or listing.stack_duplicates.get(s.id),
                    }
                    for s in listing.subscriptions_of(h)
                ],
            }
            for h in listing.webhooks
        ]
    }


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)
