"""Secrets never reach an error message, whatever a server (or a proxy in front of it) echoes back.

Real servers on loopback answer every request with an error that repeats what they received."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from mypos_provider.client import Credentials, MyPOSClient, MyPOSError, RetryPolicy
from mypos_provider.client.redaction import REDACTED, SecretRedactor, basic_credentials

FAST = RetryPolicy(max_retries=0, timeout=2, connect_timeout=2, backoff_factor=0.01)
CLIENT_ID = "echo-client-id-000000001"
CLIENT_SECRET = "echo+client/secret&value=00000000000000000000001"
WEBHOOK_SECRET = "wh+sec/ret&x=y z%41"


class Echo(http.server.ThreadingHTTPServer):
    """Answers /oauth/token with a token (or `token_status` and an echo), every other path with 400 and an echo."""

    def __init__(self, *, token: str = "T0KEN0000000000000000000000000000000000000", token_status: int = 200):
        self.token, self.token_status = token, token_status
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        echo = f"{self.command} {self.path} {body} Authorization: {self.headers.get('Authorization')}"
        if self.path == "/oauth/token" and self.server.token_status == 200:
            self._send(200, {"access_token": self.server.token, "token_type": "Bearer", "expires_in": 60})
        elif self.path == "/oauth/token":
            self._send(self.server.token_status, {"error": "access_denied", "error_description": echo})
        else:
            self._send(400, {"error": echo, "message": f"rejected: {echo}", "field": body[:40], "detail": echo})

    def _send(self, status: int, document: dict[str, object]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.shutdown()


def client_of(server: Echo) -> MyPOSClient:
    return MyPOSClient.connect(
        api_url=server.url + "/v1", auth_url=server.url, credentials=Credentials(CLIENT_ID, CLIENT_SECRET), retry=FAST
    )


def every_spelling(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()]


def failure_text(action) -> str:
    with pytest.raises(MyPOSError) as failure:
        action()
    return str(failure.value)


def test_an_echoed_webhook_secret_is_redacted_in_every_encoding_and_every_field(echo):
    client = client_of(echo)

    text = failure_text(
        lambda: client.create_webhook("https://shop.example.com/cb", WEBHOOK_SECRET, look_up=lambda: None)
    )

    assert REDACTED in text
    assert not [form for form in every_spelling(WEBHOOK_SECRET) if form in text]


def test_the_bearer_token_echoed_in_an_error_is_redacted(echo):
    text = failure_text(lambda: client_of(echo).get_webhook("some-id"))

    assert echo.token not in text and REDACTED in text


def test_a_token_endpoint_echoing_the_basic_header_does_not_print_the_client_credentials():
    server = Echo(token_status=403)
    try:
        text = failure_text(lambda: client_of(server).tokens.token())
    finally:
        server.shutdown()

    assert basic_credentials(CLIENT_ID, CLIENT_SECRET) not in text
    assert not [form for form in every_spelling(CLIENT_SECRET) if form in text]


def test_a_token_with_a_line_break_is_refused_in_one_line_before_any_use():
    server = Echo(token="T0KEN\r\nX-Injected: yes")
    try:
        text = failure_text(lambda: list(client_of(server).iter_webhooks()))
    finally:
        server.shutdown()

    assert "characters outside the token alphabet" in text and "\n" not in text


def test_the_redactor_knows_a_secret_by_every_spelling_on_the_wire():
    redactor = SecretRedactor([WEBHOOK_SECRET])

    assert all(redactor.redact(f"<{form}>") == f"<{REDACTED}>" for form in every_spelling(WEBHOOK_SECRET))


def test_the_redactor_removes_the_longer_of_two_overlapping_secrets_whole():
    assert SecretRedactor(["abcd", "abcdefgh"]).redact("x abcdefgh y") == f"x {REDACTED} y"
