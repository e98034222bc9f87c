"""The emulator without its socket: state, settings, faults, request log and the request pipeline."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import auth, control, views, webhook_api
from .catalogue import event_by_id, event_by_name
from .delivery import Dispatcher, plan_deliveries
from .errors import ApiError
from .faults import FaultRule, FaultSet
from .models import Store
from .persistence import FORMAT, VERSION, StateFileError, StateWriter, load_state_file
from .settings import EmulatorSettings, SettingsError
from .wire import DROP, Outcome, Request, Response, Router, error_response, json_response

DEMO_CLIENT_ID = "DEMOCLIENTID000000000001"
DEMO_CLIENT_SECRET = "DEMOCLIENTSECRET00000000000000000000000000000001"

REQUEST_LOG_LIMIT = 100_000


class RequestLog:
    """Every /oauth and /v1 request with its outcome, for assertions about what a client really sent."""

    def __init__(self, limit: int = REQUEST_LOG_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = 0

    def record(
        self, started: float, request: Request, outcome: Outcome, account: str | None, fault: str | None
    ) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "time": started,
                    "method": request.method,
                    "path": request.path,
                    "query": request.raw_query,
                    "status": outcome.status if isinstance(outcome, Response) else None,
                    "account": account,
                    "fault": fault,
                }
            )

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _area(path: str) -> str | None:
    if path.startswith("/_emulator/"):
        return "control"
    if path.startswith("/oauth/"):
        return "auth"
    if path == "/v1" or path.startswith("/v1/"):
        return "api"
    return None


class EmulatorCore:
    def __init__(
        self,
        accounts: Mapping[str, str] | None,
        settings: EmulatorSettings | None,
        state_file: Path | None,
    ) -> None:
        self.store = Store()
        self.faults = FaultSet()
        self.request_log = RequestLog()
        self.state_file = state_file
        self._generation = 0
        self._settings = EmulatorSettings()
        self._load(state_file)
        if settings is not None:
            self._settings = settings.updated({})  # a private, validated copy
        self._baseline = self._settings
        chosen = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET} if accounts is None else dict(accounts)
        for client_id, client_secret in chosen.items():
            self.store.add_account(client_id, client_secret)
        self.dispatcher = Dispatcher(self.store, lambda: self._settings, lambda: self._generation, self.changed)
        self._writer: StateWriter | None = None
        self._routers = {"auth": Router(), "api": Router(), "control": Router()}
        auth.register(self._routers["auth"])
        webhook_api.register(self._routers["api"])
        control.register(self._routers["control"])

    # Lifecycle

    def _load(self, state_file: Path | None) -> None:
        document = load_state_file(state_file) if state_file is not None else None
        if document is None:
            return
        try:
            self._settings = EmulatorSettings.from_dict(document["settings"])
            self.store.load_dict(document)
        except (KeyError, TypeError, ValueError, SettingsError) as problem:
            raise StateFileError(f"cannot load state file {state_file}: malformed content ({problem!r})") from None

    def start(self) -> None:
        self._baseline = self._settings
        self.dispatcher.start()
        if self.state_file is not None:
            self._writer = StateWriter(self.state_file, self.snapshot)
            self._writer.start()
            self._writer.request()

    def stop(self) -> None:
        self.dispatcher.stop()
        if self._writer is not None:
            self._writer.stop()
            self._writer = None

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return {"format": FORMAT, "version": VERSION, "settings": self._settings.to_dict(), **self.store.to_dict()}

    def changed(self) -> None:
        if self._writer is not None:
            self._writer.request()

    # Shared state

    @property
    def settings(self) -> EmulatorSettings:
        return self._settings

    @property
    def generation(self) -> int:
        return self._generation

    def update_settings(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        with self.store.lock:
            self._settings = self._settings.updated(changes)
        self.changed()
        return self._settings

    def client_ids(self) -> list[str]:
        with self.store.lock:
            return list(self.store.accounts)

    def add_account(self, client_id: str, client_secret: str) -> bool:
        """Adds an account; False when the id exists with a different secret."""
        with self.store.lock:
            existing = self.store.accounts.get(client_id)
            if existing is not None and existing.client_secret != client_secret:
                return False
            self.store.add_account(client_id, client_secret)
        self.changed()
        return True

    def expire_tokens(self) -> int:
        with self.store.lock:
            count = self.store.expire_all_tokens()
        self.changed()
        return count

    def reset(self) -> None:
        """Back to just-started: no objects, tokens, notifications, requests or faults; accounts stay."""
        with self.store.lock:
            self._generation += 1  # in-flight deliveries from before the reset record nothing
            self.store.clear_objects()
            self._settings = self._baseline
        self.dispatcher.cancel_pending()
        self.faults.clear()
        self.request_log.clear()
        self.changed()

    def state_document(self) -> dict[str, Any]:
        settings = self._settings
        with self.store.lock:
            accounts = self.store.accounts.items()
            return {"accounts": {client_id: views.state_view(account, settings) for client_id, account in accounts}}

    def resolve_event(self, name_or_id: str) -> str | None:
        event = event_by_name(name_or_id, self._settings.event_naming) or event_by_id(name_or_id)
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
        with self.store.lock:
            client_ids = [client_id] if client_id is not None else list(self.store.accounts)
            deliveries = plan_deliveries(
                self.store, event_id, client_ids, terminal_id, payload, self._settings, self._generation
            )
        if not wait:
            self.dispatcher.send_later(deliveries)
            return {"deliveries": len(deliveries), "notifications": []}
        notes = self.dispatcher.send_now(deliveries)
        settings = self._settings
        return {"deliveries": len(deliveries), "notifications": [views.notification_view(n, settings) for n in notes]}

    # Request pipeline

    def handle(self, request: Request) -> Outcome:
        area = _area(request.path)
        if area == "control":
            return self._process(request, "control")
        if area is None:
            return error_response(ApiError(404, "not_found", f"no such endpoint: {request.path}"))
        return self._handle_faultable(request, area)

    def _handle_faultable(self, request: Request, area: str) -> Outcome:
        started = time.time()
        account = auth.claimed_client_id(self, request)
        latency = self._settings.latency
        if latency > 0:
            time.sleep(latency)  # outside every lock, so concurrent requests overlap
        rule = self.faults.match(request.method, request.path)
        outcome = self._with_fault(rule, request, area)
        # Logged before the answer is written, so a client that got its answer always finds the entry.
        self.request_log.record(started, request, outcome, account, rule.kind if rule else None)
        return outcome

    def _with_fault(self, rule: FaultRule | None, request: Request, area: str) -> Outcome:
        if rule is None:
            return self._process(request, area)
        if rule.kind == "status":
            return _injected_error(rule)
        if rule.kind == "drop":
            return DROP
        if rule.kind == "slow":
            time.sleep(rule.delay)
            return self._process(request, area)
        committed = self._process(request, area)  # commit_then_fail: the change really happens
        if rule.then == "drop":
            return DROP
        if rule.then == "slow":
            time.sleep(rule.delay)
            return committed
        return _injected_error(rule)

    def _process(self, request: Request, area: str) -> Response:
        try:
            handler, params = self._routers[area].resolve(request.method, request.path)
            if area == "api":
                account = auth.bearer_account(self, request)
                context = webhook_api.ApiContext(self, request, account, self._settings)
                return handler(context, **params)
            return handler(self, request, **params)
        except ApiError as problem:
            return error_response(problem)
        except Exception:  # a bug in the emulator: answer 500 and show it, but keep serving
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"error": "internal_error", "message": "emulator bug; see its stderr"})


def _injected_error(rule: FaultRule) -> Response:
    headers = {"Retry-After": str(rule.retry_after)} if rule.status == 429 else {}
    body = {"error": "injected_fault", "message": f"fault injected by the emulator: HTTP {rule.status}"}
    return json_response(rule.status, body, headers)


__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "EmulatorCore", "RequestLog"]
