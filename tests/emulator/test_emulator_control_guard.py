"""The control plane's protections: a loopback Host, JSON writes, no cross-origin callers, and a control
token that guards everything once one is set (it must be, on a non-loopback address)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests

from mypos_emulator import DEMO_CLIENT_ID, Emulator

if TYPE_CHECKING:
    from conftest import Control

TOKEN = "control-token-for-tests-0123456789"
WRITES = [
    ("POST", "/_emulator/reset"),
    ("POST", "/_emulator/accounts"),
    ("PUT", "/_emulator/settings"),
    ("POST", "/_emulator/events"),
    ("DELETE", "/_emulator/faults"),
]


def raw(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One request with exactly these headers (requests would add or rewrite some)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def loopback_host(emulator: Emulator) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{emulator.port}"}


@pytest.fixture
def guarded() -> Iterator[Emulator]:
    with Emulator(control_token=TOKEN) as emulator:
        yield emulator


# Host


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "192.0.2.1", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused(emulator: Emulator, host: str) -> None:
    status, body = raw(emulator.url, "GET", "/_emulator/state", {"Host": host})

    assert status == 403
    assert b"loopback" in body


def test_a_request_without_a_host_header_is_refused(emulator: Emulator) -> None:
    status, _ = raw(emulator.url, "GET", "/_emulator/health", {})

    assert status == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "127.0.0.2"])
def test_loopback_host_headers_are_accepted(emulator: Emulator, host: str) -> None:
    status, _ = raw(emulator.url, "GET", "/_emulator/health", {"Host": host.format(port=emulator.port)})

    assert status == 200


def test_a_foreign_host_reads_no_secret_from_state(emulator: Emulator, control: Control) -> None:
    status, body = raw(emulator.url, "GET", "/_emulator/state", {"Host": "rebound.example"})

    assert status == 403
    assert b"DEMOCLIENTSECRET" not in body and b"webhooks" not in body


def test_the_api_itself_answers_any_host(emulator: Emulator) -> None:
    status, _ = raw(emulator.url, "GET", "/v1/events", {"Host": "webhook-api.example"})

    assert status == 401  # the API's own answer (no token), not the control plane's refusal


# JSON writes


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_writes_that_are_not_json_are_refused(emulator: Emulator, method: str, path: str, content_type: str) -> None:
    headers = {**loopback_host(emulator), "Content-Type": content_type}

    status, body = raw(emulator.url, method, path, headers, b'{"client_id": "X", "client_secret": "Y"}')

    assert status == 415
    assert b"application/json" in body


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_without_a_content_type_are_refused(emulator: Emulator, method: str, path: str) -> None:
    status, _ = raw(emulator.url, method, path, loopback_host(emulator))

    assert status == 415


def test_a_form_post_to_reset_resets_nothing(emulator: Emulator, control: Control) -> None:
    control.add_account("KEPT", "SECRET")
    control.update_settings(latency=0.01)
    headers = {**loopback_host(emulator), "Content-Type": "application/x-www-form-urlencoded"}

    raw(emulator.url, "POST", "/_emulator/reset", headers, b"")

    assert control.ok("GET", "/settings")["latency"] == 0.01


def test_a_text_plain_post_adds_no_account(emulator: Emulator, control: Control) -> None:
    headers = {**loopback_host(emulator), "Content-Type": "text/plain"}

    raw(emulator.url, "POST", "/_emulator/accounts", headers, b'{"client_id": "INTRUDER", "client_secret": "S"}')

    assert "INTRUDER" not in control.ok("GET", "/accounts")["accounts"]


def test_json_with_a_charset_is_accepted(emulator: Emulator) -> None:
    headers = {**loopback_host(emulator), "Content-Type": "application/json; charset=utf-8"}

    status, _ = raw(emulator.url, "POST", "/_emulator/reset", headers)

    assert status == 200


# Origin


def test_a_cross_origin_request_is_refused(emulator: Emulator) -> None:
    headers = {**loopback_host(emulator), "Content-Type": "application/json", "Origin": "https://evil.example"}

    status, body = raw(emulator.url, "POST", "/_emulator/reset", headers)

    assert status == 403
    assert b"origin" in body.lower()


def test_a_same_origin_request_is_accepted(emulator: Emulator) -> None:
    origin = f"http://127.0.0.1:{emulator.port}"
    headers = {**loopback_host(emulator), "Content-Type": "application/json", "Origin": origin}

    status, _ = raw(emulator.url, "POST", "/_emulator/reset", headers)

    assert status == 200


# Control token


def test_with_a_token_a_request_without_it_is_refused(guarded: Emulator) -> None:
    status, body = raw(guarded.url, "GET", "/_emulator/health", loopback_host(guarded))

    assert status == 401
    assert TOKEN.encode() not in body


def test_with_a_token_a_wrong_one_is_refused(guarded: Emulator) -> None:
    headers = {**loopback_host(guarded), "Authorization": "Bearer " + TOKEN[:-1] + "X"}

    status, _ = raw(guarded.url, "GET", "/_emulator/health", headers)

    assert status == 401


def test_with_a_token_the_right_one_is_accepted_from_any_host(guarded: Emulator) -> None:
    headers = {"Host": "emulator.internal:8787", "Authorization": f"Bearer {TOKEN}"}

    status, _ = raw(guarded.url, "GET", "/_emulator/health", headers)

    assert status == 200


def test_with_a_token_writes_still_need_json(guarded: Emulator) -> None:
    headers = {**loopback_host(guarded), "Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}

    status, _ = raw(guarded.url, "POST", "/_emulator/reset", headers)

    assert status == 415


def test_with_a_token_the_api_needs_none(guarded: Emulator) -> None:
    status, _ = raw(guarded.url, "GET", "/v1/events", loopback_host(guarded))

    assert status == 401  # the API's own bearer check, which the control token does not replace


def test_a_non_loopback_address_without_a_token_is_refused_before_listening() -> None:
    with pytest.raises(ValueError, match="control token"):
        Emulator(host="0.0.0.0")


def test_a_short_control_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Emulator(control_token="short")


def test_a_control_token_with_spaces_is_refused() -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        Emulator(control_token="a token with spaces inside")


def test_an_emulator_on_all_interfaces_serves_the_control_plane_with_its_token() -> None:
    with Emulator(host="0.0.0.0", control_token=TOKEN) as emulator:
        url = f"http://127.0.0.1:{emulator.port}/_emulator/accounts"
        session = requests.Session()
        session.trust_env = False
        refused = session.get(url, timeout=5)
        accepted = session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)

    assert refused.status_code == 401
    assert accepted.json() == {"accounts": [DEMO_CLIENT_ID]}


# The dashboard's session: the token once in the URL, then an HttpOnly cookie


def test_the_token_in_the_dashboard_url_sets_a_strict_httponly_cookie(guarded: Emulator) -> None:
    answer = requests.get(f"{guarded.url}/_emulator/ui?token={TOKEN}", allow_redirects=False, timeout=5)

    cookie = answer.headers["Set-Cookie"]
    assert answer.status_code == 303 and answer.headers["Location"] == "/_emulator/ui"
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_emulator" in cookie
    assert TOKEN not in cookie


def test_the_session_cookie_opens_the_control_plane(guarded: Emulator) -> None:
    session = requests.Session()
    session.trust_env = False
    session.get(f"{guarded.url}/_emulator/ui?token={TOKEN}", allow_redirects=False, timeout=5)

    assert session.get(f"{guarded.url}/_emulator/health", timeout=5).status_code == 200


def test_a_wrong_token_in_the_dashboard_url_sets_no_cookie(guarded: Emulator) -> None:
    answer = requests.get(f"{guarded.url}/_emulator/ui?token=not-the-token-at-all", allow_redirects=False, timeout=5)

    assert answer.status_code == 401 and "Set-Cookie" not in answer.headers


def test_the_token_in_any_other_url_is_not_accepted(guarded: Emulator) -> None:
    answer = requests.get(f"{guarded.url}/_emulator/state?token={TOKEN}", timeout=5)

    assert answer.status_code == 401


def test_a_forged_session_cookie_is_refused(guarded: Emulator) -> None:
    answer = requests.get(f"{guarded.url}/_emulator/health", cookies={"mypos_emulator_session": "0" * 64}, timeout=5)

    assert answer.status_code == 401
