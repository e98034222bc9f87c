"""Deliveries: signed JSON POSTs verified by an independent HMAC, filters, retries, notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"
SECRET = "Um6OcCJkN6tOXzUOOmcCyvOcKNFkuNpz"
NOTIFICATION_KEYS = {
    "id",
    "event",
    "payload",
    "sent_on",
    "response_code",
    "retry_count",
    "url",
    "webhook_id",
    "subscription_id",
}


def parse_signature(header: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in header.split(","))


def hmac_hex(message: bytes) -> str:
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class World:
    """A merchant with one webhook pointing at a live receiver, plus the control plane."""

    api: ApiClient
    control: Control
    receiver: Receiver
    hook: dict[str, Any]

    def wait_for_notifications(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            notes = self.api.get("/notifications").json()["notifications"]
            if len(notes) >= count:
                return notes
            time.sleep(0.02)
        raise AssertionError(f"fewer than {count} notifications after {timeout} s")


@pytest.fixture
def world(api: ApiClient, control: Control, receiver: Receiver) -> World:
    return World(api, control, receiver, api.create_webhook(payload_url=receiver.url, secret=SECRET))


@pytest.fixture
def fast_retries(control: Control) -> None:
    control.settings(delivery_retry_delays=[0.05, 0.05])


def test_delivery_posts_json_with_event_and_signature_headers(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    got = world.receiver.next()
    assert got.path == "/hook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-myPOS-Event"] == "pos.payment.completed"
    assert set(parse_signature(got.headers["X-myPOS-Signature"])) == {"t", "v1"}


def test_delivery_header_names_keep_myposs_spelling_on_the_wire(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    assert {"X-myPOS-Event", "X-myPOS-Signature"} <= set(world.receiver.next().header_names)


def test_default_signature_is_hmac_sha256_hex_of_the_raw_compact_body(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    got = world.receiver.next()
    signature = parse_signature(got.headers["X-myPOS-Signature"])
    assert signature["v1"] == hmac_hex(got.body)
    assert got.body == json.dumps(json.loads(got.body), separators=(",", ":")).encode()
    assert abs(int(signature["t"]) - time.time()) < 10


def test_t_dot_body_scheme_signs_timestamp_dot_body(world: World) -> None:
    world.control.settings(signing_scheme="t.body")
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    got = world.receiver.next()
    signature = parse_signature(got.headers["X-myPOS-Signature"])
    assert signature["v1"] == hmac_hex(signature["t"].encode() + b"." + got.body)
    assert signature["v1"] != hmac_hex(got.body)


def test_python_default_body_style_signs_the_compact_form_of_a_spaced_body(world: World) -> None:
    world.control.settings(body_style="python-default")
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    got = world.receiver.next()
    compact = json.dumps(json.loads(got.body), separators=(",", ":")).encode()
    signature = parse_signature(got.headers["X-myPOS-Signature"])
    assert got.body == json.dumps(json.loads(got.body)).encode()
    assert b'", "' in got.body
    assert signature["v1"] != hmac_hex(got.body)
    assert signature["v1"] == hmac_hex(compact)


def test_python_default_with_t_dot_body_signs_timestamp_dot_compact(world: World) -> None:
    world.control.settings(body_style="python-default", signing_scheme="t.body")
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    got = world.receiver.next()
    compact = json.dumps(json.loads(got.body), separators=(",", ":")).encode()
    signature = parse_signature(got.headers["X-myPOS-Signature"])
    assert signature["v1"] == hmac_hex(signature["t"].encode() + b"." + compact)


def test_non_ascii_payloads_are_sent_ascii_escaped(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed", payload={"data": {"terminal_id": "90004889", "merchant": "Café"}})

    got = world.receiver.next()
    assert b"Caf\\u00e9" in got.body
    assert parse_signature(got.headers["X-myPOS-Signature"])["v1"] == hmac_hex(got.body)


def test_pos_payload_carries_the_invented_payment_fields(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed", terminal_id="90001234")

    payload = json.loads(world.receiver.next().body)
    assert set(payload) == {"created_on", "data", "event", "id"}
    assert payload["event"] == "pos.payment.completed"
    assert payload["data"]["terminal_id"] == "90001234"
    assert {"payment_reference", "amount", "currency", "pan"} <= set(payload["data"])


def test_emit_with_wait_answers_the_first_attempts(world: World) -> None:
    sub = world.api.subscribe(world.hook["id"])

    answer = world.control.emit("pos.payment.completed")

    (note,) = answer["notifications"]
    assert set(note) == NOTIFICATION_KEYS
    assert (note["response_code"], note["retry_count"], note["url"]) == (200, 0, world.receiver.url)
    assert (note["webhook_id"], note["subscription_id"]) == (world.hook["id"], sub["id"])


def test_terminal_filter_lets_listed_terminals_through(world: World) -> None:
    world.api.subscribe(world.hook["id"], tids=["90004889"])

    answer = world.control.emit("pos.payment.completed", terminal_id="90004889")

    assert len(answer["notifications"]) == 1


def test_terminal_filter_holds_back_other_terminals(world: World) -> None:
    world.api.subscribe(world.hook["id"], tids=["90004889"])

    answer = world.control.emit("pos.payment.completed", terminal_id="90000000")

    assert answer["notifications"] == []
    assert world.receiver.nothing_within(0.2)


def test_terminal_filter_reads_the_terminal_from_an_explicit_payload(world: World) -> None:
    world.api.subscribe(world.hook["id"], tids=["90004889"])

    answer = world.control.emit("pos.payment.completed", payload={"data": {"terminal_id": "90000000"}})

    assert answer["notifications"] == []


def test_account_events_ignore_the_terminal_filter(world: World) -> None:
    world.api.subscribe(world.hook["id"], event_id=TRANSFER_APPROVED_ID, tids=["90004889"])

    answer = world.control.emit("account.out-bank-transfer.approved")

    assert len(answer["notifications"]) == 1


def test_only_subscribed_events_are_delivered(world: World) -> None:
    world.api.subscribe(world.hook["id"], event_id=TRANSFER_APPROVED_ID)

    assert world.control.emit("pos.payment.completed")["notifications"] == []


def test_inactive_webhooks_receive_nothing(world: World) -> None:
    world.api.subscribe(world.hook["id"])
    world.api.patch(f"/webhooks/{world.hook['id']}", data={"is_active": "0"})

    assert world.control.emit("pos.payment.completed")["notifications"] == []


def test_events_reach_only_the_named_account(world: World, other_api: ApiClient) -> None:
    world.api.subscribe(world.hook["id"])
    other_api.subscribe(other_api.create_webhook(payload_url=world.receiver.url, secret="x")["id"])

    answer = world.control.emit("pos.payment.completed", client_id=other_api.client_id)

    assert [note["url"] for note in answer["notifications"]] == [world.receiver.url]
    assert world.api.get("/notifications").json()["pagination"]["total"] == 0


def test_failed_delivery_is_retried_and_every_attempt_recorded(world: World, fast_retries: None) -> None:
    world.receiver.answer_with(500, 503, then=500)
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    notes = world.wait_for_notifications(3)
    assert [(n["retry_count"], n["response_code"]) for n in notes] == [(0, 500), (1, 503), (2, 500)]
    assert len({n["payload"]["id"] for n in notes}) == 1
    for _ in range(3):
        world.receiver.next()
    assert world.receiver.nothing_within(0.2)  # retries stop after the configured schedule


def test_retries_stop_after_the_first_success(world: World, fast_retries: None) -> None:
    world.receiver.answer_with(500, then=204)
    world.api.subscribe(world.hook["id"])

    world.control.emit("pos.payment.completed")

    notes = world.wait_for_notifications(2)
    assert [n["response_code"] for n in notes] == [500, 204]
    world.receiver.next(), world.receiver.next()
    assert world.receiver.nothing_within(0.2)


def test_redirects_count_as_failed_deliveries(world: World, fast_retries: None) -> None:
    world.receiver.answer_with(302, then=200)
    world.api.subscribe(world.hook["id"])

    first = world.control.emit("pos.payment.completed")["notifications"][0]

    assert first["response_code"] == 302
    notes = world.wait_for_notifications(2)
    assert notes[1]["response_code"] == 200
    # Both attempts hit the payload URL; the Location (/hook/moved) is never followed.
    assert [world.receiver.next().path, world.receiver.next().path] == ["/hook", "/hook"]


def test_unreachable_receiver_is_recorded_without_a_response_code(api: ApiClient, control: Control) -> None:
    control.settings(delivery_retry_delays=[])
    hook = api.create_webhook(payload_url="http://127.0.0.1:9/unreachable", secret=SECRET)
    api.subscribe(hook["id"])

    (note,) = control.emit("pos.payment.completed")["notifications"]

    assert note["response_code"] is None


def test_emit_without_wait_delivers_in_the_background(world: World) -> None:
    world.api.subscribe(world.hook["id"])

    answer = world.control.emit("pos.payment.completed", wait=False)

    assert answer["notifications"] == []
    assert world.receiver.next().headers["X-myPOS-Event"] == "pos.payment.completed"


def test_fake_sends_one_event_to_the_subscription_webhook(world: World) -> None:
    sub = world.api.subscribe(world.hook["id"], event_id=TRANSFER_APPROVED_ID)

    answer = world.api.post(f"/subscriptions/{sub['id']}/fake")

    note = answer.json()["notification"]
    assert answer.status_code == 200
    assert set(note) == NOTIFICATION_KEYS
    assert (note["event"], note["response_code"], note["subscription_id"]) == (
        "account.out-bank-transfer.approved",
        200,
        sub["id"],
    )
    got = world.receiver.next()
    assert got.headers["X-myPOS-Event"] == "account.out-bank-transfer.approved"
    assert parse_signature(got.headers["X-myPOS-Signature"])["v1"] == hmac_hex(got.body)


def test_fake_uses_a_terminal_the_filter_allows(world: World) -> None:
    sub = world.api.subscribe(world.hook["id"], tids=["90007777"])

    world.api.post(f"/subscriptions/{sub['id']}/fake")

    assert json.loads(world.receiver.next().body)["data"]["terminal_id"] == "90007777"


def test_notifications_can_be_filtered_by_subscription_and_event(world: World) -> None:
    payments = world.api.subscribe(world.hook["id"])
    world.api.subscribe(world.hook["id"], event_id=TRANSFER_APPROVED_ID)
    world.control.emit("pos.payment.completed")
    world.control.emit("account.out-bank-transfer.approved")

    by_subscription = world.api.get("/notifications", params={"subscription_id": payments["id"]}).json()
    by_event = world.api.get("/notifications", params={"event": "account.out-bank-transfer.approved"}).json()

    assert [n["event"] for n in by_subscription["notifications"]] == ["pos.payment.completed"]
    assert by_event["pagination"]["total"] == 1
    assert world.api.get("/notifications", params={"webhook_id": world.hook["id"]}).json()["pagination"]["total"] == 2


def test_eu_naming_is_used_in_delivery_headers(world: World) -> None:
    world.control.settings(event_naming="eu")
    world.api.subscribe(world.hook["id"], event_id="a96b8eb8-67ca-42b5-ab5f-fdc24011ef72")

    world.control.emit("pos.payment.denied")

    assert world.receiver.next().headers["X-myPOS-Event"] == "pos.payment.denied"
