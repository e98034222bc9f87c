"""The dashboard's delivery log: the attempts of each delivery (one event on its way to one webhook) grouped
under it with the delivery's outcome, filtered by webhook, event type, outcome and time, and searched by id."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import validation_error
from .models import Notification, Store
from .views import delivery_view, payload_id

OUTCOMES = ("delivered", "retrying", "failed")


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries to show; every criterion left as None admits all."""

    webhook_id: str | None = None
    event: str | None = None  # an event name, as the attempts recorded it
    outcome: str | None = None  # one of OUTCOMES
    within: float | None = None  # seconds before now that the last attempt was sent in
    search: str | None = None  # part of an event, delivery, attempt, webhook or subscription id

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> DeliveryFilter:
        """From the snapshot's query parameters webhook_id, event, outcome, within and q."""
        outcome = query.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise validation_error("outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
        search = (query.get("q") or "").strip().lower() or None
        return cls(query.get("webhook_id") or None, query.get("event") or None, outcome, _within(query), search)


def _within(query: Mapping[str, str]) -> float | None:
    text = query.get("within") or ""
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0 or math.isinf(seconds):
        raise validation_error("within", "within must be a positive number of seconds")
    return seconds


@dataclass(frozen=True)
class DeliveryGroup:
    client_id: str
    attempts: tuple[Notification, ...]  # oldest first
    recorded: int  # where its latest attempt stands in the record: orders deliveries sent in the same instant

    @property
    def latest(self) -> Notification:
        return self.attempts[-1]

    @property
    def outcome(self) -> str:
        """The latest attempt decides: delivered, failed with a retry due, or failed for good."""
        if self.latest.delivered:
            return "delivered"
        return "retrying" if self.latest.next_retry_at is not None else "failed"

    def ids(self) -> Iterator[str]:
        latest = self.latest
        yield from (latest.delivery_key, latest.webhook_id, latest.subscription_id)
        yield from (note.id for note in self.attempts)
        event_id = payload_id(latest.payload)
        if event_id is not None:
            yield event_id

    def admitted_by(self, wanted: DeliveryFilter, now: float) -> bool:
        latest = self.latest
        return (
            (wanted.webhook_id is None or latest.webhook_id == wanted.webhook_id)
            and (wanted.event is None or latest.event == wanted.event)
            and (wanted.outcome is None or self.outcome == wanted.outcome)
            and (wanted.within is None or latest.sent_on >= now - wanted.within)
            and (wanted.search is None or any(wanted.search in found.lower() for found in self.ids()))
        )

    def view(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "id": latest.delivery_key,
            "client_id": self.client_id,
            "event": latest.event,
            "payload_id": payload_id(latest.payload),
            "webhook_id": latest.webhook_id,
            "subscription_id": latest.subscription_id,
            "url": latest.url,
            "outcome": self.outcome,
            "first_sent_on": self.attempts[0].sent_on,
            "last_sent_on": latest.sent_on,
            "next_retry_at": latest.next_retry_at,
            "attempts": [delivery_view(self.client_id, note) for note in reversed(self.attempts)],
        }


def delivery_groups(store: Store) -> list[DeliveryGroup]:
    """Every delivery of every account, its attempts in the order they were recorded. Runs in a transaction."""
    grouped: dict[tuple[str, str], list[Notification]] = {}
    latest: dict[tuple[str, str], int] = {}
    order = 0
    for account in store.accounts.values():
        for note in account.notifications:
            key = (account.client_id, note.delivery_key)
            grouped.setdefault(key, []).append(note)
            latest[key], order = order, order + 1
    return [DeliveryGroup(key[0], tuple(notes), latest[key]) for key, notes in grouped.items()]


def delivery_log(store: Store, wanted: DeliveryFilter, now: float, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The admitted deliveries, the latest attempt newest first, at most `limit`; and how many were admitted."""
    admitted = [group for group in delivery_groups(store) if group.admitted_by(wanted, now)]
    admitted.sort(key=lambda group: (group.latest.sent_on, group.recorded), reverse=True)
    return [group.view() for group in admitted[:limit]], len(admitted)


__all__ = ("OUTCOMES", "DeliveryFilter", "DeliveryGroup", "delivery_log")
