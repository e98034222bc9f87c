"""What the route handlers work with: the database, deliveries, faults, the request log, and the
operations of the control plane. Handlers receive a Services object; they never see the core that
routes requests to them, so the import graph runs one way: core -> handlers -> services."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import views
from .catalogue import OverrideError, apply_overrides, build_payload, event_by_id, event_by_name, terminal_id_of
from .clock import Clock
from .database import Database
from .delivery import Delivery, Dispatcher, filter_matches, plan_deliveries, resending
from .faults import FaultSet
from .history import DeliveryFilter, delivery_groups, delivery_log, newest_first, statuses_seen
from .models import Notification, Store, Subscription
from .requestlog import RequestLog
from .settings import EmulatorSettings

BULK_RESEND_WORKERS = 8


class SampleError(ValueError):
    """A sample that cannot be sent as asked; `field` names the culprit (terminal_id, overrides.data.amount)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Services:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.faults = FaultSet()
        self.request_log = RequestLog()
        self.dispatcher = Dispatcher(db)
        self._baseline = db.settings

    @property
    def settings(self) -> EmulatorSettings:
        return self.db.settings

    @property
    def clock(self) -> Clock:
        return self.db.clock

    def keep_current_settings_as_baseline(self) -> None:
        """What a reset restores: the settings the emulator was started with."""
        self._baseline = self.db.settings

    # Control-plane operations

    def update_settings(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        return self.db.update_settings(changes)

    def client_ids(self) -> list[str]:
        with self.db.read() as store:
            return list(store.accounts)

    def add_account(self, client_id: str, client_secret: str) -> bool:
        """Adds an account; False when the id exists with a different secret."""
        with self.db.write() as store:
            existing = store.accounts.get(client_id)
            if existing is not None and existing.client_secret != client_secret:
                return False  # refused: nothing changed (the state file is saved once more, harmlessly)
            store.add_account(client_id, client_secret)
            return True

    def expire_tokens(self) -> int:
        with self.db.write() as store:
            return store.expire_all_tokens(self.db.clock.time())

    def reset(self) -> None:
        """Back to just-started: no objects, tokens, notifications, requests or faults; accounts stay."""
        with self.db.write() as store:
            store.clear_objects()  # a new generation: in-flight deliveries from before record nothing
            self.db.replace_settings(self._baseline)
        self.dispatcher.cancel_pending()
        self.faults.clear()
        self.request_log.clear()

    def state_document(self) -> dict[str, Any]:
        settings = self.db.settings
        with self.db.read() as store:
            accounts = store.accounts.items()
            return {"accounts": {client_id: views.state_view(account, settings) for client_id, account in accounts}}

    def deliveries(
        self, *, client_id: str | None = None, webhook_id: str | None = None, outcome: str | None = None, limit: int
    ) -> list[dict[str, Any]]:
        """Delivery attempts newest first, optionally of one account or webhook, delivered or failed only."""
        with self.db.read() as store:
            attempts = [
                (note.sent_on, order, account.client_id, note)
                for account in store.accounts.values()
                if client_id is None or account.client_id == client_id
                for order, note in enumerate(account.notifications)
                if (webhook_id is None or note.webhook_id == webhook_id)
                and (outcome is None or note.delivered == (outcome == "delivered"))
            ]
            attempts.sort(key=lambda item: (item[0], item[1]), reverse=True)
            return [views.delivery_view(owner, note) for _, _, owner, note in attempts[:limit]]

    def delivery_log(self, wanted: DeliveryFilter, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Deliveries with their attempts, for the dashboard; and how many the filter admits in all."""
        with self.db.read() as store:
            return delivery_log(store, wanted, self.clock.time(), limit)

    def statuses_seen(self) -> list[str]:
        with self.db.read() as store:
            return statuses_seen(store)

    def failed_since(
        self, since: float, webhook_id: str | None, delivery_ids: list[str] | None
    ) -> list[tuple[str, str]]:
        """Every delivery that failed for good (no retry due) and was first sent at or after `since`, newest first,
        as (delivery id, its latest attempt's id); only to `webhook_id` and among `delivery_ids` when given."""
        with self.db.read() as store:
            failed = newest_first(
                group
                for group in delivery_groups(store)
                if group.outcome == "failed"
                and group.attempts[0].sent_on >= since
                and (webhook_id is None or group.latest.webhook_id == webhook_id)
                and (delivery_ids is None or group.latest.delivery_key in delivery_ids)
            )
            return [(group.latest.delivery_key, group.latest.id) for group in failed]

    def resend_all(self, attempt_ids: list[str]) -> list[tuple[str, Notification | None]]:
        """Resends each attempt (as `resend` does), a few at a time: a receiver that times out must not make a
        hundred resends take a hundred timeouts."""
        if not attempt_ids:
            return []
        with ThreadPoolExecutor(max_workers=min(BULK_RESEND_WORKERS, len(attempt_ids))) as pool:
            return list(pool.map(self.resend, attempt_ids))

    def resend(self, attempt_id: str) -> tuple[str, Notification | None]:
        """Sends the exact body of attempt `attempt_id` again, newly signed, to its webhook as it is now (also
        when inactive: it is an explicit request), as one more attempt of the same delivery that no retries
        follow. Answers the account and the new attempt, which is None when the webhook or subscription is
        gone; raises LookupError for an unknown attempt."""
        with self.db.read() as store:
            client_id, note = _attempt(store, attempt_id)
            sub = store.accounts[client_id].subscriptions.get(note.subscription_id)
            delivery = resending(client_id, note, sub.event_id if sub else "", store.generation)
        return client_id, self.dispatcher.attempt(delivery, note.retry_count)

    def sample_delivery(
        self,
        client_id: str,
        sub: Subscription,
        terminal_id: str | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Delivery:
        """One invented event for one subscription, as myPOS's sandbox sends on request: it reaches the
        webhook even when inactive, with a terminal the filter lets through (or `terminal_id`), with fields
        replaced by `overrides` (dotted paths, catalogue.apply_overrides). Raises SampleError naming the
        field when a terminal the caller chose is not one the subscription's filter admits. Runs in a
        transaction."""
        event = event_by_id(sub.event_id)
        assert event is not None  # subscriptions only ever reference catalogue events
        if terminal_id is not None and not event.is_pos:
            raise SampleError("terminal_id", f"{event.name(self.settings.event_naming)} events carry no terminal")
        tids = (sub.filter or {}).get("tids") or [None]
        payload = build_payload(event, self.settings.event_naming, terminal_id or tids[0], self.clock.time())
        try:
            payload = apply_overrides(payload, overrides or {})
        except OverrideError as problem:
            raise SampleError(f"overrides.{problem.path}", str(problem)) from None
        terminal = terminal_id_of(payload)
        chose_terminal = terminal_id is not None or "data.terminal_id" in (overrides or {})
        if chose_terminal and not filter_matches(sub.filter, event.is_pos, terminal):
            allowed = ", ".join(str(tid) for tid in (sub.filter or {}).get("tids") or []) or "none"
            raise SampleError(
                "terminal_id" if terminal_id is not None else "overrides.data.terminal_id",
                f"terminal {terminal} is not in the subscription's filter (terminals {allowed}): myPOS would never "
                "send it to this webhook; pick one of those terminals",
            )
        with self.db.read() as store:
            generation = store.generation
        return Delivery(
            client_id, sub.id, sub.webhook_id, sub.event_id, payload, generation, ignore_inactive=True, invented=True
        )

    def resolve_event(self, name_or_id: str) -> str | None:
        event = event_by_name(name_or_id, self.db.settings.event_naming) or event_by_id(name_or_id)
        return event.id if event is not None else None

    def emit(
        self,
        event_id: str,
        client_id: str | None,
        terminal_id: str | None,
        payload: dict[str, Any] | None,
        *,
        wait: bool,
    ) -> dict[str, Any]:
        settings = self.db.settings
        with self.db.read() as store:
            client_ids = [client_id] if client_id is not None else list(store.accounts)
            deliveries = plan_deliveries(store, event_id, client_ids, terminal_id, payload, settings, self.clock.time())
        if not wait:
            self.dispatcher.send_later(deliveries)
            return {"deliveries": len(deliveries), "notifications": []}
        notes = self.dispatcher.send_now(deliveries)
        return {"deliveries": len(deliveries), "notifications": [views.notification_view(n, settings) for n in notes]}


def _attempt(store: Store, attempt_id: str) -> tuple[str, Notification]:
    for account in store.accounts.values():
        for note in account.notifications:
            if note.id == attempt_id:
                return account.client_id, note
    raise LookupError(f"attempt {attempt_id} was not found")


__all__ = ("Services",)
