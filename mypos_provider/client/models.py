"""Typed models of the myPOS Webhook API objects.

Parsing is tolerant of what the API leaves open (docs/mypos-api.md §3.3, §3.5): single objects may come wrapped
(`{"webhook": {...}}`) or bare, and `created_on` may be an HTTP date string or a UNIX timestamp.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def unwrap(body: Any, key: str) -> Mapping[str, Any]:
    """Return the object under `key` when the API wrapped it, else the body itself."""
    if isinstance(body, Mapping) and isinstance(body.get(key), Mapping):
        return body[key]
    if isinstance(body, Mapping):
        return body
    raise ValueError(f"expected a JSON object for {key}, got {type(body).__name__}")


def parse_timestamp(value: Any) -> datetime | None:
    """Accept an RFC 1123 HTTP date, an ISO 8601 string or UNIX seconds; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), tz=UTC)
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    raise ValueError(f"not a timestamp: {value!r}")


def format_http_date(moment: datetime | None) -> str | None:
    """The form the API uses in its examples, e.g. 'Mon, 15 Apr 2019 07:50:54 GMT'."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in {"1", "true"}:
        return True
    if isinstance(value, (int, str)) and str(value).strip().lower() in {"0", "false"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Event:
    """An event type of the catalogue (`GET /v1/events`)."""

    id: str
    name: str

    @classmethod
    def from_api(cls, body: Any) -> Event:
        data = unwrap(body, "event")
        return cls(id=str(data["id"]), name=str(data["name"]))


@dataclass(frozen=True)
class Webhook:
    """A webhook: where myPOS POSTs callbacks, and the secret it signs them with."""

    id: str
    payload_url: str
    secret: str = field(repr=False)
    is_active: bool = True
    created_on: datetime | None = None
    deleted_on: datetime | None = None
    # Only `GET /v1/webhooks/{id}` includes the events; None means "not reported", not "none".
    events: tuple[Event, ...] | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_on is not None

    @classmethod
    def from_api(cls, body: Any) -> Webhook:
        data = unwrap(body, "webhook")
        events = data.get("events")
        return cls(
            id=str(data["id"]),
            payload_url=str(data.get("payload_url", "")),
            secret=str(data.get("secret") or ""),
            is_active=parse_bool(data.get("is_active", True)),
            created_on=parse_timestamp(data.get("created_on")),
            deleted_on=parse_timestamp(data.get("deleted_on")),
            events=None if events is None else tuple(Event.from_api(e) for e in events),
        )


def parse_filter_tids(raw: Any) -> tuple[str, ...] | None:
    """A subscription filter: null, an object with `tids`, or (leniently) that object as JSON text."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        raw = json.loads(raw)
    if not isinstance(raw, Mapping):
        raise ValueError(f"unexpected subscription filter: {raw!r}")
    tids = raw.get("tids")
    if tids is None:
        return None
    return tuple(str(t) for t in tids)


def filter_for_tids(tids: tuple[str, ...] | list[str] | None) -> str:
    """The `filter` form field: JSON text, or empty to clear the filter."""
    return json.dumps({"tids": list(tids)}, separators=(",", ":")) if tids else ""


@dataclass(frozen=True)
class Subscription:
    """A subscription of one webhook to one event type, optionally limited to some terminals."""

    id: str
    event_name: str
    webhook_id: str
    terminal_ids: tuple[str, ...] | None = None
    created_on: datetime | None = None

    @classmethod
    def from_api(cls, body: Any) -> Subscription:
        data = unwrap(body, "subscription")
        hook = data.get("hook")
        webhook_id = data.get("webhook_id") or (hook.get("id") if isinstance(hook, Mapping) else None)
        event = data.get("event")
        event_name = event.get("name") if isinstance(event, Mapping) else event
        return cls(
            id=str(data["id"]),
            event_name=str(event_name or ""),
            webhook_id=str(webhook_id or ""),
            terminal_ids=parse_filter_tids(data.get("filter")),
            created_on=parse_timestamp(data.get("created_on")),
        )


@dataclass(frozen=True)
class Notification:
    """One delivery attempt of an event to a webhook (`GET /v1/notifications`)."""

    event: str
    url: str
    response_code: int | None
    retry_count: int
    sent_on: datetime | None
    payload: Any = None
    id: str | None = None
    webhook_id: str | None = None

    @property
    def delivered(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300

    @classmethod
    def from_api(cls, body: Any) -> Notification:
        data = unwrap(body, "notification")
        code = data.get("response_code")
        return cls(
            event=str(data.get("event", "")),
            url=str(data.get("url", "")),
            response_code=int(code) if code not in (None, "") else None,
            retry_count=int(data.get("retry_count") or 0),
            sent_on=parse_timestamp(data.get("sent_on")),
            payload=data.get("payload"),
            id=data.get("id"),
            webhook_id=data.get("webhook_id"),
        )
