"""How objects look on the wire. Item keys are sorted, as in every JSON example of the real API."""

from __future__ import annotations

from typing import Any

from .catalogue import EventType, event_by_id, http_date
from .diagnosis import no_answer_hint, signing_view
from .models import Account, Notification, Subscription, Webhook
from .settings import EmulatorSettings


def timestamp(value: float | None, settings: EmulatorSettings) -> str | int | None:
    if value is None:
        return None
    if settings.created_on_format == "unix":
        return int(value)
    return http_date(value)


def webhook_view(hook: Webhook, settings: EmulatorSettings) -> dict[str, Any]:
    return {
        "created_on": timestamp(hook.created_on, settings),
        "id": hook.id,
        "is_active": hook.is_active,
        "payload_url": hook.payload_url,
        "secret": hook.secret,
    }


def webhook_detail_view(hook: Webhook, account: Account, settings: EmulatorSettings) -> dict[str, Any]:
    """GET one webhook also lists the events it is subscribed to (once each, in subscription order)."""
    events: dict[str, dict[str, str]] = {}
    for sub in account.subscriptions_of(hook.id):
        event = event_by_id(sub.event_id)
        if event is not None and event.id not in events:
            events[event.id] = event_view(event, settings)
    view = webhook_view(hook, settings)
    return {"created_on": view.pop("created_on"), "events": list(events.values()), **view}


def event_view(event: EventType, settings: EmulatorSettings) -> dict[str, str]:
    return {"id": event.id, "name": event.name(settings.event_naming)}


def event_name(event_id: str, settings: EmulatorSettings) -> str:
    event = event_by_id(event_id)
    return event.name(settings.event_naming) if event is not None else event_id


def subscription_view(sub: Subscription, account: Account, settings: EmulatorSettings) -> dict[str, Any]:
    return {
        "created_on": timestamp(sub.created_on, settings),
        "event": event_name(sub.event_id, settings),
        "filter": sub.filter,
        "hook": webhook_view(account.webhooks[sub.webhook_id], settings),
        "id": sub.id,
    }


def notification_view(note: Notification, settings: EmulatorSettings) -> dict[str, Any]:
    return {
        "event": note.event,
        "id": note.id,
        "payload": note.payload,
        "response_code": note.response_code,
        "retry_count": note.retry_count,
        "sent_on": timestamp(note.sent_on, settings),
        "subscription_id": note.subscription_id,
        "url": note.url,
        "webhook_id": note.webhook_id,
    }


def payload_id(payload: Any) -> str | None:
    """The event's own id, as its receiver sees it: the same for every webhook and every attempt."""
    found = payload.get("id") if isinstance(payload, dict) else None
    return found if isinstance(found, str) else None


def delivery_view(client_id: str, note: Notification) -> dict[str, Any]:
    """One attempt with everything a developer debugging a receiver wants (control plane only).
    Times are epoch seconds whatever `created_on_format` says: this shape is the emulator's own."""
    return {
        "id": note.id,
        "delivery_id": note.delivery_key,
        "client_id": client_id,
        "event": note.event,
        "payload_id": payload_id(note.payload),
        "webhook_id": note.webhook_id,
        "subscription_id": note.subscription_id,
        "url": note.url,
        "attempt": note.number,
        "retry_count": note.retry_count,
        "resent_from": note.resent_from,
        "stopped_retries": note.stopped_retries,
        "sent_on": note.sent_on,
        "delivered": note.delivered,
        "response_code": note.response_code,
        "answered_in_ms": None if note.answered_in is None else round(note.answered_in * 1000, 1),
        "answer": note.answer,
        "answer_headers": [list(header) for header in note.answer_headers],
        "error": note.error,
        "no_answer_hint": no_answer_hint(note),
        "request_sent": note.request_sent,
        "next_retry_at": note.next_retry_at,
        "signature": note.signature,
        "signing": signing_view(note),
        "request_headers": [list(header) for header in note.request_headers],
        "body": note.body,
        "invented_payload": note.invented_payload,
    }


def single(key: str, item: dict[str, Any], settings: EmulatorSettings) -> dict[str, Any]:
    return {key: item} if settings.wrap_single_objects else item


def page(key: str, items: list[Any], page_number: int, size: int) -> dict[str, Any]:
    """Slices `items` (already in creation order) into the documented list envelope."""
    start = (page_number - 1) * size
    return {
        key: items[start : start + size],
        "pagination": {"page": page_number, "size": size, "total": len(items)},
    }


def state_view(account: Account, settings: EmulatorSettings) -> dict[str, Any]:
    """The whole truth for test assertions, deleted objects included."""
    return {
        "webhooks": [
            {**webhook_view(hook, settings), "deleted_on": timestamp(hook.deleted_on, settings)}
            for hook in account.webhooks.values()
        ],
        "subscriptions": [
            {
                "created_on": timestamp(sub.created_on, settings),
                "deleted_on": timestamp(sub.deleted_on, settings),
                "event": event_name(sub.event_id, settings),
                "event_id": sub.event_id,
                "filter": sub.filter,
                "id": sub.id,
                "webhook_id": sub.webhook_id,
            }
            for sub in account.subscriptions.values()
        ],
        "notifications": [notification_view(note, settings) for note in account.notifications],
    }
