"""POST /_emulator/resend and Emulator.resend: a recorded attempt's exact body sent again, newly signed as every
delivery is, and recorded as one more attempt of the same delivery. A control-plane write like any other."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from mypos_emulator import Emulator, ManualClock
from mypos_signature import sign, verify_signature

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "resend-secret-0123456789abcdef"
START = 1_700_000_000


@pytest.fixture
def hook(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    created = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    api.subscribe(created["id"])
    return created


@pytest.fixture
def clocked_hook(clocked_api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    created = clocked_api.create_webhook(payload_url=receiver.url, secret=SECRET)
    clocked_api.subscribe(created["id"])
    return created


def first_attempt(control: Control) -> dict[str, Any]:
    return control.emit("pos.payment.completed", wait=True)["notifications"][0]


def resend(control: Control, attempt_id: str) -> dict[str, Any]:
    return control.ok("POST", "/resend", json={"attempt_id": attempt_id})["delivery"]


def test_a_resend_sends_the_exact_body_of_the_attempt_again(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    original = first_attempt(control)
    sent_first = receiver.next().body

    resend(control, original["id"])

    assert receiver.next().body == sent_first


def test_a_resend_is_signed_anew_as_every_delivery_is(
    clocked_control: Control, clock: ManualClock, receiver: Receiver, clocked_hook: dict[str, Any]
) -> None:
    original = first_attempt(clocked_control)
    receiver.next()
    clock.advance(90)

    resend(clocked_control, original["id"])

    got = receiver.next()
    assert got.headers["X-myPOS-Signature"] == sign(got.body, SECRET, timestamp=START + 90)
    assert verify_signature(got.body, got.headers, SECRET).timestamp == START + 90


def test_a_resend_is_one_more_attempt_of_the_same_delivery(control: Control, hook: dict[str, Any]) -> None:
    original = first_attempt(control)
    (delivery,) = control.ok("GET", "/deliveries")["deliveries"]

    again = resend(control, original["id"])

    assert (again["delivery_id"], again["attempt"], again["resent_from"]) == (
        delivery["delivery_id"],
        2,
        original["id"],
    )
    assert again["id"] != original["id"]


def test_a_resend_answers_how_the_receiver_took_it(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    original = first_attempt(control)
    receiver.answer_with(418)

    again = resend(control, original["id"])

    assert (again["response_code"], again["delivered"]) == (418, False)


def test_a_failed_resend_is_not_retried(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    control.settings(delivery_retry_delays=[0.05])
    original = first_attempt(control)
    receiver.next()
    receiver.answer_with(500)

    again = resend(control, original["id"])

    receiver.next()
    assert again["next_retry_at"] is None
    assert receiver.nothing_within(0.3)


def test_a_resend_goes_to_the_webhooks_current_url(
    api: ApiClient, control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    original = first_attempt(control)
    receiver.next()
    api.patch(f"/webhooks/{hook['id']}", data={"payload_url": receiver.url + "/moved"})

    resend(control, original["id"])

    assert receiver.next().path == "/hook/moved"


def test_a_resend_reaches_an_inactive_webhook_as_an_explicit_request(
    api: ApiClient, control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    original = first_attempt(control)
    receiver.next()
    api.patch(f"/webhooks/{hook['id']}", data={"is_active": "false"})

    resend(control, original["id"])

    assert json.loads(receiver.next().body)["id"] == original["payload"]["id"]


def test_a_resend_shows_in_the_public_notification_record_as_a_retry(
    api: ApiClient, control: Control, hook: dict[str, Any]
) -> None:
    original = first_attempt(control)

    resend(control, original["id"])

    notes = api.get("/notifications").json()["notifications"]
    assert [note["retry_count"] for note in notes] == [0, 1]
    assert notes[0]["payload"] == notes[1]["payload"]


def test_resending_an_unknown_attempt_is_a_404(control: Control) -> None:
    answer = control.call("POST", "/resend", json={"attempt_id": "no-such-attempt"})

    assert answer.status_code == 404
    assert answer.json()["field"] == "attempt_id"


def test_resending_without_an_attempt_id_is_a_400(control: Control) -> None:
    answer = control.call("POST", "/resend", json={})

    assert (answer.status_code, answer.json()["field"]) == (400, "attempt_id")


def test_resending_to_a_deleted_webhook_is_a_409(api: ApiClient, control: Control, hook: dict[str, Any]) -> None:
    original = first_attempt(control)
    api.delete(f"/webhooks/{hook['id']}")

    answer = control.call("POST", "/resend", json={"attempt_id": original["id"]})

    assert answer.status_code == 409


def test_resend_is_refused_from_another_origin(emulator: Emulator, control: Control, hook: dict[str, Any]) -> None:
    original = first_attempt(control)

    answer = control.call(
        "POST", "/resend", json={"attempt_id": original["id"]}, headers={"Origin": "http://evil.example"}
    )

    assert answer.status_code == 403


def test_resend_is_refused_under_a_foreign_host(emulator: Emulator, control: Control, hook: dict[str, Any]) -> None:
    original = first_attempt(control)

    answer = control.call("POST", "/resend", json={"attempt_id": original["id"]}, headers={"Host": "rebound.example"})

    assert answer.status_code == 403


def test_resend_is_refused_as_a_form_post(emulator: Emulator, control: Control, hook: dict[str, Any]) -> None:
    original = first_attempt(control)

    answer = requests.post(f"{emulator.url}/_emulator/resend", data={"attempt_id": original["id"]}, timeout=10)

    assert answer.status_code == 415


# The Python API


def test_emulator_resend_answers_the_new_attempt(emulator: Emulator, receiver: Receiver, hook: dict[str, Any]) -> None:
    original = emulator.emit_event("pos.payment.completed")["notifications"][0]

    again = emulator.resend(original["id"])

    assert (again["attempt"], again["resent_from"], again["response_code"]) == (2, original["id"], 200)


def test_emulator_resend_of_an_unknown_attempt_raises_lookup_error(emulator: Emulator) -> None:
    with pytest.raises(LookupError, match="no-such-attempt"):
        emulator.resend("no-such-attempt")


def test_emulator_resend_to_a_deleted_webhook_raises_value_error(
    emulator: Emulator, api: ApiClient, hook: dict[str, Any]
) -> None:
    original = emulator.emit_event("pos.payment.completed")["notifications"][0]
    api.delete(f"/webhooks/{hook['id']}")

    with pytest.raises(ValueError, match="gone"):
        emulator.resend(original["id"])
