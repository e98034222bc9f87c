"""The floor: the same API requests the engine's provider sent, sent by a bare `requests` client with the
concurrency the engine gives the provider (bench/run.py passes no `--parallel`, so the engine's default: four
per CPU, which the provider runs at once). Only the dependency order that any client must respect is kept: a
subscription is created after its webhook, and webhooks are deleted after their subscriptions.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

THREADS = 4 * (os.cpu_count() or 1)

# Phases run one after the other; the requests of one phase run THREADS at a time.
PHASES: tuple[tuple[str, ...], ...] = (
    ("POST /oauth/token", "GET /v1/events", "GET /v1/webhooks", "GET /v1/subscriptions"),
    (
        "POST /v1/webhooks",
        "PATCH /v1/webhooks/{id}",
        "GET /v1/webhooks/{id}",
        "GET /v1/subscriptions/{id}",
        "PUT /v1/subscriptions/{id}",
    ),
    ("POST /v1/subscriptions",),
    ("DELETE /v1/subscriptions/{id}",),
    ("DELETE /v1/webhooks/{id}",),
)


class FloorClient:
    """A raw client on its own merchant account, keeping the ids it made for later steps."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base = base_url.rstrip("/")
        self.credentials = (client_id, client_secret)
        self.local = threading.local()
        self.token = ""
        self.event_id = ""
        self.webhooks: list[str] = []
        self.subscriptions: list[str] = []
        self.lock = threading.Lock()
        self.counter = itertools.count()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, path: str, **kw: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.session().request(method, self.base + path, headers=headers, timeout=60, **kw)

    def prepare(self) -> None:
        self.fetch_token()
        self.event_id = self.call("GET", "/v1/events").json()["events"][0]["id"]

    def fetch_token(self) -> None:
        response = self.session().post(
            self.base + "/oauth/token", auth=self.credentials, data={"grant_type": "client_credentials"}, timeout=60
        )
        self.token = response.json()["access_token"]

    def action(self, route: str) -> Callable[[], object]:
        n = next(self.counter)
        actions: dict[str, Callable[[], object]] = {
            "POST /oauth/token": self.fetch_token,
            "GET /v1/events": lambda: self.call("GET", "/v1/events"),
            "GET /v1/webhooks": lambda: self.call("GET", "/v1/webhooks", params={"size": 100}),
            "GET /v1/subscriptions": lambda: self.call("GET", "/v1/subscriptions", params={"size": 100}),
            "POST /v1/webhooks": lambda: self._create_webhook(n),
            "POST /v1/subscriptions": lambda: self._create_subscription(n),
            "PATCH /v1/webhooks/{id}": lambda: self.call(
                "PATCH", f"/v1/webhooks/{self._pick(self.webhooks, n)}", data={"secret": f"floor-{n}"}
            ),
            "GET /v1/webhooks/{id}": lambda: self.call("GET", f"/v1/webhooks/{self._pick(self.webhooks, n)}"),
            "GET /v1/subscriptions/{id}": lambda: self.call(
                "GET", f"/v1/subscriptions/{self._pick(self.subscriptions, n)}"
            ),
            "PUT /v1/subscriptions/{id}": lambda: self.call(
                "PUT", f"/v1/subscriptions/{self._pick(self.subscriptions, n)}", data={"filter": ""}
            ),
            "DELETE /v1/subscriptions/{id}": lambda: self.call(
                "DELETE", f"/v1/subscriptions/{self._take(self.subscriptions)}"
            ),
            "DELETE /v1/webhooks/{id}": lambda: self.call("DELETE", f"/v1/webhooks/{self._take(self.webhooks)}"),
        }
        return actions[route]

    def _create_webhook(self, n: int) -> None:
        body = self.call(
            "POST", "/v1/webhooks", data={"payload_url": f"https://floor.example.com/{n}", "secret": f"floor-{n}"}
        ).json()
        with self.lock:
            self.webhooks.append(body["webhook"]["id"])

    def _create_subscription(self, n: int) -> None:
        hook = self._pick(self.webhooks, n)
        body = self.call("POST", "/v1/subscriptions", data={"webhook_id": hook, "event_id": self.event_id}).json()
        with self.lock:
            self.subscriptions.append(body["subscription"]["id"])

    def _pick(self, ids: list[str], n: int) -> str:
        with self.lock:
            return ids[n % len(ids)]

    def _take(self, ids: list[str]) -> str:
        with self.lock:
            return ids.pop()


def replay(client: FloorClient, routes: Counter[str], threads: int = THREADS) -> float:
    """Send `routes` (route -> count) in dependency phases, `threads` at a time; return the seconds taken."""
    unknown = set(routes) - {r for phase in PHASES for r in phase}
    if unknown:
        raise ValueError(f"no floor action for {sorted(unknown)}")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for phase in PHASES:
            work = [client.action(route) for route in phase for _ in range(routes.get(route, 0))]
            for future in [pool.submit(action) for action in work]:
                future.result()
    return time.perf_counter() - started
