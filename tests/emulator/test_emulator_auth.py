"""Auth API: /oauth/token, /oauth/revoke, and how the Webhook API treats tokens."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import requests

from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator, ManualClock

if TYPE_CHECKING:
    from conftest import ApiClient, Control


def test_token_response_has_oauth_shape_and_opaque_42_char_token(api: ApiClient) -> None:
    answer = api.request_token(scope="webhooks")

    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert len(body["access_token"]) == 42 and body["access_token"].isalnum()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "webhooks"


def test_token_response_omits_scope_when_none_was_requested(api: ApiClient) -> None:
    body = api.request_token().json()

    assert "scope" not in body


def test_token_lifetime_setting_sets_expires_in(api: ApiClient, control: Control) -> None:
    control.settings(token_lifetime=120)

    assert api.request_token().json()["expires_in"] == 120


def test_wrong_secret_is_invalid_client(emulator: Emulator) -> None:
    answer = requests.post(
        f"{emulator.url}/oauth/token",
        auth=(DEMO_CLIENT_ID, "wrong"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client"}


def test_unknown_client_is_invalid_client(emulator: Emulator) -> None:
    answer = requests.post(
        f"{emulator.url}/oauth/token",
        auth=("NOBODY", DEMO_CLIENT_SECRET),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client"}


def test_missing_basic_auth_is_invalid_client(emulator: Emulator) -> None:
    answer = requests.post(f"{emulator.url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=5)

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client"}


def test_semicolon_separated_credentials_are_rejected(emulator: Emulator) -> None:
    encoded = base64.b64encode(f"{DEMO_CLIENT_ID};{DEMO_CLIENT_SECRET}".encode()).decode()
    answer = requests.post(
        f"{emulator.url}/oauth/token",
        headers={"Authorization": f"Basic {encoded}"},
        data={"grant_type": "client_credentials"},
        timeout=5,
    )

    assert answer.status_code == 401


def test_other_grant_types_are_unsupported(api: ApiClient) -> None:
    answer = api.request_token(grant_type="authorization_code")

    assert answer.status_code == 400
    assert answer.json() == {"error": "unsupported_grant_type"}


def test_webhook_api_without_token_is_401_invalid_token(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.api_url}/webhooks", timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_unknown_token_is_401_invalid_token(emulator: Emulator) -> None:
    bogus = {"Authorization": "Bearer " + "x" * 42}
    answer = requests.get(f"{emulator.api_url}/webhooks", headers=bogus, timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"
    assert answer.json()["message"]


def test_token_stops_working_after_its_lifetime(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock
) -> None:
    clocked_control.settings(token_lifetime=1.5)
    clocked_api.login()
    assert clocked_api.get("/webhooks").status_code == 200

    clock.advance(1.6)
    answer = clocked_api.get("/webhooks")

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_token_works_until_its_lifetime_ends(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock
) -> None:
    clocked_control.settings(token_lifetime=1.5)
    clocked_api.login()

    clock.advance(1.4)

    assert clocked_api.get("/webhooks").status_code == 200


def test_control_plane_expires_every_issued_token(api: ApiClient, control: Control) -> None:
    control.ok("POST", "/tokens/expire")

    assert api.get("/webhooks").status_code == 401


def test_a_new_token_works_after_expiry(api: ApiClient, control: Control) -> None:
    control.ok("POST", "/tokens/expire")

    api.login()

    assert api.get("/webhooks").status_code == 200


def test_revoked_token_is_rejected(api: ApiClient) -> None:
    token = api.session.headers["Authorization"].split()[1]

    answer = api.session.post(
        f"{api.base_url}/oauth/revoke",
        auth=(api.client_id, api.client_secret),
        data={"token": token, "token_type_hint": "access_token"},
        timeout=5,
    )

    assert answer.status_code == 200 and answer.content == b""
    assert api.get("/webhooks").status_code == 401


def test_revoking_another_clients_token_leaves_it_working(api: ApiClient, other_api: ApiClient) -> None:
    token = api.session.headers["Authorization"].split()[1]

    answer = other_api.session.post(
        f"{other_api.base_url}/oauth/revoke",
        auth=(other_api.client_id, other_api.client_secret),
        data={"token": token},
        timeout=5,
    )

    assert answer.status_code == 200
    assert api.get("/webhooks").status_code == 200


def test_revoke_with_bad_credentials_is_invalid_client(api: ApiClient) -> None:
    answer = requests.post(
        f"{api.base_url}/oauth/revoke", auth=(DEMO_CLIENT_ID, "wrong"), data={"token": "x"}, timeout=5
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client"}


def test_require_scope_rejects_tokens_without_webhooks_scope(api: ApiClient, control: Control) -> None:
    control.settings(require_scope=True)
    api.login(scope=None)

    assert api.get("/webhooks").status_code == 401


def test_require_scope_accepts_tokens_with_webhooks_scope(api: ApiClient, control: Control) -> None:
    control.settings(require_scope=True)
    api.login(scope="webhooks")

    assert api.get("/webhooks").status_code == 200
