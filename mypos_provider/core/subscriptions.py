"""The rules of a managed subscription: one webhook subscribed to one event, optionally for some terminals.

Inputs: `webhook_id`, `event` (a name of the live catalogue), `terminal_ids` (a set; order never matters),
`adopt_id`. Changing `event` or `webhook_id` replaces the subscription (myPOS updates only the filter,
docs/mypos-api.md §5.10); `terminal_ids` update in place. A create first adopts an identical subscription
of the same webhook when one exists, so a subscription dropped from the state (`pulumi state delete`) is
never duplicated (events would be delivered twice).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..client import Event, NotFoundError, Subscription
from . import reconcile, validation
from .context import DeploymentContext
from .values import NOT_BEFORE, Changes, Checked, Created, ObjectGone, Problem, Read, RuleError, is_unknown

KIND = "subscription"
INPUTS = ("webhook_id", "event", "terminal_ids", "adopt_id", NOT_BEFORE)
REPLACING = ("webhook_id", "event")


class SubscriptionRules:
    KIND = KIND

    def __init__(self, context: DeploymentContext) -> None:
        self._context = context
        self._client = context.client

    @staticmethod
    def describe(inputs: Mapping[str, Any]) -> str:
        """The subscription as an error names it before it has an id."""
        return f"subscription of webhook {inputs.get('webhook_id')} to {inputs.get('event')}"

    # ---- plan ---------------------------------------------------------------------------------------

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        inputs = {name: news.get(name) for name in INPUTS}
        replacing = not olds or any(olds.get(name) != inputs[name] for name in REPLACING)
        inputs[NOT_BEFORE] = self._context.not_before() if replacing else olds.get(NOT_BEFORE)
        problems = validation.problems_of(
            inputs,
            {
                "webhook_id": validation.webhook_id_problem,
                "terminal_ids": validation.terminal_ids_problem,
                "adopt_id": validation.adopt_id_problem,
                "event": validation.event_problem,
            },
        )
        if problems:
            return Checked(inputs, problems)
        event = inputs["event"]
        # A name already accepted for this resource needs no request: a no-op preview sends none.
        catalogue_needed = not is_unknown(event) and olds.get("event") != event
        if catalogue_needed and (problem := validation.event_problem(event, self._context.event_names())):
            return Checked(inputs, [Problem("event", problem)])
        if not olds and isinstance(inputs["adopt_id"], str):
            return Checked(inputs, self._review_adoption(inputs))
        webhook_id = inputs["webhook_id"]
        if not is_unknown(webhook_id) and olds.get("webhook_id") != webhook_id:
            problems += self._webhook_problems(str(webhook_id))
        return Checked(inputs, problems)

    def diff(self, subscription_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Changes:
        replaced = tuple(name for name in REPLACING if is_unknown(news.get(name)) or olds.get(name) != news.get(name))
        if not replaced:
            self._context.claims.hold(subscription_id)
        filter_changed = _terminals(news.get("terminal_ids")) != _terminals(olds.get("terminal_ids"))
        updated = ("terminal_ids",) if filter_changed else ()
        return Changes(updated=updated, replaced=replaced)

    # ---- apply --------------------------------------------------------------------------------------

    def create(self, inputs: Mapping[str, Any]) -> Created:
        event = self._event(str(inputs["event"]))
        if inputs.get("adopt_id"):
            subscription = self._adopt(inputs, event)
        else:
            subscription = self._identical(inputs) or self._create(inputs, event)
        self._context.account.remember_subscription(subscription)
        return Created(subscription.id, outputs(subscription, inputs, event))

    def read(self, subscription_id: str, recorded: Mapping[str, Any]) -> Read | None:
        """The live subscription as the state should record it; None (with a warning) when it is gone.

        Without a recorded event, the caller asks for an existing subscription (a program's `Subscription.get`,
        an import), and a missing one is an error rather than something to drop from the state."""
        subscription = self._context.account.subscription(subscription_id)
        if subscription is None and not recorded.get("event"):
            raise RuleError(
                f"subscription {subscription_id}: this account has no such subscription; list "
                "existing ones with `python -m mypos_provider list`"
            )
        if subscription is None:
            self._context.reporter.warn(
                f"subscription {subscription_id} (webhook {recorded.get('webhook_id')}, event "
                f"{recorded.get('event')}) no longer exists in myPOS (deleted outside this stack); it was removed "
                "from the state and the next update recreates it"
            )
            return None
        event = Event(id=str(recorded.get("event_id") or ""), name=subscription.event_name)
        if subscription.event_name != recorded.get("event"):
            event = self._context.event(subscription.event_name) or event
        terminal_ids = keep_declared_order(subscription.terminal_ids, recorded.get("terminal_ids"))
        inputs: dict[str, Any] = {
            "webhook_id": subscription.webhook_id,
            "event": subscription.event_name,
            "terminal_ids": terminal_ids,
        }
        for carried in ("adopt_id", NOT_BEFORE):
            if recorded.get(carried):
                inputs[carried] = recorded[carried]
        return Read(subscription_id, outputs(subscription, {**recorded, "terminal_ids": terminal_ids}, event), inputs)

    def update(self, subscription_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        try:
            subscription = self._client.update_subscription(subscription_id, news.get("terminal_ids"))
        except NotFoundError:
            raise ObjectGone(KIND, subscription_id) from None
        self._context.account.remember_subscription(subscription)
        event = Event(id=str(olds.get("event_id") or ""), name=str(news.get("event")))
        return outputs(subscription, news, event)

    def delete(self, subscription_id: str, recorded: Mapping[str, Any]) -> None:
        if self._context.claims.is_held(subscription_id):
            self._context.reporter.warn(
                f"subscription {subscription_id} ({recorded.get('event')} of webhook {recorded.get('webhook_id')}) "
                "is held by another resource of this deployment: it was released from the removed resource, "
                "not deleted"
            )
            return
        with contextlib.suppress(NotFoundError):  # already gone, e.g. together with its webhook
            self._client.delete_subscription(subscription_id)
        self._context.account.forget_subscription(subscription_id)

    # ---- helpers ------------------------------------------------------------------------------------

    def _event(self, name: str) -> Event:
        event = self._context.event(name)
        if event is None:
            raise RuleError(f"unknown event {name!r}: it is no longer in myPOS's event catalogue", field="event")
        return event

    def _create(self, inputs: Mapping[str, Any], event: Event) -> Subscription:
        webhook_id = str(inputs["webhook_id"])
        key = _key(inputs)
        look_up = reconcile.attempt_look_up(
            lambda: self._client.iter_subscriptions(webhook_id),
            key,
            since=reconcile.attempt_started(self._context.server_now()),
            exclude=self._context.excluded(),
        )
        made = self._client.create_subscription(webhook_id, event, inputs.get("terminal_ids"), look_up=look_up)
        self._context.claims.created(made.object.id)
        if made.unresolved_attempts:
            self._context.reporter.warn(reconcile.unresolved_warning(KIND, made.object.id, made.object.event_name))
        return made.object

    def _identical(self, inputs: Mapping[str, Any]) -> Subscription | None:
        """An identical live subscription to adopt instead of duplicating it (not possible for a new webhook)."""
        webhook_id = str(inputs["webhook_id"])
        if self._context.claims.was_created(webhook_id):
            return None  # made by this deployment: it has no subscriptions but ours
        found = reconcile.identical_subscription(
            self._context.account.subscriptions(), _key(inputs), exclude=self._context.excluded()
        )
        if found is not None:
            self._context.claims.hold(found.id)
            self._context.reporter.warn(
                f"subscription {found.id} ({found.event_name} of webhook {webhook_id}) already exists in the account "
                "but was not recorded in the state (e.g. after `pulumi state delete`): it was adopted instead of "
                "creating a duplicate that would deliver every event twice"
            )
        return found

    def _adopt(self, inputs: Mapping[str, Any], event: Event) -> Subscription:
        """Bring an existing subscription under management; only its terminal filter can change in place."""
        adopt_id = str(inputs["adopt_id"])
        live = self._context.account.subscription(adopt_id)
        if live is None:
            raise RuleError(_no_such_subscription(adopt_id), field="adopt_id")
        if mismatch := _adoption_mismatch(live, inputs):
            raise RuleError(mismatch.message, field=mismatch.field)
        self._context.claims.hold(adopt_id)
        if _terminals(inputs.get("terminal_ids")) != _terminals(list(live.terminal_ids or ())):
            live = self._client.update_subscription(adopt_id, inputs.get("terminal_ids"))
        return live

    def _review_adoption(self, inputs: Mapping[str, Any]) -> list[Problem]:
        adopt_id = str(inputs["adopt_id"])
        live = self._context.account.subscription(adopt_id)
        if live is None:
            return [Problem("adopt_id", _no_such_subscription(adopt_id))]
        if mismatch := _adoption_mismatch(live, inputs):
            return [mismatch]
        declared = inputs.get("terminal_ids")
        change = ""
        if not is_unknown(declared) and _terminals(declared) != _terminals(list(live.terminal_ids or ())):
            change = f" and its terminal filter changed: {_show_tids(live.terminal_ids)} => {_show_tids(declared)}"
        self._context.reporter.info(
            f"subscription {adopt_id} ({live.event_name} of webhook {live.webhook_id}) will be adopted"
            + (change or " as it is (nothing to change)")
        )
        return []

    def _webhook_problems(self, webhook_id: str) -> list[Problem]:
        if self._context.claims.was_created(webhook_id) or self._context.account.webhook(webhook_id) is not None:
            return []
        return [
            Problem(
                "webhook_id",
                f"webhook_id {webhook_id}: this account has no such webhook; pass the id of a Webhook resource "
                "(webhook_id=hook.id) or of a webhook listed by `python -m mypos_provider list`",
            )
        ]


def _key(inputs: Mapping[str, Any]) -> reconcile.SubscriptionKey:
    tids = inputs.get("terminal_ids") or ()
    return reconcile.SubscriptionKey(str(inputs["webhook_id"]), str(inputs["event"]), frozenset(tids))


def _adoption_mismatch(live: Subscription, inputs: Mapping[str, Any]) -> Problem | None:
    adopt_id = inputs["adopt_id"]
    for name, current in (("event", live.event_name), ("webhook_id", live.webhook_id)):
        declared = inputs.get(name)
        if not is_unknown(declared) and current != declared:
            return Problem(
                name,
                f"adopt_id {adopt_id} is a subscription with {name} {current!r}, but {name} is declared as "
                f"{declared!r}: declare {name}={current!r} to adopt it (a subscription's {name} cannot change "
                "in place)",
            )
    return None


def _no_such_subscription(adopt_id: str) -> str:
    return (
        f"adopt_id {adopt_id}: this account has no such subscription; list existing ones with "
        "`python -m mypos_provider list`, or remove adopt_id to create a new subscription"
    )


def _show_tids(tids: Any) -> str:
    return "all terminals" if not tids else ", ".join(sorted(tids))


def outputs(subscription: Subscription, inputs: Mapping[str, Any], event: Event) -> dict[str, Any]:
    result: dict[str, Any] = {
        "webhook_id": subscription.webhook_id or inputs.get("webhook_id"),
        "event": subscription.event_name or event.name,
        "event_id": event.id,
        "terminal_ids": keep_declared_order(subscription.terminal_ids, inputs.get("terminal_ids")),
    }
    for carried in ("adopt_id", NOT_BEFORE):
        if inputs.get(carried):
            result[carried] = inputs[carried]
    return result


def _terminals(value: Any) -> frozenset[str] | None:
    if is_unknown(value):
        return frozenset({"<unknown>"})
    return frozenset(value) if value else None


def keep_declared_order(live: Sequence[str] | None, declared: Any) -> list[str] | None:
    """Terminal ids are a set: report them in the declared order when they are the same set."""
    if not live:
        return None
    if isinstance(declared, list) and set(declared) == set(live):
        return list(declared)
    return list(live)
