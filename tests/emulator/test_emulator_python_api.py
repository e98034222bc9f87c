"""The in-process handle: Emulator(...), start/stop/reset, context manager, address properties."""

from __future__ import annotations

import re

import pytest
import requests

from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator, EmulatorSettings

FORM = {"grant_type": "client_credentials"}


def test_start_returns_the_emulator_for_chaining() -> None:
    emulator = Emulator()

    assert emulator.start() is emulator
    emulator.stop()


def test_addresses_share_one_port() -> None:
    with Emulator().start() as emulator:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.url)
        assert emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.auth_url == emulator.url
        assert emulator.api_url == emulator.url + "/v1"


def test_with_block_starts_and_stops_the_server() -> None:
    with Emulator() as emulator:
        url = emulator.url
        assert requests.post(f"{url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=FORM, timeout=5).ok

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_emulator/health", timeout=2)


def test_stop_twice_is_harmless() -> None:
    emulator = Emulator().start()
    emulator.stop()

    emulator.stop()


def test_serves_as_soon_as_start_returns() -> None:
    emulator = Emulator().start()
    try:
        answer = requests.get(f"{emulator.url}/_emulator/health", timeout=5)
    finally:
        emulator.stop()

    assert answer.status_code == 200


def test_accounts_replace_the_demo_account() -> None:
    with Emulator(accounts={"ACME": "ACMESECRET"}) as emulator:
        acme = requests.post(f"{emulator.url}/oauth/token", auth=("ACME", "ACMESECRET"), data=FORM, timeout=5)
        demo = requests.post(
            f"{emulator.url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=FORM, timeout=5
        )

    assert (acme.status_code, demo.status_code) == (200, 401)


def test_settings_argument_configures_the_emulator() -> None:
    with Emulator(settings=EmulatorSettings(token_lifetime=42)) as emulator:
        answer = requests.post(
            f"{emulator.url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=FORM, timeout=5
        )

    assert answer.json()["expires_in"] == 42


def test_invalid_settings_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="event_naming"):
        EmulatorSettings(event_naming="us")


def test_reset_method_empties_the_state() -> None:
    with Emulator() as emulator:
        emulator.update_settings(create_status=201)
        token = requests.post(
            f"{emulator.url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=FORM, timeout=5
        ).json()["access_token"]
        requests.post(
            f"{emulator.api_url}/webhooks",
            data={"payload_url": "https://a.example/h", "secret": "s"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )

        emulator.reset()

        assert emulator.state()["accounts"][DEMO_CLIENT_ID]["webhooks"] == []
        assert emulator.settings.create_status == 200


def test_two_emulators_run_side_by_side() -> None:
    with Emulator() as first, Emulator() as second:
        assert first.port != second.port
        assert requests.get(f"{second.url}/_emulator/health", timeout=5).json() == {"status": "ok"}
