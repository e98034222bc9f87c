"""The Webhook API under /v1: webhooks, events, subscriptions, notifications."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from . import validation, views
from .catalogue import EVENT_TYPES, event_by_id
from .errors import ApiError, not_found, validation_error
from .models import Account, Subscription, Webhook
from .services import Services
from .settings import EmulatorSettings
from .wire import Request, Response, Router, empty_response, json_response


@dataclass
class ApiContext:
    services: Services
    request: Request
    account: Account
    # One settings snapshot per request, so a concurrent settings change never mixes two shapes.
    settings: EmulatorSettings

    def single(self, key: str, item: dict[str, Any], status: int = 200) -> Response:
        return json_response(status, views.single(key, item, self.settings))

    def page(self, key: str, items: list[Any]) -> Response:
        page_number, size = validation.pagination(self.request.query, self.settings)
        return json_response(200, views.page(key, items, page_number, size))

    def deleted(self) -> Response:
        return empty_response(self.settings.delete_status)

    def now(self) -> float:
        return self.services.clock.time()


def register(router: Router) -> None:
    router.add("GET", "/v1/webhooks", list_webhooks)
    router.add("POST", "/v1/webhooks", create_webhook)
    router.add("GET", "/v1/webhooks/{webhook_id}", get_webhook)
    router.add("PATCH", "/v1/webhooks/{webhook_id}", update_webhook)
    router.add("DELETE", "/v1/webhooks/{webhook_id}", delete_webhook)
    router.add("GET", "/v1/events", list_events)
    router.add("GET", "/v1/events/{event_id}", get_event)
    router.add("GET", "/v1/subscriptions", list_subscriptions)
    router.add("POST", "/v1/subscriptions", create_subscription)
    router.add("GET", "/v1/subscriptions/{subscription_id}", get_subscription)
    router.add("PUT", "/v1/subscriptions/{subscription_id}", update_subscription)
    router.add("PATCH", "/v1/subscriptions/{subscription_id}", update_subscription)
    router.add("DELETE", "/v1/subscriptions/{subscription_id}", delete_subscription)
    router.add("POST", "/v1/subscriptions/{subscription_id}/fake", fake_notification)
    router.add("GET", "/v1/notifications", list_notifications)
    router.add("GET", "/v1/notifications/{notification_id}", get_notification)


# Webhooks


def _own_webhook(ctx: ApiContext, webhook_id: str) -> Webhook:
    # Another account's id answers exactly like a missing one, so ids never leak across accounts.
    hook = ctx.account.live_webhook(webhook_id)
    if hook is None:
        raise not_found("webhook", webhook_id)
    return hook


def list_webhooks(ctx: ApiContext) -> Response:
    with ctx.services.db.read():
        items = [views.webhook_view(hook, ctx.settings) for hook in ctx.account.live_webhooks()]
    return ctx.page("webhooks", items)


def create_webhook(ctx: ApiContext) -> Response:
    fields = ctx.request.fields()
    url = validation.payload_url(validation.required_text(fields, "payload_url"))
    secret = validation.secret(validation.required_text(fields, "secret"))
    hook = Webhook(str(uuid.uuid4()), url, secret, is_active=True, created_on=ctx.now())
    with ctx.services.db.write():
        ctx.account.webhooks[hook.id] = hook
        view = views.webhook_view(hook, ctx.settings)
    return ctx.single("webhook", view, ctx.settings.create_status)


def get_webhook(ctx: ApiContext, webhook_id: str) -> Response:
    with ctx.services.db.read():
        view = views.webhook_detail_view(_own_webhook(ctx, webhook_id), ctx.account, ctx.settings)
    return ctx.single("webhook", view)


def _webhook_changes(fields: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    url = validation.text_field(fields, "payload_url")
    if url is not None:
        changes["payload_url"] = validation.payload_url(url)
    secret = validation.text_field(fields, "secret")
    if secret is not None:
        changes["secret"] = validation.secret(secret)
    if fields.get("is_active") is not None:
        changes["is_active"] = validation.is_active(fields["is_active"])
    return changes


def update_webhook(ctx: ApiContext, webhook_id: str) -> Response:
    changes = _webhook_changes(ctx.request.fields())
    with ctx.services.db.write() if changes else ctx.services.db.read():
        hook = _own_webhook(ctx, webhook_id)
        for name, value in changes.items():
            setattr(hook, name, value)
        view = views.webhook_view(hook, ctx.settings)
    return ctx.single("webhook", view)


def delete_webhook(ctx: ApiContext, webhook_id: str) -> Response:
    with ctx.services.db.write():
        ctx.account.delete_webhook(_own_webhook(ctx, webhook_id), ctx.now())
    return ctx.deleted()


# Events


def list_events(ctx: ApiContext) -> Response:
    return ctx.page("events", [views.event_view(event, ctx.settings) for event in EVENT_TYPES])


def get_event(ctx: ApiContext, event_id: str) -> Response:
    event = event_by_id(event_id)
    if event is None:
        raise not_found("event", event_id)
    return ctx.single("event", views.event_view(event, ctx.settings))


# Subscriptions


def _own_subscription(ctx: ApiContext, subscription_id: str) -> Subscription:
    sub = ctx.account.live_subscription(subscription_id)
    if sub is None:
        raise not_found("subscription", subscription_id)
    return sub


def list_subscriptions(ctx: ApiContext) -> Response:
    webhook_id = ctx.request.query.get("webhook_id")
    with ctx.services.db.read():
        subs = ctx.account.live_subscriptions()
        if webhook_id:
            subs = [sub for sub in subs if sub.webhook_id == webhook_id]
        items = [views.subscription_view(sub, ctx.account, ctx.settings) for sub in subs]
    return ctx.page("subscriptions", items)


def get_subscription(ctx: ApiContext, subscription_id: str) -> Response:
    with ctx.services.db.read():
        view = views.subscription_view(_own_subscription(ctx, subscription_id), ctx.account, ctx.settings)
    return ctx.single("subscription", view)


def _subscribed_webhook(account: Account, fields: dict[str, Any]) -> Webhook:
    """webhook_id may be left out only when the account has exactly one webhook."""
    webhook_id = validation.text_field(fields, "webhook_id")
    if not webhook_id:
        live = account.live_webhooks()
        if len(live) == 1:
            return live[0]
        raise validation_error("webhook_id", "webhook_id is required unless the account has exactly one webhook")
    hook = account.live_webhook(webhook_id)
    if hook is None:
        raise validation_error("webhook_id", f"webhook_id {webhook_id} does not name a webhook of this account")
    return hook


def _subscribed_event_id(fields: dict[str, Any]) -> str:
    event_id = validation.required_text(fields, "event_id")
    if event_by_id(event_id) is None:
        raise validation_error("event_id", f"event_id {event_id} does not name a known event")
    return event_id


def _refuse_duplicate(ctx: ApiContext, hook: Webhook, event_id: str) -> None:
    if ctx.settings.allow_duplicate_subscriptions:
        return
    if any(sub.event_id == event_id for sub in ctx.account.subscriptions_of(hook.id)):
        raise ApiError(409, "conflict", "the webhook is already subscribed to this event", field="event_id")


def create_subscription(ctx: ApiContext) -> Response:
    fields = ctx.request.fields()
    event_id = _subscribed_event_id(fields)
    event_filter = validation.subscription_filter(fields.get("filter"))
    with ctx.services.db.write():
        hook = _subscribed_webhook(ctx.account, fields)
        _refuse_duplicate(ctx, hook, event_id)
        sub = Subscription(str(uuid.uuid4()), hook.id, event_id, event_filter, created_on=ctx.now())
        ctx.account.subscriptions[sub.id] = sub
        view = views.subscription_view(sub, ctx.account, ctx.settings)
    return ctx.single("subscription", view, ctx.settings.create_status)


def update_subscription(ctx: ApiContext, subscription_id: str) -> Response:
    fields = ctx.request.fields()
    has_filter = "filter" in fields
    event_filter = validation.subscription_filter(fields["filter"]) if has_filter else None
    with ctx.services.db.write() if has_filter else ctx.services.db.read():
        sub = _own_subscription(ctx, subscription_id)
        if has_filter:
            sub.filter = event_filter
        view = views.subscription_view(sub, ctx.account, ctx.settings)
    return ctx.single("subscription", view)


def delete_subscription(ctx: ApiContext, subscription_id: str) -> Response:
    with ctx.services.db.write():
        _own_subscription(ctx, subscription_id).deleted_on = ctx.now()
    return ctx.deleted()


def fake_notification(ctx: ApiContext, subscription_id: str) -> Response:
    """Sandbox-only in the real service: one synthetic event to this subscription's webhook."""
    with ctx.services.db.read():
        sub = _own_subscription(ctx, subscription_id)
        delivery = ctx.services.sample_delivery(ctx.account.client_id, sub)
    note = ctx.services.dispatcher.attempt(delivery, 0)
    if note is None:
        raise not_found("subscription", subscription_id)
    return ctx.single("notification", views.notification_view(note, ctx.settings))


# Notifications


def list_notifications(ctx: ApiContext) -> Response:
    wanted = {key: ctx.request.query.get(key) for key in ("webhook_id", "subscription_id", "event")}
    with ctx.services.db.read():
        notes = [
            note
            for note in ctx.account.notifications
            if all(not value or getattr(note, key) == value for key, value in wanted.items())
        ]
        items = [views.notification_view(note, ctx.settings) for note in notes]
    return ctx.page("notifications", items)


def get_notification(ctx: ApiContext, notification_id: str) -> Response:
    with ctx.services.db.read():
        note = next((note for note in ctx.account.notifications if note.id == notification_id), None)
        if note is None:
            raise not_found("notification", notification_id)
        view = views.notification_view(note, ctx.settings)
    return ctx.single("notification", view)
