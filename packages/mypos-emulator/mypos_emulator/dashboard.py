"""The dashboard: a static page (ui/, package data; no build step, nothing from a CDN) and the control-
plane endpoints it polls. It is part of the control plane, so the guard's rules apply to every request
of it, the page itself included. Secrets are never in the snapshot: the page asks for one webhook's
secret when its Reveal button is pressed.

The page arrives with the current snapshot inside, in a JSON data block (which the CSP's script-src
'self' allows, as it is never executed), so its first paint already shows the emulator's state."""

from __future__ import annotations

import json
import math
from importlib import resources
from types import MappingProxyType
from typing import Any

from .catalogue import EVENT_TYPES, example_payload
from .control import optional_value, required_string
from .errors import ApiError, validation_error
from .history import DeliveryFilter
from .models import Account, Notification, Subscription, Webhook
from .services import SampleError, Services
from .settings import EmulatorSettings
from .views import delivery_view, event_name
from .wire import Request, Response, Router, json_response

DASHBOARD_LIMIT = 100
FIRST_SNAPSHOT_MARKER = b"{{first-snapshot}}"
_ASSETS = MappingProxyType(
    {
        "app.js": "text/javascript; charset=utf-8",
        "style.css": "text/css; charset=utf-8",
    }
)
_PAGE_HEADERS = MappingProxyType(
    {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
)


def register(router: Router) -> None:
    router.add("GET", "/_emulator/ui", page)
    router.add("GET", "/_emulator/ui/{asset}", asset)
    router.add("GET", "/_emulator/dashboard", snapshot)
    router.add("POST", "/_emulator/reveal", reveal_secret)
    router.add("POST", "/_emulator/sample", send_sample)
    router.add("POST", "/_emulator/resend", resend)
    router.add("POST", "/_emulator/resend-failed", resend_failed)


def _packaged(name: str) -> bytes:
    return resources.files(__package__).joinpath("ui", name).read_bytes()


def page(services: Services, request: Request) -> Response:
    first = _script_safe_json(snapshot_document(services, DeliveryFilter()))
    html = _packaged("index.html").replace(FIRST_SNAPSHOT_MARKER, first)
    return Response(200, html, "text/html; charset=utf-8", dict(_PAGE_HEADERS))


def _script_safe_json(document: dict[str, Any]) -> bytes:
    """JSON that no value can end its <script> block with: <, > and & only ever appear escaped (inside strings,
    the only place JSON has them), and ensure_ascii escapes U+2028 and the rest."""
    text = json.dumps(document).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("ascii")


def asset(services: Services, request: Request, asset: str) -> Response:
    if asset not in _ASSETS:
        raise ApiError(404, "not_found", f"no such dashboard file: {asset}")
    return Response(200, _packaged(asset), _ASSETS[asset], dict(_PAGE_HEADERS))


# The snapshot the page polls


def snapshot(services: Services, request: Request) -> Response:
    document = snapshot_document(services, DeliveryFilter.from_query(request.query))
    return json_response(200, document, {"Cache-Control": "no-store"})


def snapshot_document(services: Services, wanted: DeliveryFilter) -> dict[str, Any]:
    settings = services.settings
    with services.db.read() as store:
        accounts = [_account_view(account, settings) for account in store.accounts.values()]
        version = services.db.version
    deliveries, total = services.delivery_log(wanted, DASHBOARD_LIMIT)
    return {
        # Changes whenever anything on the page would: the page skips redrawing otherwise.
        "version": f"{version}.{services.request_log.last_seq}.{services.faults.revision}",
        "now": services.clock.time(),
        "accounts": accounts,
        "events": _catalogue(accounts, settings),
        "deliveries": deliveries,
        "delivery_total": total,
        "statuses": services.statuses_seen(),
        "requests": services.request_log.newest(DASHBOARD_LIMIT),
        "faults": services.faults.describe(),
        "settings": settings.to_dict(),
    }


def _account_view(account: Account, settings: EmulatorSettings) -> dict[str, Any]:
    return {
        "client_id": account.client_id,
        "webhooks": [_webhook_view(hook, account, settings) for hook in account.live_webhooks()],
    }


def _webhook_view(hook: Webhook, account: Account, settings: EmulatorSettings) -> dict[str, Any]:
    return {
        "id": hook.id,
        "payload_url": hook.payload_url,
        "is_active": hook.is_active,
        "created_on": hook.created_on,
        "subscriptions": [_subscription_view(sub, settings) for sub in account.subscriptions_of(hook.id)],
    }


def _subscription_view(sub: Subscription, settings: EmulatorSettings) -> dict[str, Any]:
    tids = (sub.filter or {}).get("tids")
    return {
        "id": sub.id,
        "event": event_name(sub.event_id, settings),
        "event_id": sub.event_id,
        "terminal_ids": list(tids) if isinstance(tids, list) else None,
        "created_on": sub.created_on,
    }


def _catalogue(accounts: list[dict[str, Any]], settings: EmulatorSettings) -> list[dict[str, Any]]:
    """Every event, with the subscriptions a sample of it can be sent to."""
    subscribed: dict[str, list[dict[str, str]]] = {event.id: [] for event in EVENT_TYPES}
    for account in accounts:
        for hook in account["webhooks"]:
            for sub in hook["subscriptions"]:
                subscribed[sub["event_id"]].append({"id": sub["id"], "webhook_id": hook["id"]})
    return [
        {
            "id": event.id,
            "name": event.name(settings.event_naming),
            "kind": "POS payment" if event.is_pos else "bank transfer",
            "subscriptions": subscribed[event.id],
            "sample": example_payload(event, settings.event_naming),  # invented: myPOS documents no payload
        }
        for event in EVENT_TYPES
    ]


# Actions


def reveal_secret(services: Services, request: Request) -> Response:
    body = request.json_body()
    webhook_id = required_string(body, "webhook_id")
    with services.db.read() as store:
        hooks = (account.live_webhook(webhook_id) for account in store.accounts.values())
        hook = next((found for found in hooks if found is not None), None)
        if hook is None:
            raise ApiError(404, "not_found", f"webhook {webhook_id} was not found", field="webhook_id")
        secret = hook.secret
    return json_response(200, {"webhook_id": webhook_id, "secret": secret}, {"Cache-Control": "no-store"})


def send_sample(services: Services, request: Request) -> Response:
    """Sends one invented event to one subscription's webhook, like myPOS's sandbox /fake, and answers
    with the delivery attempt once the receiver has answered (or not). `terminal_id` and `overrides`
    (dotted field paths to JSON values) change the sample, which /fake cannot (`emit --set`)."""
    body = request.json_body()
    subscription_id = required_string(body, "subscription_id")
    terminal_id = optional_value(body, "terminal_id", str, "a terminal id")
    overrides = optional_value(body, "overrides", dict, "an object of field paths (data.amount) to values")
    with services.db.read() as store:
        owner = next(
            (
                (account.client_id, sub)
                for account in store.accounts.values()
                if (sub := account.live_subscription(subscription_id)) is not None
            ),
            None,
        )
        if owner is None:
            raise ApiError(404, "not_found", f"subscription {subscription_id} was not found", field="subscription_id")
        try:
            delivery = services.sample_delivery(*owner, terminal_id, overrides)
        except SampleError as problem:
            raise validation_error(problem.field, str(problem)) from None
    return _attempt_answer(owner[0], services.dispatcher.attempt(delivery, 0))


def resend(services: Services, request: Request) -> Response:
    """Sends a recorded attempt's exact body again, newly signed, and answers with the new attempt."""
    attempt_id = required_string(request.json_body(), "attempt_id")
    try:
        client_id, note = services.resend(attempt_id)
    except LookupError as problem:
        raise ApiError(404, "not_found", str(problem), field="attempt_id") from None
    return _attempt_answer(client_id, note)


def resend_failed(services: Services, request: Request) -> Response:
    """Every delivery that failed for good since a time (to one webhook, among some deliveries), counted with
    `dry_run` (the page shows the count first), else resent: each latest attempt's body once more."""
    body = request.json_body()
    since = body.get("since")
    if isinstance(since, bool) or not isinstance(since, (int, float)) or not math.isfinite(since):
        raise validation_error("since", "since must be a time in epoch seconds (the first attempt's sent_on)")
    webhook_id = optional_value(body, "webhook_id", str, "a webhook id")
    delivery_ids = optional_value(body, "delivery_ids", list, "a list of delivery ids")
    if delivery_ids is not None and not all(isinstance(item, str) for item in delivery_ids):
        raise validation_error("delivery_ids", "delivery_ids must be a list of delivery ids")
    dry_run = optional_value(body, "dry_run", bool, "true or false")
    failed = services.failed_since(float(since), webhook_id, delivery_ids)
    resent = [] if dry_run else services.resend_all([attempt_id for _, attempt_id in failed])
    views = [delivery_view(client_id, note) for client_id, note in resent if note is not None]
    return json_response(
        200,
        {
            "count": len(failed),
            "delivery_ids": [delivery_id for delivery_id, _ in failed],
            "resent": views,
            "delivered": sum(1 for view in views if view["delivered"]),
        },
    )


def _attempt_answer(client_id: str, note: Notification | None) -> Response:
    if note is None:
        raise ApiError(409, "conflict", "the subscription or its webhook went away before the event was sent")
    return json_response(200, {"delivery": delivery_view(client_id, note)})


__all__ = ("FIRST_SNAPSHOT_MARKER", "register", "snapshot_document")
