"""The dashboard's delivery log: the attempts of each delivery (one event on its way to one webhook) grouped
under it with the delivery's outcome, filtered by webhook, event type, outcome, time, whether any attempt
failed and the status its attempts got, and searched by id or by a value of the payload."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .errors import validation_error
from .models import Notification, Store
from .views import delivery_view, payload_id

OUTCOMES = ("delivered", "retrying", "failed")
NO_ANSWER = "none"  # the status filter's word for an attempt without an HTTP answer
_STATUS = re.compile(r"[1-5](?:[0-9]{2}|xx)")  # a code (401) or a class (4xx)
_YES_NO = MappingProxyType({"true": True, "false": False, "": False})


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries to show; every criterion left as None admits all."""

    webhook_id: str | None = None
    event: str | None = None  # an event name, as the attempts recorded it
    outcome: str | None = None  # one of OUTCOMES
    within: float | None = None  # seconds before now that the last attempt was sent in
    search: str | None = None  # part of an id, or of a value anywhere in the payload (a payment reference)
    failed_attempt: bool = False  # only deliveries with a failed attempt, whatever their outcome now
    status: str | None = None  # only deliveries with an attempt that got this: "401", "4xx" or "none"

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> DeliveryFilter:
        """From the snapshot's query parameters webhook_id, event, outcome, within, q, failed_attempt, status."""
        outcome = query.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise validation_error("outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
        search = (query.get("q") or "").strip().lower() or None
        return cls(
            query.get("webhook_id") or None,
            query.get("event") or None,
            outcome,
            _within(query),
            search,
            _failed_attempt(query),
            _status(query),
        )


def _failed_attempt(query: Mapping[str, str]) -> bool:
    text = query.get("failed_attempt") or ""
    if text not in _YES_NO:
        raise validation_error("failed_attempt", "failed_attempt must be true or false")
    return _YES_NO[text]


def _status(query: Mapping[str, str]) -> str | None:
    text = (query.get("status") or "").strip().lower()
    if not text:
        return None
    if text != NO_ANSWER and not _STATUS.fullmatch(text):
        raise validation_error(
            "status", f"status must be an HTTP status (401), a class (4xx) or {NO_ANSWER} (no answer came back)"
        )
    return text


def status_matches(wanted: str, code: int | None) -> bool:
    """Whether an attempt's status `code` (None: no answer) is what the status filter `wanted` names."""
    if wanted == NO_ANSWER or code is None:
        return wanted == NO_ANSWER and code is None
    if wanted.endswith("xx"):
        return str(code)[0] == wanted[0]
    return str(code) == wanted


def payload_values(value: Any) -> Iterator[str]:
    """Every value anywhere in a payload as text (strings as they are, numbers and booleans as JSON); not keys."""
    if isinstance(value, dict):
        for item in value.values():
            yield from payload_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from payload_values(item)
    elif isinstance(value, str):
        yield value
    elif value is not None:
        yield json.dumps(value)


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
    def next_retry_at(self) -> float | None:
        """When the scheduled retry is due, if one is: resends are never retried, so the latest attempt that is
        not a resend holds it, also after a resend (which may leave it standing: `retries_after_resend`)."""
        scheduled = [note for note in self.attempts if note.resent_from is None]
        return scheduled[-1].next_retry_at if scheduled else None

    @property
    def outcome(self) -> str:
        """The latest attempt decides: delivered, failed with a retry due, or failed for good."""
        if self.latest.delivered:
            return "delivered"
        return "retrying" if self.next_retry_at is not None else "failed"

    @property
    def after_resend(self) -> str | None:
        """What a successful resend did to the scheduled retries: "stopped" them, or left them "continuing"
        (one is still due); None when no resend succeeded or nothing was scheduled."""
        if any(note.stopped_retries for note in self.attempts):
            return "stopped"
        resent = any(note.resent_from is not None and note.delivered for note in self.attempts)
        return "continuing" if resent and self.next_retry_at is not None else None

    def ids(self) -> Iterator[str]:
        latest = self.latest
        yield from (latest.delivery_key, latest.webhook_id, latest.subscription_id)
        yield from (note.id for note in self.attempts)
        event_id = payload_id(latest.payload)
        if event_id is not None:
            yield event_id

    def searchable(self) -> Iterator[str]:
        """What the search looks in: every id, and every value of the payload (the same for every attempt)."""
        yield from self.ids()
        yield from payload_values(self.latest.payload)

    def admitted_by(self, wanted: DeliveryFilter, now: float) -> bool:
        latest = self.latest
        return (
            (wanted.webhook_id is None or latest.webhook_id == wanted.webhook_id)
            and (wanted.event is None or latest.event == wanted.event)
            and (wanted.outcome is None or self.outcome == wanted.outcome)
            and (wanted.within is None or latest.sent_on >= now - wanted.within)
            and (not wanted.failed_attempt or any(not note.delivered for note in self.attempts))
            and (wanted.status is None or any(status_matches(wanted.status, n.response_code) for n in self.attempts))
            and (wanted.search is None or any(wanted.search in found.lower() for found in self.searchable()))
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
            "next_retry_at": self.next_retry_at,
            "after_resend": self.after_resend,
            "failed_attempts": sum(1 for note in self.attempts if not note.delivered),
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


def newest_first(groups: Iterable[DeliveryGroup]) -> list[DeliveryGroup]:
    return sorted(groups, key=lambda group: (group.latest.sent_on, group.recorded), reverse=True)


def delivery_log(store: Store, wanted: DeliveryFilter, now: float, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The admitted deliveries, the latest attempt newest first, at most `limit`; and how many were admitted."""
    admitted = newest_first(group for group in delivery_groups(store) if group.admitted_by(wanted, now))
    return [group.view() for group in admitted[:limit]], len(admitted)


def statuses_seen(store: Store) -> list[str]:
    """Every status any attempt got, numerically, then NO_ANSWER if an attempt got none: the status filter's
    choices. Runs in a transaction."""
    codes = {note.response_code for account in store.accounts.values() for note in account.notifications}
    seen = [str(code) for code in sorted(code for code in codes if code is not None)]
    return seen + ([NO_ANSWER] if None in codes else [])


__all__ = (
    "NO_ANSWER",
    "OUTCOMES",
    "DeliveryFilter",
    "DeliveryGroup",
    "delivery_groups",
    "delivery_log",
    "newest_first",
    "statuses_seen",
)
