"""GET /_emulator/deliveries: every attempt with what was sent and what came back, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mypos_emulator import ManualClock
from mypos_emulator.sender import HEADER_RECORD_BYTES

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Received, Receiver

START = 1_700_000_000.0


def deliveries(control: Control, **query: str) -> list[dict[str, Any]]:
    return control.ok("GET", "/deliveries", params=query)["deliveries"]


def exactly(count: int, found: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return found if len(found) == count else None


@pytest.fixture
def hook(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    created = api.create_webhook(payload_url=receiver.url)
    api.subscribe(created["id"])
    return created


@pytest.fixture
def sent(control: Control, receiver: Receiver, hook: dict[str, Any]) -> tuple[dict[str, Any], Received]:
    """One attempt, as the emulator recorded it and as the receiver got it."""
    control.emit("pos.payment.completed", wait=True)
    (delivery,) = deliveries(control)
    return delivery, receiver.next()


def test_an_attempt_records_the_signature_header_and_the_exact_body_sent(
    sent: tuple[dict[str, Any], Received],
) -> None:
    delivery, got = sent

    assert delivery["signature"] == got.headers["X-myPOS-Signature"]
    assert delivery["body"].encode() == got.body


def test_an_attempt_records_the_status_and_how_fast_the_receiver_answered(
    control: Control, hook: dict[str, Any]
) -> None:
    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    assert (delivery["response_code"], delivery["delivered"], delivery["attempt"]) == (200, True, 1)
    assert delivery["answered_in_ms"] >= 0 and delivery["error"] is None
    assert delivery["webhook_id"] == hook["id"] and delivery["next_retry_at"] is None


def test_a_failed_attempt_names_when_the_next_one_is_due(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock, receiver: Receiver
) -> None:
    clocked_control.settings(delivery_retry_delays=[30.0])
    receiver.answer_with(503)
    created = clocked_api.create_webhook(payload_url=receiver.url)
    clocked_api.subscribe(created["id"])

    clocked_control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(clocked_control)
    assert (delivery["response_code"], delivery["delivered"]) == (503, False)
    assert delivery["next_retry_at"] == START + 30


def test_the_last_attempt_has_no_next_retry(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    control.settings(delivery_retry_delays=[])
    receiver.answer_with(500)

    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    assert delivery["next_retry_at"] is None


@pytest.fixture
def closed_hook(api: ApiClient, control: Control) -> dict[str, Any]:
    """A webhook where nobody listens, tried once."""
    control.settings(delivery_retry_delays=[])
    created = api.create_webhook(payload_url="http://127.0.0.1:9/closed")
    api.subscribe(created["id"])
    return created


def test_an_attempt_without_an_answer_says_why(control: Control, closed_hook: dict[str, Any]) -> None:
    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    assert (delivery["response_code"], delivery["error"]) == (None, "connection refused")


def test_an_attempt_records_every_request_header_as_it_went_out(sent: tuple[dict[str, Any], Received]) -> None:
    delivery, got = sent

    assert [name for name, _ in delivery["request_headers"]] == got.header_names  # Host and Content-Length too
    assert all(got.headers[name] == value for name, value in delivery["request_headers"])


def test_an_attempt_without_an_answer_still_records_the_request_headers(
    control: Control, closed_hook: dict[str, Any]
) -> None:
    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    assert dict(delivery["request_headers"])["X-myPOS-Signature"] == delivery["signature"]


def test_an_attempt_records_the_receivers_answer_headers(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    receiver.extra_headers = {"X-Receiver-Trace": "trace-42"}

    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    assert ["X-Receiver-Trace", "trace-42"] in delivery["answer_headers"]
    assert ["Content-Length", "0"] in delivery["answer_headers"]


def test_answer_headers_are_kept_only_up_to_a_bound(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    receiver.extra_headers = {f"X-Padding-{n}": "x" * 1000 for n in range(40)}

    control.emit("pos.payment.completed", wait=True)

    (delivery,) = deliveries(control)
    kept = delivery["answer_headers"]
    assert 0 < len(kept) < 40
    assert sum(len(name) + len(value) for name, value in kept) <= HEADER_RECORD_BYTES


def test_the_attempts_of_one_delivery_share_its_delivery_id(
    control: Control, receiver: Receiver, hook: dict[str, Any], wait_until: Any
) -> None:
    control.settings(delivery_retry_delays=[0.05])
    receiver.answer_with(503, then=200)

    control.emit("pos.payment.completed", wait=True)

    second, first = wait_until(lambda: exactly(2, deliveries(control)))
    assert second["delivery_id"] == first["delivery_id"]
    assert (first["attempt"], second["attempt"]) == (1, 2)


def test_each_event_is_a_delivery_of_its_own(control: Control, hook: dict[str, Any]) -> None:
    control.emit("pos.payment.completed", wait=True)
    control.emit("pos.payment.completed", wait=True)

    second, first = deliveries(control)

    assert second["delivery_id"] != first["delivery_id"]
    assert second["payload_id"] != first["payload_id"]


def test_deliveries_come_newest_first(control: Control, hook: dict[str, Any]) -> None:
    first = control.emit("pos.payment.completed", wait=True)["notifications"][0]
    second = control.emit("pos.payment.completed", wait=True)["notifications"][0]

    assert [d["id"] for d in deliveries(control)] == [second["id"], first["id"]]


def test_deliveries_filter_by_webhook(api: ApiClient, control: Control, receiver: Receiver) -> None:
    one, two = api.create_webhook(payload_url=receiver.url), api.create_webhook(payload_url=receiver.url)
    api.subscribe(one["id"]), api.subscribe(two["id"])
    control.emit("pos.payment.completed", wait=True)

    assert [d["webhook_id"] for d in deliveries(control, webhook_id=two["id"])] == [two["id"]]


def test_deliveries_filter_by_outcome(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    control.settings(delivery_retry_delays=[])
    receiver.answer_with(500, then=200)
    control.emit("pos.payment.completed", wait=True)
    control.emit("pos.payment.completed", wait=True)

    failed = deliveries(control, outcome="failed")
    delivered = deliveries(control, outcome="delivered")

    assert [d["response_code"] for d in failed] == [500]
    assert [d["response_code"] for d in delivered] == [200]


def test_deliveries_limit_keeps_the_newest(control: Control, hook: dict[str, Any]) -> None:
    for _ in range(3):
        control.emit("pos.payment.completed", wait=True)

    newest = deliveries(control)[0]

    assert deliveries(control, limit="1") == [newest]


@pytest.mark.parametrize(("name", "value"), [("outcome", "maybe"), ("limit", "0"), ("limit", "many")])
def test_bad_delivery_queries_name_the_parameter(control: Control, name: str, value: str) -> None:
    answer = control.call("GET", "/deliveries", params={name: value})

    assert answer.status_code == 400
    assert answer.json()["field"] == name


def test_the_public_notification_record_keeps_its_shape(api: ApiClient, control: Control, hook: dict[str, Any]) -> None:
    control.emit("pos.payment.completed", wait=True)

    (note,) = api.get("/notifications").json()["notifications"]

    assert "signature" not in note and "body" not in note and "error" not in note
