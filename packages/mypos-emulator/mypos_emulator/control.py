"""The control plane under /_emulator/: guarded by guard.py (loopback or a control token), never faulted, never
delayed, never in the request log."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, validation_error
from .services import Services
from .settings import SettingsError
from .wire import Request, Response, Router, json_response


def register(router: Router) -> None:
    router.add("GET", "/_emulator/health", health)
    router.add("POST", "/_emulator/reset", reset)
    router.add("GET", "/_emulator/requests", list_requests)
    router.add("DELETE", "/_emulator/requests", clear_requests)
    router.add("GET", "/_emulator/settings", get_settings)
    router.add("PUT", "/_emulator/settings", update_settings)
    router.add("PATCH", "/_emulator/settings", update_settings)
    router.add("GET", "/_emulator/accounts", list_accounts)
    router.add("POST", "/_emulator/accounts", add_account)
    router.add("POST", "/_emulator/tokens/expire", expire_tokens)
    router.add("GET", "/_emulator/state", state)
    router.add("POST", "/_emulator/events", emit_event)
    router.add("GET", "/_emulator/deliveries", list_deliveries)
    router.add("GET", "/_emulator/faults", list_faults)
    router.add("PUT", "/_emulator/faults", replace_faults)
    router.add("DELETE", "/_emulator/faults", clear_faults)


def health(services: Services, request: Request) -> Response:
    return json_response(200, {"status": "ok"})


def reset(services: Services, request: Request) -> Response:
    services.reset()
    return json_response(200, {"reset": True})


def list_requests(services: Services, request: Request) -> Response:
    return json_response(200, {"requests": services.request_log.entries()})


def clear_requests(services: Services, request: Request) -> Response:
    services.request_log.clear()
    return json_response(200, {"requests": []})


def get_settings(services: Services, request: Request) -> Response:
    return json_response(200, services.settings.to_dict())


def update_settings(services: Services, request: Request) -> Response:
    try:
        settings = services.update_settings(request.json_body())
    except SettingsError as problem:
        raise validation_error(problem.field, str(problem)) from None
    return json_response(200, settings.to_dict())


def list_accounts(services: Services, request: Request) -> Response:
    return json_response(200, {"accounts": services.client_ids()})


def required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise validation_error(name, f"{name} is required and must be a non-empty string")
    return value


def add_account(services: Services, request: Request) -> Response:
    body = request.json_body()
    client_id = required_string(body, "client_id")
    client_secret = required_string(body, "client_secret")
    if not services.add_account(client_id, client_secret):
        raise ApiError(409, "conflict", f"account {client_id} exists with another secret", field="client_id")
    return json_response(200, {"account": {"client_id": client_id}})


def expire_tokens(services: Services, request: Request) -> Response:
    return json_response(200, {"expired": services.expire_tokens()})


def state(services: Services, request: Request) -> Response:
    return json_response(200, services.state_document())


def _event_id(services: Services, body: dict[str, Any]) -> str:
    name = required_string(body, "event")
    event_id = services.resolve_event(name)
    if event_id is None:
        naming = services.settings.event_naming
        raise validation_error("event", f"event {name} is not a known event name (naming {naming!r}) or id")
    return event_id


def optional_value(body: dict[str, Any], name: str, kind: type, description: str) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise validation_error(name, f"{name} must be {description}")
    return value


def emit_event(services: Services, request: Request) -> Response:
    body = request.json_body()
    event_id = _event_id(services, body)
    client_id = optional_value(body, "client_id", str, "a string")
    if client_id is not None and client_id not in services.client_ids():
        raise validation_error("client_id", f"client_id {client_id} is not a known account")
    terminal_id = optional_value(body, "terminal_id", str, "a string")
    payload = optional_value(body, "payload", dict, "a JSON object")
    wait = optional_value(body, "wait", bool, "true or false")
    notes = services.emit(event_id, client_id, terminal_id, payload, wait=wait is not False)
    return json_response(200, notes)


OUTCOMES = ("delivered", "failed")
DELIVERIES_LIMIT = 1000


def list_deliveries(services: Services, request: Request) -> Response:
    query = request.query
    outcome = query.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise validation_error("outcome", "outcome must be delivered or failed")
    limit_text = query.get("limit") or "100"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= DELIVERIES_LIMIT:
        raise validation_error("limit", f"limit must be a whole number between 1 and {DELIVERIES_LIMIT}")
    found = services.deliveries(
        client_id=query.get("client_id") or None,
        webhook_id=query.get("webhook_id") or None,
        outcome=outcome,
        limit=int(limit_text),
    )
    return json_response(200, {"deliveries": found})


def list_faults(services: Services, request: Request) -> Response:
    return json_response(200, {"rules": services.faults.describe()})


def replace_faults(services: Services, request: Request) -> Response:
    services.faults.replace(request.json_body().get("rules"))
    return json_response(200, {"rules": services.faults.describe()})


def clear_faults(services: Services, request: Request) -> Response:
    services.faults.clear()
    return json_response(200, {"rules": []})
