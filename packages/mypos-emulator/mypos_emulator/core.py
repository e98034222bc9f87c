"""The emulator without its socket: it wires the services to the route handlers and runs each request
through the pipeline (routing, latency, faults, the request log)."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

from . import auth, control, dashboard, webhook_api
from .clock import Clock, SystemClock
from .database import Database
from .errors import ApiError
from .faults import FaultRule
from .guard import DASHBOARD_PATH, ControlGuard
from .models import Store
from .persistence import StateFileError, StateWriter, load_state_file
from .requestlog import LoggedRequest
from .sender import OwnAddress
from .services import Services
from .settings import EmulatorSettings, SettingsError
from .wire import DROP, Outcome, Request, Response, Router, error_response, json_response

DEMO_CLIENT_ID = "DEMOCLIENTID000000000001"
DEMO_CLIENT_SECRET = "DEMOCLIENTSECRET00000000000000000000000000000001"


def _area(path: str) -> str | None:
    if path.startswith("/_emulator/"):
        return "control"
    if path.startswith("/oauth/"):
        return "auth"
    if path == "/v1" or path.startswith("/v1/"):
        return "api"
    return None


def _load(state_file: Path | None, clock: Clock) -> Database:
    """A database from the state file, or an empty one with default settings."""
    store = Store()
    document = load_state_file(state_file) if state_file is not None else None
    if document is None:
        return Database(store, EmulatorSettings(), clock)
    try:
        settings = EmulatorSettings.from_dict(document["settings"])
        store.load_dict(document)
    except (KeyError, TypeError, ValueError, SettingsError) as problem:
        raise StateFileError(f"cannot load state file {state_file}: malformed content ({problem!r})") from None
    return Database(store, settings, clock)


class EmulatorCore:
    def __init__(
        self,
        accounts: Mapping[str, str] | None,
        settings: EmulatorSettings | None,
        state_file: Path | None,
        clock: Clock | None = None,
        control_token: str | None = None,
    ) -> None:
        self.state_file = state_file
        self._guard = ControlGuard(control_token)
        db = _load(state_file, clock or SystemClock())
        if settings is not None:
            db.replace_settings(settings.updated({}))  # a private, validated copy
        chosen = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET} if accounts is None else dict(accounts)
        with db.write() as store:
            for client_id, client_secret in chosen.items():
                store.add_account(client_id, client_secret)
        self.services = Services(db)
        self._writer: StateWriter | None = None
        self._routers = {"auth": Router(), "api": Router(), "control": Router()}
        auth.register(self._routers["auth"])
        webhook_api.register(self._routers["api"])
        control.register(self._routers["control"])
        dashboard.register(self._routers["control"])

    # Lifecycle

    def start(self, listening_on: tuple[str, int] | None = None) -> None:
        """Starts background work; `listening_on` is the bound address, which deliveries must never reach."""
        self.services.keep_current_settings_as_baseline()
        own = OwnAddress(*listening_on) if listening_on is not None else None
        self.services.dispatcher.start(own)
        if self.state_file is not None:
            self._writer = StateWriter(self.state_file, self.services.db.snapshot)
            self._writer.start()
            self.services.db.notify_changes_to(self._writer.request)
            self._writer.request()

    def stop(self) -> None:
        self.services.dispatcher.stop()
        if self._writer is not None:
            self.services.db.notify_changes_to(None)
            self._writer.stop()
            self._writer = None

    # Request pipeline

    def handle(self, request: Request) -> Outcome:
        area = _area(request.path)
        if area == "control":
            return self._handle_control(request)
        if area is None:
            return error_response(ApiError(404, "not_found", f"no such endpoint: {request.path}"))
        return self._handle_faultable(request, area)

    def _handle_control(self, request: Request) -> Response:
        try:
            instead = self._guard.admit(request)
        except ApiError as refusal:
            if request.path.startswith(DASHBOARD_PATH):  # a person at a browser: one plain sentence
                text = f"{refusal.message or refusal.error}\n".encode()
                return Response(refusal.status, text, "text/plain; charset=utf-8", refusal.headers)
            return error_response(refusal)
        return instead if instead is not None else self._process(request, "control")

    def _handle_faultable(self, request: Request, area: str) -> Outcome:
        arrived = self.services.clock.time()
        started = time.perf_counter()  # real elapsed time: how long the answer really took
        account = auth.claimed_client_id(self.services, request)
        latency = self.services.settings.latency
        if latency > 0:
            time.sleep(latency)  # outside every lock, so concurrent requests overlap
        rule = self.services.faults.match(request.method, request.path)
        outcome = self._with_fault(rule, request, area)
        # Logged before the answer is written, so a client that got its answer always finds the entry.
        status = outcome.status if isinstance(outcome, Response) else None
        entry = LoggedRequest(
            arrived,
            request.method,
            request.path,
            request.raw_query,
            status,
            account,
            rule.kind if rule else None,
            time.perf_counter() - started,
        )
        self.services.request_log.record(entry)
        return outcome

    def _with_fault(self, rule: FaultRule | None, request: Request, area: str) -> Outcome:
        if rule is None:
            return self._process(request, area)
        if rule.kind == "status":
            return _injected_error(rule)
        if rule.kind == "drop":
            return DROP
        if rule.kind == "slow":
            rule.hold()
            return self._process(request, area)
        committed = self._process(request, area)  # commit_then_fail: the change really happens
        if rule.then == "drop":
            return DROP
        if rule.then == "slow":
            rule.hold()
            return committed
        return _injected_error(rule)

    def _process(self, request: Request, area: str) -> Response:
        try:
            handler, params = self._routers[area].resolve(request.method, request.path)
            if area == "api":
                account = auth.bearer_account(self.services, request)
                context = webhook_api.ApiContext(self.services, request, account, self.services.settings)
                return handler(context, **params)
            return handler(self.services, request, **params)
        except ApiError as problem:
            return error_response(problem)
        except Exception:  # a bug in the emulator: answer 500 and show it, but keep serving
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"error": "internal_error", "message": "emulator bug; see its stderr"})


def _injected_error(rule: FaultRule) -> Response:
    headers = {"Retry-After": str(rule.retry_after)} if rule.status == 429 else {}
    body = {"error": "injected_fault", "message": f"fault injected by the emulator: HTTP {rule.status}"}
    return json_response(rule.status, body, headers)


__all__ = ("DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "EmulatorCore")
