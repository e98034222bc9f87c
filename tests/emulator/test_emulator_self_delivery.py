"""Deliveries never reach the emulator itself: a webhook aimed at its own control plane (any spelling of
its address) cannot wipe accounts or start a delivery loop; each attempt fails with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mypos_emulator import Emulator

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import ApiClient, Control, Receiver

OWN_ADDRESS_SPELLINGS = [
    "http://127.0.0.1:{port}",
    "http://localhost:{port}",
    "http://127.1:{port}",
    "http://2130706433:{port}",
    "http://0.0.0.0:{port}",
    "http://[::ffff:127.0.0.1]:{port}",
]
CONTROL_TOKEN = "control-token-for-tests-0123456789"


def own_url(spelling: str, emulator: Emulator, path: str) -> str:
    return spelling.format(port=emulator.port) + path


@pytest.fixture
def no_retries(control: Control) -> None:
    control.settings(delivery_retry_delays=[])


@pytest.mark.parametrize("spelling", OWN_ADDRESS_SPELLINGS)
def test_a_webhook_aimed_at_the_emulators_reset_wipes_nothing(
    api: ApiClient, control: Control, emulator: Emulator, other_api: ApiClient, no_retries: None, spelling: str
) -> None:
    hook = api.create_webhook(payload_url=own_url(spelling, emulator, "/_emulator/reset"))
    api.subscribe(hook["id"])

    (note,) = control.emit("pos.payment.completed", wait=True)["notifications"]

    assert note["response_code"] is None
    assert api.get(f"/webhooks/{hook['id']}").status_code == 200  # tokens and objects survive
    assert other_api.get("/webhooks").status_code == 200


@pytest.mark.parametrize("spelling", OWN_ADDRESS_SPELLINGS)
def test_a_refused_self_delivery_records_why(
    api: ApiClient, control: Control, emulator: Emulator, no_retries: None, spelling: str
) -> None:
    hook = api.create_webhook(payload_url=own_url(spelling, emulator, "/_emulator/reset"))
    api.subscribe(hook["id"])

    control.emit("pos.payment.completed", wait=True)

    (delivery,) = control.ok("GET", "/deliveries")["deliveries"]
    assert delivery["response_code"] is None
    assert "the emulator itself" in delivery["error"]


def test_a_webhook_aimed_at_the_emulators_events_starts_no_delivery_loop(
    api: ApiClient, control: Control, emulator: Emulator, no_retries: None
) -> None:
    hook = api.create_webhook(payload_url=own_url("http://127.0.0.1:{port}", emulator, "/_emulator/events"))
    api.subscribe(hook["id"])

    control.emit("pos.payment.completed", wait=True)

    assert api.get("/notifications").json()["pagination"]["total"] == 1


def test_a_webhook_aimed_at_the_emulators_api_is_refused_too(
    api: ApiClient, control: Control, emulator: Emulator, no_retries: None
) -> None:
    hook = api.create_webhook(payload_url=f"{emulator.url}/v1/webhooks")
    api.subscribe(hook["id"])
    control.clear_requests()

    (note,) = control.emit("pos.payment.completed", wait=True)["notifications"]

    assert note["response_code"] is None
    assert control.requests() == []  # the API never saw the attempt


def test_the_sandbox_fake_endpoint_refuses_the_emulators_own_address(
    api: ApiClient, control: Control, emulator: Emulator, no_retries: None
) -> None:
    hook = api.create_webhook(payload_url=f"{emulator.url}/_emulator/reset")
    sub = api.subscribe(hook["id"])

    answer = api.post(f"/subscriptions/{sub['id']}/fake")

    assert answer.json()["notification"]["response_code"] is None
    assert api.get(f"/webhooks/{hook['id']}").status_code == 200


def test_an_emulator_on_all_interfaces_refuses_its_loopback_address(
    api_client_for: Callable[[str], ApiClient],
) -> None:
    with Emulator(host="0.0.0.0", control_token=CONTROL_TOKEN) as emulator:
        base = f"http://127.0.0.1:{emulator.port}"
        api = api_client_for(base)
        hook = api.create_webhook(payload_url=f"{base}/_emulator/reset")
        sub = api.subscribe(hook["id"])

        answer = api.post(f"/subscriptions/{sub['id']}/fake")

        assert answer.json()["notification"]["response_code"] is None
        assert api.get(f"/webhooks/{hook['id']}").status_code == 200


def test_a_receiver_on_another_port_of_the_same_host_still_gets_deliveries(
    api: ApiClient, control: Control, receiver: Receiver, no_retries: None
) -> None:
    hook = api.create_webhook(payload_url=receiver.url)
    api.subscribe(hook["id"])

    (note,) = control.emit("pos.payment.completed", wait=True)["notifications"]

    assert note["response_code"] == 200
