"""When a live object is "the one we would have made": one set of rules for every caller.

myPOS offers no idempotency key and no tags (docs/mypos-api.md §3, §4), so identity rests on content:

* a webhook by its payload URL and secret;
* a subscription by its webhook, event and terminal filter (as a set).

Content alone is not proof of authorship: another stack in the same account may declare the same URL and
secret. So an object is taken as made by an attempt (or a killed run) only when it also appeared after
that attempt started, by the API's own `created_on`, and never more of them than there were attempts.
A webhook matched on a declared secret (rather than one this provider generated) is reported, since a
declared secret may be shared. The callers:

* a create that failed ambiguously looks for what it may have made (`attempt_look_up`);
* a subscription create first adopts an identical live subscription of the same webhook
  (`identical_subscription`): a webhook belongs to one stack, so its subscriptions do too;
* `python -m mypos_provider recover` pairs a killed run's pending creates with what it left (`plan_recovery`),
  each bounded by the moment its check() ran (`values.NOT_BEFORE`, recorded before the create was sent);
* `drift`, `list --stack` and `recover --delete-duplicates` name the objects the stack's own creates made but
  no stack records: same content as a recorded resource, made after that resource was first attempted
  (`find_duplicates`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..client import Subscription, Webhook

T = TypeVar("T", Webhook, Subscription)

# created_on has whole seconds, and the server's clock is known to us only to the second (its Date header).
CLOCK_RESOLUTION = 1.0


@dataclass(frozen=True)
class WebhookKey:
    payload_url: str
    secret: str

    def matches(self, hook: Webhook) -> bool:
        return not hook.is_deleted and (hook.payload_url, hook.secret) == (self.payload_url, self.secret)


@dataclass(frozen=True)
class SubscriptionKey:
    webhook_id: str
    event: str
    terminal_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionKey:
        return cls(sub.webhook_id, sub.event_name, frozenset(sub.terminal_ids or ()))

    def matches(self, sub: Subscription) -> bool:
        return SubscriptionKey.of(sub) == self


Key = WebhookKey | SubscriptionKey


def key_of(obj: Webhook | Subscription) -> Key:
    if isinstance(obj, Webhook):
        return WebhookKey(obj.payload_url, obj.secret)
    return SubscriptionKey.of(obj)


def matches(key: Key, obj: Webhook | Subscription) -> bool:
    if isinstance(key, WebhookKey):
        return isinstance(obj, Webhook) and key.matches(obj)
    return isinstance(obj, Subscription) and key.matches(obj)


def attempt_started(server_now: float) -> float:
    """The earliest `created_on` an object made by an attempt starting now can carry."""
    return math.floor(server_now) - CLOCK_RESOLUTION


def created_since(obj: Webhook | Subscription, since: float | None) -> bool:
    """True when the API says the object appeared at or after `since` (None: no time bound).

    An object whose creation time the API does not report cannot prove it."""
    if since is None:
        return True
    return obj.created_on is not None and obj.created_on.timestamp() >= since


def attempt_look_up(
    listing: Callable[[], Iterable[T]], key: Key, *, since: float, exclude: Callable[[str], bool]
) -> Callable[[], T | None]:
    """For a create that failed ambiguously: the newest object matching `key` made since the attempt began,
    not already held by another resource of the deployment."""

    def look_up() -> T | None:
        found = [o for o in listing() if matches(key, o) and created_since(o, since) and not exclude(o.id)]
        return found[-1] if found else None  # lists are in creation order

    return look_up


def identical_subscription(
    subscriptions: Iterable[Subscription], key: SubscriptionKey, *, exclude: Callable[[str], bool]
) -> Subscription | None:
    """A live subscription that already does what a new one would (first made wins)."""
    return next((s for s in subscriptions if key.matches(s) and not exclude(s.id)), None)


def unresolved_warning(kind: str, object_id: str, what: str) -> str:
    """For a create that got its object on a later attempt, after an earlier one got no answer and was not found.

    cli/deploy.py finds these by their wording ("an earlier attempt of this create got no answer")."""
    return (
        f"{kind} {object_id} ({what}): an earlier attempt of this create got no answer and was not found in myPOS; "
        "if myPOS commits it late, it is a duplicate of this resource, with the same content: "
        "`python -m mypos_provider drift` names it and `recover --delete-duplicates` removes it"
    )


# ---- recovering a killed run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingCreate:
    """A create a killed run had started but never recorded: the resource and the inputs it sent."""

    name: str
    key: Key
    not_before: float | None  # None: state written before the stamp existed, so nothing can be proven
    secret_generated: bool = False  # webhooks: the provider generated the secret (unique to this create)

    @property
    def kind(self) -> str:
        return "webhook" if isinstance(self.key, WebhookKey) else "subscription"


@dataclass(frozen=True)
class Made:
    """An object the killed run made for a pending create."""

    pending: PendingCreate
    obj: Webhook | Subscription


@dataclass(frozen=True)
class Ambiguity:
    """More live objects match than the run could have made, or nothing proves when they appeared:
    a person must choose."""

    pending: tuple[PendingCreate, ...]
    candidates: tuple[Webhook | Subscription, ...]
    reason: str


@dataclass
class RecoveryPlan:
    made: list[Made] = field(default_factory=list)
    never_made: list[PendingCreate] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan_recovery(
    pending: Sequence[PendingCreate],
    live: Iterable[Webhook | Subscription],
    *,
    recorded: set[str],
) -> RecoveryPlan:
    """What a killed run made and never recorded.

    For each group of identical pending creates: the unrecorded live objects matching them that appeared
    after the earliest of their checks, provided there are no more of them than creates."""
    unrecorded = [o for o in live if o.id not in recorded]
    plan = RecoveryPlan()
    groups: dict[Key, list[PendingCreate]] = {}
    for create in pending:
        groups.setdefault(create.key, []).append(create)
    for key, creates in groups.items():
        stamps = [c.not_before for c in creates]
        since = None if None in stamps else min(s for s in stamps if s is not None)
        lookalikes = [o for o in unrecorded if matches(key, o)]
        found = [o for o in lookalikes if since is not None and created_since(o, since)]
        if since is None and lookalikes:
            plan.ambiguities.append(
                Ambiguity(
                    tuple(creates),
                    tuple(lookalikes),
                    "the state does not say when the killed run began, so nothing proves which of them it made",
                )
            )
        elif len(found) > len(creates):
            plan.ambiguities.append(
                Ambiguity(
                    tuple(creates),
                    tuple(found),
                    f"{len(found)} match, but the killed run sent {len(creates)} create(s)",
                )
            )
        else:
            plan.made += [Made(create, obj) for create, obj in zip(creates, found, strict=False)]
            plan.never_made += creates[len(found) :]
            plan.warnings += [
                f"{create.name}: webhook {obj.id} matched on a declared secret, which another stack could share; "
                "it appeared after the killed run began"
                for create, obj in zip(creates, found, strict=False)
                if isinstance(obj, Webhook) and not create.secret_generated
            ]
    return plan


# ---- duplicates of what a stack records --------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A resource a stack records: its object, what would make another object "the same", and when the
    resource's create was first attempted (`values.NOT_BEFORE`, stamped by check() before it was sent)."""

    name: str
    id: str
    key: Key
    not_before: float | None  # None: a state written before the stamp existed, or an adopted object
    secret_generated: bool = False  # webhooks: the secret was generated for this resource (unique to it)

    @property
    def kind(self) -> str:
        return "webhook" if isinstance(self.key, WebhookKey) else "subscription"


@dataclass(frozen=True)
class Duplicate:
    """An object no stack records that the stack's own creates made for a resource it records with another
    object: a late commit of an attempt that got no answer, a run killed or run twice at once. It delivers
    every event a second time."""

    obj: Webhook | Subscription
    of: Recorded
    via: Webhook | None = None  # a subscription of a duplicate webhook: deleting that webhook removes it too

    @property
    def declared_secret(self) -> bool:
        """A webhook matched on a declared secret, which another project sharing the account could also use."""
        return isinstance(self.obj, Webhook) and self.via is None and not self.of.secret_generated


def find_duplicates(
    recorded: Sequence[Recorded], live: Iterable[Webhook | Subscription], *, managed: set[str]
) -> list[Duplicate]:
    """Objects no stack manages (`managed`: every id any stack records) with the content of a recorded
    resource, made at or after that resource was first attempted; and the subscriptions of such webhooks.

    Content alone would take a look-alike someone made by hand before the stack existed; the time bound
    would take one made by hand since, with the same URL and secret (only possible with a declared secret:
    a generated one is the stack's alone), which is why such matches are flagged."""
    objects = [o for o in live if o.id not in managed]
    found: list[Duplicate] = []
    duplicate_hooks: dict[str, Duplicate] = {}
    for obj in sorted(objects, key=lambda o: isinstance(o, Subscription)):  # webhooks first
        if isinstance(obj, Subscription) and obj.webhook_id in duplicate_hooks:
            hook = duplicate_hooks[obj.webhook_id]
            assert isinstance(hook.obj, Webhook)
            found.append(Duplicate(obj, hook.of, via=hook.obj))
            continue
        original = next(
            (
                r
                for r in recorded
                if r.id != obj.id
                and r.not_before is not None
                and matches(r.key, obj)
                and created_since(obj, r.not_before)
            ),
            None,
        )
        if original is None:
            continue
        duplicate = Duplicate(obj, original)
        found.append(duplicate)
        if isinstance(obj, Webhook):
            duplicate_hooks[obj.id] = duplicate
    return found
