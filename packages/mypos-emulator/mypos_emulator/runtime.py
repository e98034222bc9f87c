"""`Emulator`: the in-process handle tests and the CLI use to run the fake myPOS service."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from .clock import Clock
from .core import EmulatorCore
from .guard import DASHBOARD_PATH, ControlTokenRequired, listens_on_loopback_only
from .httpserver import EmulatorHTTPServer, ServerLimits
from .settings import EmulatorSettings
from .views import delivery_view


def _shut_down_promptly(server: EmulatorHTTPServer) -> None:
    """shutdown() waits for the serve loop's next poll; a throwaway connection wakes it at once."""
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    host, port = str(server.server_address[0]), int(server.server_address[1])
    with contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1" if host in ("0.0.0.0", "") else host, port), timeout=0.5).close()
    stopper.join()


class Emulator:
    """Serves the Auth API (/oauth) and the Webhook API (/v1) on one port, from a background thread.

    `accounts` maps client ids to client secrets (default: the demo account). Loading a
    `state_file` happens here, so a corrupt file raises StateFileError before anything listens.
    `clock` is where emulated time comes from (default: the real clocks); tests pass a ManualClock
    to expire tokens or bring retries due without waiting. `control_token` guards the control plane
    (/_emulator/...); it is required when `host` is reachable from other machines. `limits` bounds
    what one client can take: body size, open connections, and how long a request may take to arrive.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        accounts: dict[str, str] | None = None,
        settings: EmulatorSettings | None = None,
        state_file: str | os.PathLike[str] | None = None,
        *,
        quiet: bool = True,
        clock: Clock | None = None,
        control_token: str | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        if control_token is None and not listens_on_loopback_only(host):
            raise ControlTokenRequired(
                f"the emulator would listen on {host or 'every interface'}, which other machines can reach, "
                "so its control plane needs a control token (control_token=...)"
            )
        self._host = host
        self._requested_port = port
        self._quiet = quiet
        self._limits = limits or ServerLimits()
        path = Path(state_file) if state_file is not None else None
        self._core = EmulatorCore(accounts, settings, path, clock, control_token)
        self._services = self._core.services
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = EmulatorHTTPServer((self._host, self._requested_port), self._core, self._quiet, self._limits)
        self._core.start((str(server.server_address[0]), int(server.server_address[1])))
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="mypos-emulator-http", daemon=True
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and writes the state file one last time. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        _shut_down_promptly(server)
        server.server_close()
        server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._core.stop()

    def reset(self) -> None:
        self._services.reset()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # Addresses

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def dashboard_url(self) -> str:
        """The dashboard page (part of the control plane)."""
        return f"{self.url}{DASHBOARD_PATH}"

    @property
    def is_running(self) -> bool:
        return self._server is not None

    # In-process conveniences (the same operations as the /_emulator/ control plane)

    @property
    def settings(self) -> EmulatorSettings:
        """A copy: change settings through update_settings()."""
        return self._services.settings.updated({})

    def update_settings(self, **changes: Any) -> EmulatorSettings:
        return self._services.update_settings(changes).updated({})

    def add_account(self, client_id: str, client_secret: str) -> None:
        if not self._services.add_account(client_id, client_secret):
            raise ValueError(f"account {client_id} exists with another secret")

    def expire_tokens(self) -> int:
        return self._services.expire_tokens()

    def issued_tokens(self) -> list[str]:
        """Every access token issued since the last reset, so tests can prove none leaked anywhere."""
        with self._services.db.read() as store:
            return list(store.tokens)

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        self._services.faults.replace(rules)

    def clear_faults(self) -> None:
        self._services.faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self._services.faults.describe()

    def requests(self) -> list[dict[str, Any]]:
        return self._services.request_log.entries()

    def state(self) -> dict[str, Any]:
        return self._services.state_document()

    def emit_event(
        self,
        event: str,
        client_id: str | None = None,
        terminal_id: str | None = None,
        payload: dict[str, Any] | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Emits `event` (a name in the active naming, or an event id); see POST /_emulator/events."""
        event_id = self._services.resolve_event(event)
        if event_id is None:
            raise ValueError(f"unknown event {event!r}")
        if client_id is not None and client_id not in self._services.client_ids():
            raise ValueError(f"unknown account {client_id!r}")
        return self._services.emit(event_id, client_id, terminal_id, payload, wait=wait)

    def resend(self, attempt_id: str) -> dict[str, Any]:
        """Sends that attempt's exact body again, newly signed, as one more attempt of its delivery; answers the
        new attempt (see POST /_emulator/resend). LookupError: no such attempt; ValueError: its webhook or
        subscription is gone."""
        client_id, note = self._services.resend(attempt_id)
        if note is None:
            raise ValueError(f"the webhook or subscription of attempt {attempt_id} is gone")
        return delivery_view(client_id, note)

    def resend_failed(self, since: float, webhook_id: str | None = None, *, dry_run: bool = False) -> list[str]:
        """Resends every delivery that failed for good (no retry due) whose first attempt was sent at or after
        `since` (epoch seconds), to `webhook_id` only if given; answers their delivery ids, newest first. With
        `dry_run` it only counts them (see POST /_emulator/resend-failed)."""
        failed = self._services.failed_since(since, webhook_id, None)
        if not dry_run:
            self._services.resend_all([attempt_id for _, attempt_id in failed])
        return [delivery_id for delivery_id, _ in failed]
