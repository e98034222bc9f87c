"""Triage in the dashboard's delivery log: deliveries that had a failed attempt whatever their outcome now, by
the status any attempt got, found by a value of their payload; every delivery that failed for good since a
time, counted and then resent at once; and what a successful resend does to the retry still due (the
`retries_after_resend` setting), which each delivery states."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mypos_emulator import Emulator, ManualClock

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "triage-secret-0123456789abcdefgh"
START = 1_700_000_000.0
PAYMENT = {
    "id": "evt-triage-1",
    "event": "pos.payment.completed",
    "data": {"amount": "12.50", "payment_reference": "PAYREF-778899", "terminal_id": "90004889", "captured": True},
}


@pytest.fixture
def hook(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    created = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    api.subscribe(created["id"])
    return created


def snapshot(control: Control, **query: str) -> dict[str, Any]:
    return control.ok("GET", "/dashboard", params=query)


def payload_ids(control: Control, **query: str) -> list[str]:
    return [d["payload_id"] for d in snapshot(control, **query)["deliveries"]]


def emit(control: Control, event_id: str, *statuses: int, retries: int = 0, wait_until: Any = None) -> None:
    """One event whose attempts get `statuses` in turn (retried at once as often as it takes)."""
    payload = {**PAYMENT, "id": event_id}
    control.emit("pos.payment.completed", wait=True, payload=payload)
    if wait_until is not None:
        wait_until(
            lambda: any(
                d["payload_id"] == event_id and len(d["attempts"]) == len(statuses)
                for d in snapshot(control)["deliveries"]
            )
        )


@pytest.fixture
def three_deliveries(control: Control, receiver: Receiver, hook: dict[str, Any], wait_until: Any) -> None:
    """first-time: 200; recovered: 500 then 200 (delivered now); lost: 401, never retried (failed now)."""
    control.settings(delivery_retry_delays=[0.0])
    receiver.answer_with(then=200)
    emit(control, "first-time", 200, wait_until=wait_until)
    receiver.answer_with(500, then=200)
    emit(control, "recovered", 500, 200, wait_until=wait_until)
    control.settings(delivery_retry_delays=[])
    receiver.answer_with(401, then=200)
    emit(control, "lost", 401, wait_until=wait_until)
    for _ in range(4):  # what the receiver got of them: a test sees only what comes after
        receiver.next()


# Had a failed attempt; by status


def test_had_a_failed_attempt_finds_deliveries_that_failed_once_whatever_their_outcome_now(
    control: Control, three_deliveries: None
) -> None:
    assert payload_ids(control, failed_attempt="true") == ["lost", "recovered"]
    assert payload_ids(control, outcome="failed") == ["lost"]  # the outcome is the latest attempt's


def test_a_delivery_counts_its_failed_attempts(control: Control, three_deliveries: None) -> None:
    counts = {d["payload_id"]: d["failed_attempts"] for d in snapshot(control)["deliveries"]}

    assert counts == {"first-time": 0, "recovered": 1, "lost": 1}


@pytest.mark.parametrize(
    ("status", "found"),
    [
        ("500", ["recovered"]),
        ("401", ["lost"]),
        ("5xx", ["recovered"]),
        ("4xx", ["lost"]),
        ("2xx", ["recovered", "first-time"]),
    ],
)
def test_the_status_filter_finds_deliveries_with_an_attempt_that_got_it(
    control: Control, three_deliveries: None, status: str, found: list[str]
) -> None:
    assert payload_ids(control, status=status) == found


def test_the_status_filter_finds_deliveries_that_got_no_answer(
    api: ApiClient, control: Control, three_deliveries: None
) -> None:
    closed = api.create_webhook(payload_url="http://127.0.0.1:9/closed", secret=SECRET)
    api.subscribe(closed["id"])
    emit(control, "unanswered", 0)

    assert [d["webhook_id"] for d in snapshot(control, status="none")["deliveries"]] == [closed["id"]]


def test_the_snapshot_lists_every_status_its_attempts_got_for_the_filter(
    api: ApiClient, control: Control, three_deliveries: None
) -> None:
    assert snapshot(control)["statuses"] == ["200", "401", "500"]
    closed = api.create_webhook(payload_url="http://127.0.0.1:9/closed", secret=SECRET)
    api.subscribe(closed["id"])

    emit(control, "unanswered", 0)

    assert snapshot(control)["statuses"] == ["200", "401", "500", "none"]


@pytest.mark.parametrize(("name", "value"), [("status", "42"), ("status", "6xx"), ("failed_attempt", "maybe")])
def test_bad_triage_filters_name_the_parameter(control: Control, name: str, value: str) -> None:
    answer = control.call("GET", "/dashboard", params={name: value})

    assert answer.status_code == 400
    assert answer.json()["field"] == name


# Search in payload values


@pytest.mark.parametrize("query", ["PAYREF-778899", "payref-7788", "12.50", "true"])
def test_the_search_finds_a_delivery_by_a_value_of_its_payload(
    control: Control, hook: dict[str, Any], query: str
) -> None:
    emit(control, "wanted", 200)
    control.emit("pos.payment.completed", wait=True)  # an invented payload: other values

    assert payload_ids(control, q=query) == ["wanted"]


def test_the_search_does_not_match_key_names(control: Control, hook: dict[str, Any]) -> None:
    emit(control, "wanted", 200)

    assert payload_ids(control, q="payment_reference") == []


# Resend every delivery that failed for good since a time


def resend_failed(control: Control, **body: Any) -> dict[str, Any]:
    return control.ok("POST", "/resend-failed", json=body)


def test_a_dry_run_counts_the_deliveries_that_failed_for_good_since_a_time(
    control: Control, receiver: Receiver, three_deliveries: None
) -> None:
    (lost,) = [d for d in snapshot(control)["deliveries"] if d["payload_id"] == "lost"]

    counted = resend_failed(control, since=0, dry_run=True)

    assert (counted["count"], counted["delivery_ids"], counted["resent"]) == (1, [lost["id"]], [])
    assert receiver.nothing_within(0.2)


def test_deliveries_first_sent_before_the_time_are_left_out(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock, receiver: Receiver
) -> None:
    created = clocked_api.create_webhook(payload_url="http://127.0.0.1:9/closed", secret=SECRET)
    clocked_api.subscribe(created["id"])
    clocked_control.settings(delivery_retry_delays=[])
    emit(clocked_control, "before", 0)
    clock.advance(600)
    emit(clocked_control, "after", 0)

    counted = resend_failed(clocked_control, since=START + 300, dry_run=True)

    (after,) = [d for d in snapshot(clocked_control)["deliveries"] if d["payload_id"] == "after"]
    assert counted["delivery_ids"] == [after["id"]]


def test_resending_what_failed_sends_each_body_once_more_and_counts_what_got_through(
    control: Control, receiver: Receiver, three_deliveries: None
) -> None:
    receiver.answer_with(then=200)

    done = resend_failed(control, since=0)

    assert (done["count"], done["delivered"]) == (1, 1)
    assert receiver.next().body == done["resent"][0]["body"].encode()
    (lost,) = [d for d in snapshot(control)["deliveries"] if d["payload_id"] == "lost"]
    assert lost["outcome"] == "delivered" and lost["attempts"][0]["resent_from"] is not None


def test_a_resend_of_what_failed_is_limited_to_the_deliveries_counted(
    api: ApiClient, control: Control, receiver: Receiver, three_deliveries: None
) -> None:
    counted = resend_failed(control, since=0, dry_run=True)
    receiver.answer_with(401)
    emit(control, "failed-after-the-count", 401)

    done = resend_failed(control, since=0, delivery_ids=counted["delivery_ids"])

    assert done["delivery_ids"] == counted["delivery_ids"]
    assert len(done["resent"]) == 1


def test_a_resend_of_what_failed_can_be_limited_to_one_webhook(
    api: ApiClient, control: Control, three_deliveries: None
) -> None:
    closed = api.create_webhook(payload_url="http://127.0.0.1:9/closed", secret=SECRET)
    api.subscribe(closed["id"])
    emit(control, "unanswered", 0)

    counted = resend_failed(control, since=0, webhook_id=closed["id"], dry_run=True)

    assert [d["webhook_id"] for d in snapshot(control)["deliveries"] if d["id"] in counted["delivery_ids"]] == [
        closed["id"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "since"), ({"since": "yesterday"}, "since"), ({"since": 0, "delivery_ids": [1]}, "delivery_ids")],
)
def test_a_bad_resend_of_what_failed_names_the_field(control: Control, body: dict[str, Any], field: str) -> None:
    answer = control.call("POST", "/resend-failed", json=body)

    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_emulator_resend_failed_does_the_same_in_process(
    emulator: Emulator, control: Control, receiver: Receiver, three_deliveries: None
) -> None:
    counted = emulator.resend_failed(0, dry_run=True)

    assert counted == resend_failed(control, since=0, dry_run=True)["delivery_ids"]


# After a successful resend: the retry still due


@pytest.fixture
def retrying(clocked_api: ApiClient, clocked_control: Control, receiver: Receiver) -> dict[str, Any]:
    """A delivery whose first attempt got a 503, with its retry due in 30 s of emulated time; then a resend of it
    that the receiver takes."""
    created = clocked_api.create_webhook(payload_url=receiver.url, secret=SECRET)
    clocked_api.subscribe(created["id"])
    clocked_control.settings(delivery_retry_delays=[30.0])
    receiver.answer_with(503, then=200)
    first = clocked_control.emit("pos.payment.completed", wait=True)["notifications"][0]
    receiver.next()
    return first


def only_delivery(control: Control) -> dict[str, Any]:
    (delivery,) = snapshot(control)["deliveries"]
    return delivery


def test_by_default_the_retry_due_is_still_sent_after_a_successful_resend(
    clocked_control: Control, clock: ManualClock, receiver: Receiver, retrying: dict[str, Any], wait_until: Any
) -> None:
    clocked_control.ok("POST", "/resend", json={"attempt_id": retrying["id"]})
    resent = receiver.next()

    shown = only_delivery(clocked_control)
    assert (shown["outcome"], shown["after_resend"], shown["next_retry_at"]) == ("delivered", "continuing", START + 30)
    clock.advance(30)
    assert receiver.next().body == resent.body  # the receiver gets the event a third time: it must dedupe
    wait_until(lambda: len(only_delivery(clocked_control)["attempts"]) == 3)


def test_with_retries_after_resend_stop_a_successful_resend_cancels_the_retry_due(
    clocked_control: Control, clock: ManualClock, receiver: Receiver, retrying: dict[str, Any]
) -> None:
    clocked_control.settings(retries_after_resend="stop")

    again = clocked_control.ok("POST", "/resend", json={"attempt_id": retrying["id"]})["delivery"]
    receiver.next()

    shown = only_delivery(clocked_control)
    assert (shown["outcome"], shown["after_resend"], shown["next_retry_at"]) == ("delivered", "stopped", None)
    assert again["stopped_retries"] is True
    clock.advance(30)
    assert receiver.nothing_within(0.3)
    assert len(only_delivery(clocked_control)["attempts"]) == 2


def test_a_failed_resend_leaves_the_retry_due_whatever_the_setting(
    clocked_control: Control, receiver: Receiver, retrying: dict[str, Any]
) -> None:
    clocked_control.settings(retries_after_resend="stop")
    receiver.answer_with(500, then=200)

    clocked_control.ok("POST", "/resend", json={"attempt_id": retrying["id"]})

    shown = only_delivery(clocked_control)
    assert (shown["outcome"], shown["after_resend"], shown["next_retry_at"]) == ("retrying", None, START + 30)


def test_retries_after_resend_takes_only_continue_or_stop(control: Control) -> None:
    answer = control.call("PUT", "/settings", json={"retries_after_resend": "sometimes"})

    assert answer.status_code == 400
    assert answer.json()["field"] == "retries_after_resend"
