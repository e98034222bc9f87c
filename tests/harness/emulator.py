"""Talk to the emulator's control plane (/_emulator/...) the way a test reads the truth."""

from __future__ import annotations

from collections import Counter
from typing import Any

import requests


class EmulatorControl:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self, client_id: str) -> dict[str, list[dict[str, Any]]]:
        accounts = self._call("GET", "state")["accounts"]
        return accounts.get(client_id, {"webhooks": [], "subscriptions": []})

    def live_webhooks(self, client_id: str) -> list[dict[str, Any]]:
        return [w for w in self.state(client_id)["webhooks"] if not w.get("deleted_on")]

    def live_subscriptions(self, client_id: str) -> list[dict[str, Any]]:
        return [s for s in self.state(client_id)["subscriptions"] if not s.get("deleted_on")]

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "requests")["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def request_counts(self) -> Counter[str]:
        """Requests by 'METHOD /route', with object ids replaced by {id}."""
        return Counter(f"{r['method']} {route_of(r['path'])}" for r in self.requests())

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                and r["path"].startswith("/v1/")]

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        self._call("PUT", "faults", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def update_settings(self, **settings: Any) -> None:
        self._call("PUT", "settings", settings)

    def add_account(self, client_id: str, client_secret: str) -> None:
        self._call("POST", "accounts", {"client_id": client_id, "client_secret": client_secret})

    def emit(self, event: str, **kw: Any) -> Any:
        return self._call("POST", "events", {"event": event, "wait": True, **kw})


def route_of(path: str) -> str:
    parts = path.split("?")[0].rstrip("/").split("/")
    return "/".join("{id}" if len(p) >= 16 and any(c.isdigit() for c in p) else p for p in parts)
