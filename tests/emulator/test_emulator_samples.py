"""Samples: the invented payloads a sample carries (myPOS documents none), previewed in the dashboard's event
catalogue exactly as they are made; and a sample with a terminal and fields of the caller's choosing
(POST /_emulator/sample's terminal_id and overrides, what `emit --set` sends), which keeps the sample's shape."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from mypos_emulator.catalogue import EVENT_TYPES, OverrideError, apply_overrides, build_payload, example_payload

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "samples-secret-0123456789abcdefg"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"


def sample(control: Control, subscription_id: str, **options: Any) -> dict[str, Any]:
    return control.ok("POST", "/sample", json={"subscription_id": subscription_id, **options})["delivery"]


def refused(control: Control, subscription_id: str, **options: Any) -> dict[str, Any]:
    answer = control.call("POST", "/sample", json={"subscription_id": subscription_id, **options})
    assert answer.status_code == 400, answer.text
    return dict(answer.json())


@pytest.fixture
def payments(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    """A subscription to payments, filtered to two terminals."""
    hook = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    return api.subscribe(hook["id"], tids=["90004889", "90004890"])


@pytest.fixture
def transfers(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    hook = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    return api.subscribe(hook["id"], event_id=TRANSFER_APPROVED_ID)


# The preview


def test_the_catalogue_previews_each_events_sample_payload(control: Control) -> None:
    events = control.ok("GET", "/dashboard")["events"]

    assert [event["sample"]["event"] for event in events] == [event["name"] for event in events]
    assert all(
        event["sample"] == example_payload(type_, "com") for event, type_ in zip(events, EVENT_TYPES, strict=True)
    )


def test_the_preview_has_the_shape_of_the_samples_sent(
    control: Control, receiver: Receiver, payments: dict[str, Any]
) -> None:
    sent = json.loads(sample(control, payments["id"])["body"])

    preview = control.ok("GET", "/dashboard")["events"][0]["sample"]
    assert (sorted(sent), sorted(sent["data"])) == (sorted(preview), sorted(preview["data"]))


def test_the_preview_is_the_same_every_time_and_the_samples_sent_are_not() -> None:
    event = EVENT_TYPES[0]

    assert example_payload(event, "com") == example_payload(event, "com")
    assert build_payload(event, "com", None, 0.0)["id"] != build_payload(event, "com", None, 0.0)["id"]


def test_the_preview_follows_the_event_naming(control: Control) -> None:
    control.settings(event_naming="eu")

    names = [event["sample"]["event"] for event in control.ok("GET", "/dashboard")["events"]]

    assert "pos.payment.denied" in names


# A sample with the caller's terminal and fields


def test_overrides_replace_fields_of_the_sample(control: Control, receiver: Receiver, payments: dict[str, Any]) -> None:
    sent = sample(control, payments["id"], overrides={"data.amount": "12.50", "id": "evt-chosen-1"})

    body = json.loads(receiver.next().body)
    assert (body["data"]["amount"], body["id"], sent["payload_id"]) == ("12.50", "evt-chosen-1", "evt-chosen-1")
    assert body["data"]["currency"] == "EUR"  # the rest stays invented


def test_a_terminal_id_the_filter_admits_is_used(
    control: Control, receiver: Receiver, payments: dict[str, Any]
) -> None:
    sample(control, payments["id"], terminal_id="90004890")

    assert json.loads(receiver.next().body)["data"]["terminal_id"] == "90004890"


def test_a_terminal_id_the_filter_refuses_is_refused_naming_the_filter(
    control: Control, receiver: Receiver, payments: dict[str, Any]
) -> None:
    problem = refused(control, payments["id"], terminal_id="11111111")

    assert problem["field"] == "terminal_id"
    assert "terminals 90004889, 90004890" in problem["message"]
    assert receiver.nothing_within(0.2)


def test_a_terminal_set_through_an_override_is_held_to_the_filter_too(
    control: Control, payments: dict[str, Any]
) -> None:
    assert refused(control, payments["id"], overrides={"data.terminal_id": "11111111"})["field"] == (
        "overrides.data.terminal_id"
    )


def test_a_transfer_sample_takes_no_terminal_id(control: Control, transfers: dict[str, Any]) -> None:
    problem = refused(control, transfers["id"], terminal_id="90004889")

    assert problem["field"] == "terminal_id" and "carry no terminal" in problem["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"data.ammount": "1.00"}, "overrides.data.ammount"),
        ({"data.amount": 12.5}, "overrides.data.amount"),
        ({"data.amount.cents": "5"}, "overrides.data.amount.cents"),
        ({"data": "flat"}, "overrides.data"),
    ],
    ids=["unknown-field", "another-type", "below-a-leaf", "an-object-by-a-string"],
)
def test_an_override_that_would_change_the_samples_shape_is_refused_naming_it(
    control: Control, receiver: Receiver, payments: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    assert refused(control, payments["id"], overrides=overrides)["field"] == field
    assert receiver.nothing_within(0.1)


def test_overrides_must_be_an_object(control: Control, payments: dict[str, Any]) -> None:
    assert refused(control, payments["id"], overrides=["data.amount=1"])["field"] == "overrides"


def test_a_sample_with_overrides_is_still_marked_invented(
    control: Control, receiver: Receiver, payments: dict[str, Any]
) -> None:
    assert sample(control, payments["id"], overrides={"data.amount": "1.00"})["invented_payload"] is True


def test_overrides_leave_the_payload_they_were_applied_to_alone() -> None:
    original = example_payload(EVENT_TYPES[0], "com")
    before = json.dumps(original)

    changed = apply_overrides(original, {"data.amount": "0.01"})

    assert json.dumps(original) == before and changed["data"]["amount"] == "0.01"


def test_an_override_error_names_its_path() -> None:
    with pytest.raises(OverrideError) as raised:
        apply_overrides(example_payload(EVENT_TYPES[0], "com"), {"data.nope": "x"})

    assert raised.value.path == "data.nope"
