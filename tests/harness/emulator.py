"""Talk to the emulator's control plane (/_emulator/...) the way a test reads the truth."""

from __future__ import annotations

from collections import Counter
from typing import Any

import requests


class EmulatorControl:
    """The /_emulator/ control plane, spoken over HTTP like any other client would."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False  # a proxy from the environment must never relay loopback traffic
        self.session.headers["Content-Type"] = "application/json"  # the control plane takes JSON only

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.url}/_emulator{path}", **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == 200, f"{method} /_emulator{path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def state(self, client_id: str) -> dict[str, Any]:
        accounts = self.ok("GET", "/state")["accounts"]
        return accounts.get(client_id, {"webhooks": [], "subscriptions": []})

    def live_webhooks(self, client_id: str) -> list[dict[str, Any]]:
        return [w for w in self.state(client_id)["webhooks"] if not w.get("deleted_on")]

    def live_subscriptions(self, client_id: str) -> list[dict[str, Any]]:
        return [s for s in self.state(client_id)["subscriptions"] if not s.get("deleted_on")]

    def requests(self) -> list[dict[str, Any]]:
        return self.ok("GET", "/requests")["requests"]

    def clear_requests(self) -> None:
        self.ok("DELETE", "/requests")

    def request_counts(self) -> Counter[str]:
        return route_counts(self.requests())

    def writes(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests()
            if r["method"] in ("POST", "PUT", "PATCH", "DELETE") and r["path"].startswith("/v1/")
        ]

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        self.ok("PUT", "/faults", json={"rules": rules})

    def clear_faults(self) -> None:
        self.ok("DELETE", "/faults")

    def update_settings(self, **settings: Any) -> None:
        self.ok("PUT", "/settings", json=settings)

    def add_account(self, client_id: str, client_secret: str) -> None:
        self.ok("POST", "/accounts", json={"client_id": client_id, "client_secret": client_secret})

    def emit(self, event: str, **kw: Any) -> Any:
        return self.ok("POST", "/events", json={"event": event, "wait": True, **kw})


def route_counts(requests: list[dict[str, Any]]) -> Counter[str]:
    """Requests by 'METHOD /route', with object ids replaced by {id}."""
    return Counter(f"{r['method']} {route_of(r['path'])}" for r in requests)


def route_of(path: str) -> str:
    parts = path.split("?")[0].rstrip("/").split("/")
    return "/".join("{id}" if len(p) >= 16 and any(c.isdigit() for c in p) else p for p in parts)
