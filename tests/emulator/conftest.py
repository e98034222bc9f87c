"""Fixtures for the emulator contract tests: real HTTP clients and a tiny stdlib webhook receiver (the
emulator itself is the suite-wide fixture of tests/conftest.py). Nothing here mocks HTTP."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from harness.emulator import EmulatorControl
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator, ManualClock

OTHER_CLIENT_ID = "OTHERCLIENTID00000000002"
OTHER_CLIENT_SECRET = "OTHERCLIENTSECRET0000000000000000000000000000002"
PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"
TIMEOUT = 10


class ApiClient:
    """A merchant: one credentials pair, a bearer token and a keep-alive session against the emulator."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = requests.Session()
        self.session.trust_env = False  # never route loopback through a developer's proxy

    def request_token(self, **form: str) -> requests.Response:
        data = {"grant_type": "client_credentials", **form}
        return self.session.post(
            f"{self.base_url}/oauth/token", auth=(self.client_id, self.client_secret), data=data, timeout=TIMEOUT
        )

    def login(self, scope: str | None = "webhooks") -> str:
        answer = self.request_token(**({"scope": scope} if scope else {}))
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, f"{self.base_url}/v1{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def create_webhook(
        self, payload_url: str = "https://merchant.example/hook", secret: str = "s3cret"
    ) -> dict[str, Any]:
        answer = self.post("/webhooks", data={"payload_url": payload_url, "secret": secret})
        assert answer.status_code == 200, answer.text
        return answer.json()["webhook"]

    def subscribe(
        self, webhook_id: str | None, event_id: str = PAYMENT_COMPLETED_ID, tids: list[str] | None = None
    ) -> dict[str, Any]:
        form = {"event_id": event_id}
        if webhook_id is not None:
            form["webhook_id"] = webhook_id
        if tids is not None:
            form["filter"] = json.dumps({"tids": tids})
        answer = self.post("/subscriptions", data=form)
        assert answer.status_code == 200, answer.text
        return answer.json()["subscription"]


class Control(EmulatorControl):
    """The control plane as the contract tests use it: each helper returns what the emulator answered."""

    def settings(self, **changes: Any) -> dict[str, Any]:
        return self.ok("PUT", "/settings", json=changes)

    def faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        return self.ok("PUT", "/faults", json={"rules": list(rules)})["rules"]

    def state(self, client_id: str = DEMO_CLIENT_ID) -> dict[str, Any]:
        return self.ok("GET", "/state")["accounts"][client_id]

    def emit(self, event: str, **options: Any) -> dict[str, Any]:
        """Unlike the engine tests, contract tests choose `wait` themselves (deliveries are their subject)."""
        return self.ok("POST", "/events", json={"event": event, **options})


@dataclass
class Received:
    path: str
    headers: CaseInsensitiveDict[str]
    header_names: list[str]  # as spelled on the wire
    body: bytes


class Receiver:
    """A webhook endpoint on loopback that records each POST and answers with scripted statuses."""

    def __init__(self) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        self.statuses: list[int] = []
        self.default_status = 200
        self.extra_headers: dict[str, str] = {}
        self.answer_body = b""  # what every answer says
        self.delay = 0.0  # seconds to work on a request (read whole) before answering
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def answer_with(self, *statuses: int, then: int = 200) -> None:
        self.statuses = list(statuses)
        self.default_status = then

    def next(self, timeout: float = 5) -> Received:
        return self.received.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.received.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _status(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.default_status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = CaseInsensitiveDict(dict(self.headers.items()))
                receiver.received.put(Received(self.path, headers, list(self.headers.keys()), body))
                time.sleep(receiver.delay)
                status = receiver._status()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url + "/moved")
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the emulator stopped waiting
                    self.end_headers()
                    self.wfile.write(receiver.answer_body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def control(emulator: Emulator) -> Control:
    return Control(emulator.url)


def logged_in(base_url: str, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET) -> ApiClient:
    """A client of the emulator at `base_url` holding a token (of the demo account unless told)."""
    client = ApiClient(base_url, client_id, client_secret)
    client.login()
    return client


@pytest.fixture
def api(emulator: Emulator) -> ApiClient:
    return logged_in(emulator.url)


@pytest.fixture
def new_demo_client(emulator: Emulator) -> Callable[[], ApiClient]:
    """Builds extra logged-in demo-account clients, e.g. one per thread (sessions are not thread-safe)."""
    return lambda: logged_in(emulator.url)


@pytest.fixture
def api_client_for() -> Callable[[str], ApiClient]:
    """Logged-in demo-account clients of emulators a test starts itself."""
    return logged_in


@pytest.fixture
def other_api(emulator: Emulator, control: Control) -> ApiClient:
    control.add_account(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)
    return logged_in(emulator.url, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)


@pytest.fixture
def clock() -> ManualClock:
    """Emulated time that moves only when a test advances it: expiry and retries without sleeping."""
    return ManualClock()


@pytest.fixture
def clocked_emulator(clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(port=0, clock=clock) as emu:
        yield emu


@pytest.fixture
def clocked_control(clocked_emulator: Emulator) -> Control:
    return Control(clocked_emulator.url)


@pytest.fixture
def clocked_api(clocked_emulator: Emulator) -> ApiClient:
    return logged_in(clocked_emulator.url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()
