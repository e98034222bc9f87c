"""The dashboard's server side: the page and its files, the snapshot it polls, and its two actions (reveal a
secret, send a sample event). The page is part of the control plane and keeps its protections."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from mypos_emulator import Emulator, ManualClock

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "dashboard-secret-0123456789abcd"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"


@pytest.fixture
def hook(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    return api.create_webhook(payload_url=receiver.url, secret=SECRET)


@pytest.fixture
def subscription(api: ApiClient, hook: dict[str, Any]) -> dict[str, Any]:
    return api.subscribe(hook["id"], tids=["90004889"])


def snapshot(control: Control, **query: str) -> dict[str, Any]:
    return control.ok("GET", "/dashboard", params=query)


# The page


def test_the_page_is_served_as_html_with_a_strict_content_security_policy(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.url}/_emulator/ui", timeout=5)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert '<script src="/_emulator/ui/app.js"' in answer.text


@pytest.mark.parametrize(("name", "media_type"), [("app.js", "text/javascript"), ("style.css", "text/css")])
def test_the_page_files_come_from_the_package(emulator: Emulator, name: str, media_type: str) -> None:
    answer = requests.get(f"{emulator.url}/_emulator/ui/{name}", timeout=5)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(media_type)
    assert len(answer.content) > 1000


def test_no_other_file_is_served(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.url}/_emulator/ui/..%2F__init__.py", timeout=5)

    assert answer.status_code == 404


def test_the_page_refuses_a_foreign_host_in_one_plain_sentence(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.url}/_emulator/ui", headers={"Host": "rebound.example"}, timeout=5)

    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "loopback host" in answer.text and len(answer.text.splitlines()) == 1


def test_the_page_needs_the_token_when_one_is_set() -> None:
    with Emulator(control_token="dashboard-control-token-0123") as emulator:
        answer = requests.get(f"{emulator.url}/_emulator/ui", timeout=5)

    assert answer.status_code == 401


def first_snapshot_text(html: str) -> str:
    opening = '<script type="application/json" id="first-snapshot">'
    start = html.index(opening) + len(opening)
    return html[start : html.index("</script>", start)]


def test_the_page_arrives_with_the_current_snapshot_inside(emulator: Emulator, hook: dict[str, Any]) -> None:
    html = requests.get(f"{emulator.url}/_emulator/ui", timeout=5).text

    first = json.loads(first_snapshot_text(html))

    assert [w["payload_url"] for a in first["accounts"] for w in a["webhooks"]] == [hook["payload_url"]]
    assert {"deliveries", "events", "requests", "settings", "version"} <= set(first)


def test_markup_in_the_embedded_snapshot_cannot_end_its_script_block(emulator: Emulator, api: ApiClient) -> None:
    hostile = "http://127.0.0.1:9/</script><script>alert(1)</script>&amp;"
    api.create_webhook(payload_url=hostile, secret=SECRET)

    html = requests.get(f"{emulator.url}/_emulator/ui", timeout=5).text

    embedded = first_snapshot_text(html)
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded)["accounts"][0]["webhooks"][0]["payload_url"] == hostile


def test_the_page_never_holds_a_webhook_secret(emulator: Emulator, subscription: dict[str, Any]) -> None:
    html = requests.get(f"{emulator.url}/_emulator/ui", timeout=5).text

    assert SECRET not in html


# The snapshot


def test_the_snapshot_lists_webhooks_with_their_subscriptions(
    control: Control, hook: dict[str, Any], subscription: dict[str, Any]
) -> None:
    (account,) = [a for a in snapshot(control)["accounts"] if a["webhooks"]]

    (shown,) = account["webhooks"]
    assert (shown["id"], shown["payload_url"], shown["is_active"]) == (hook["id"], hook["payload_url"], True)
    assert [(s["id"], s["event"], s["terminal_ids"]) for s in shown["subscriptions"]] == [
        (subscription["id"], "pos.payment.completed", ["90004889"])
    ]


def test_the_snapshot_never_holds_a_webhook_secret(control: Control, subscription: dict[str, Any]) -> None:
    assert SECRET not in json.dumps(snapshot(control))


def test_the_snapshot_lists_the_whole_event_catalogue_with_its_subscriptions(
    control: Control, subscription: dict[str, Any]
) -> None:
    events = {event["name"]: event for event in snapshot(control)["events"]}

    assert len(events) == 6
    assert [s["id"] for s in events["pos.payment.completed"]["subscriptions"]] == [subscription["id"]]
    assert events["pos.payment.failed"]["subscriptions"] == []


def test_the_snapshot_shows_requests_newest_first_with_their_duration(api: ApiClient, control: Control) -> None:
    api.get("/events")

    newest = snapshot(control)["requests"][0]

    assert (newest["method"], newest["path"]) == ("GET", "/v1/events")
    assert newest["duration_ms"] >= 0


def test_the_snapshot_shows_fault_rules_and_settings(control: Control) -> None:
    control.faults({"path": "/v1/webhooks", "kind": "status", "status": 503})

    shown = snapshot(control)

    assert [(rule["path"], rule["status"]) for rule in shown["faults"]] == [("/v1/webhooks", 503)]
    assert shown["settings"]["delivery_retry_delays"] == [0.2, 0.5, 1.0]


# Deliveries: attempts grouped under the delivery they belong to


def test_the_snapshot_groups_the_attempts_of_a_delivery_under_it_newest_first(
    control: Control, receiver: Receiver, subscription: dict[str, Any], wait_until: Any
) -> None:
    control.settings(delivery_retry_delays=[0.05])
    receiver.answer_with(503, then=200)
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")

    (delivery,) = wait_until(lambda: [d for d in snapshot(control)["deliveries"] if len(d["attempts"]) == 2])

    assert [(a["attempt"], a["response_code"]) for a in delivery["attempts"]] == [(2, 200), (1, 503)]
    assert {a["delivery_id"] for a in delivery["attempts"]} == {delivery["id"]}


@pytest.mark.parametrize(
    ("statuses", "retry_delays", "outcome"),
    [((200,), [], "delivered"), ((500,), [30.0], "retrying"), ((500,), [], "failed"), ((500, 200), [0.0], "delivered")],
)
def test_a_delivery_shows_the_outcome_of_its_latest_attempt(
    control: Control,
    receiver: Receiver,
    subscription: dict[str, Any],
    wait_until: Any,
    statuses: tuple[int, ...],
    retry_delays: list[float],
    outcome: str,
) -> None:
    control.settings(delivery_retry_delays=retry_delays)
    receiver.answer_with(*statuses[:-1], then=statuses[-1])

    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")

    (delivery,) = wait_until(
        lambda: [d for d in snapshot(control)["deliveries"] if len(d["attempts"]) == len(statuses)]
    )
    assert delivery["outcome"] == outcome


def test_a_delivery_whose_webhook_went_away_stops_retrying(
    api: ApiClient,
    control: Control,
    receiver: Receiver,
    hook: dict[str, Any],
    subscription: dict[str, Any],
    wait_until: Any,
) -> None:
    control.settings(delivery_retry_delays=[0.2])
    receiver.answer_with(500)
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")
    api.patch(f"/webhooks/{hook['id']}", data={"is_active": "false"})

    wait_until(lambda: snapshot(control)["deliveries"][0]["outcome"] == "failed")

    assert len(snapshot(control)["deliveries"][0]["attempts"]) == 1


def test_a_resend_shows_as_one_more_attempt_of_its_delivery(control: Control, subscription: dict[str, Any]) -> None:
    first = control.emit("pos.payment.completed", wait=True, terminal_id="90004889")["notifications"][0]

    control.ok("POST", "/resend", json={"attempt_id": first["id"]})

    (delivery,) = snapshot(control)["deliveries"]
    assert [a["resent_from"] for a in delivery["attempts"]] == [first["id"], None]


def test_the_snapshot_holds_no_webhook_secret_after_deliveries(control: Control, subscription: dict[str, Any]) -> None:
    first = control.emit("pos.payment.completed", wait=True, terminal_id="90004889")["notifications"][0]
    control.ok("POST", "/resend", json={"attempt_id": first["id"]})

    assert SECRET not in json.dumps(snapshot(control))


# Filters and search


@pytest.fixture
def two_hooks(api: ApiClient, receiver: Receiver) -> tuple[dict[str, Any], dict[str, Any]]:
    """One webhook subscribed to payments, another to payments and approved transfers."""
    one = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    two = api.create_webhook(payload_url=receiver.url + "/two", secret=SECRET)
    api.subscribe(one["id"]), api.subscribe(two["id"]), api.subscribe(two["id"], event_id=TRANSFER_APPROVED_ID)
    return one, two


def shown(control: Control, **query: str) -> list[tuple[str, str]]:
    return [(d["event"], d["webhook_id"]) for d in snapshot(control, **query)["deliveries"]]


def test_the_snapshot_filters_deliveries_by_webhook(control: Control, two_hooks: tuple[dict[str, Any], ...]) -> None:
    one, two = two_hooks
    control.emit("pos.payment.completed", wait=True)

    assert shown(control, webhook_id=one["id"]) == [("pos.payment.completed", one["id"])]


def test_the_snapshot_filters_deliveries_by_event_type(control: Control, two_hooks: tuple[dict[str, Any], ...]) -> None:
    one, two = two_hooks
    control.emit("pos.payment.completed", wait=True)
    control.emit("account.out-bank-transfer.approved", wait=True)

    assert shown(control, event="account.out-bank-transfer.approved") == [
        ("account.out-bank-transfer.approved", two["id"])
    ]


def test_the_snapshot_filters_deliveries_by_outcome(
    control: Control, receiver: Receiver, subscription: dict[str, Any]
) -> None:
    control.settings(delivery_retry_delays=[])
    receiver.answer_with(500, then=200)
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")

    failed = snapshot(control, outcome="failed")["deliveries"]

    assert [d["attempts"][0]["response_code"] for d in failed] == [500]


def test_the_snapshot_filters_deliveries_by_how_recent_they_are(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock, receiver: Receiver
) -> None:
    created = clocked_api.create_webhook(payload_url=receiver.url, secret=SECRET)
    clocked_api.subscribe(created["id"])
    old = clocked_control.emit("pos.payment.completed", wait=True)["notifications"][0]
    clock.advance(2 * 3600)
    new = clocked_control.emit("pos.payment.completed", wait=True)["notifications"][0]

    within_an_hour = snapshot(clocked_control, within="3600")["deliveries"]
    of_all_time = snapshot(clocked_control)["deliveries"]

    assert [d["attempts"][0]["id"] for d in within_an_hour] == [new["id"]]
    assert [d["attempts"][0]["id"] for d in of_all_time] == [new["id"], old["id"]]


@pytest.mark.parametrize("which", ["payload_id", "delivery_id", "id"])
def test_the_snapshot_finds_a_delivery_by_part_of_its_event_delivery_or_attempt_id(
    control: Control, two_hooks: tuple[dict[str, Any], ...], which: str
) -> None:
    control.emit("pos.payment.completed", wait=True)
    control.emit("account.out-bank-transfer.approved", wait=True)
    attempt = control.ok("GET", "/deliveries")["deliveries"][0]  # the transfer, to the second webhook

    found = snapshot(control, q=attempt[which][4:20].upper())["deliveries"]

    assert [d["id"] for d in found] == [attempt["delivery_id"]]


def test_the_snapshot_finds_the_deliveries_to_a_webhook_by_its_id(
    control: Control, two_hooks: tuple[dict[str, Any], ...]
) -> None:
    one, two = two_hooks
    control.emit("pos.payment.completed", wait=True)

    found = snapshot(control, q=one["id"])["deliveries"]

    assert [d["webhook_id"] for d in found] == [one["id"]]


def test_the_snapshot_counts_every_delivery_its_filters_admit(control: Control, subscription: dict[str, Any]) -> None:
    for _ in range(3):
        control.emit("pos.payment.completed", wait=True, terminal_id="90004889")

    assert snapshot(control)["delivery_total"] == 3


@pytest.mark.parametrize(
    ("name", "value"), [("outcome", "maybe"), ("within", "-5"), ("within", "soon"), ("within", "inf")]
)
def test_bad_snapshot_filters_name_the_parameter(control: Control, name: str, value: str) -> None:
    answer = control.call("GET", "/dashboard", params={name: value})

    assert (answer.status_code, answer.json()["field"]) == (400, name)


def test_the_snapshot_version_moves_with_a_change_and_only_then(
    api: ApiClient, control: Control, hook: dict[str, Any]
) -> None:
    before = snapshot(control)["version"]
    unchanged = snapshot(control)["version"]
    api.patch(f"/webhooks/{hook['id']}", data={"is_active": "false"})

    assert unchanged == before
    assert snapshot(control)["version"] != before


# Actions


def test_reveal_answers_the_secret_of_one_webhook(control: Control, hook: dict[str, Any]) -> None:
    answer = control.ok("POST", "/reveal", json={"webhook_id": hook["id"]})

    assert answer == {"webhook_id": hook["id"], "secret": SECRET}


def test_reveal_of_an_unknown_webhook_is_a_404(control: Control) -> None:
    answer = control.call("POST", "/reveal", json={"webhook_id": "no-such-webhook"})

    assert answer.status_code == 404


def test_send_sample_delivers_to_the_subscription_and_answers_the_attempt(
    control: Control, receiver: Receiver, subscription: dict[str, Any]
) -> None:
    answer = control.ok("POST", "/sample", json={"subscription_id": subscription["id"]})

    got = receiver.next()
    delivery = answer["delivery"]
    assert (delivery["response_code"], delivery["delivered"], delivery["attempt"]) == (200, True, 1)
    assert delivery["body"].encode() == got.body
    assert json.loads(got.body)["data"]["terminal_id"] == "90004889"  # a terminal the filter lets through


def test_send_sample_reaches_an_inactive_webhook_like_myposs_sandbox(
    api: ApiClient, control: Control, receiver: Receiver, hook: dict[str, Any], subscription: dict[str, Any]
) -> None:
    api.patch(f"/webhooks/{hook['id']}", data={"is_active": "false"})

    control.ok("POST", "/sample", json={"subscription_id": subscription["id"]})

    assert receiver.next().path == "/hook"


def test_a_failed_sample_is_retried_like_any_delivery(
    control: Control, receiver: Receiver, subscription: dict[str, Any], wait_until: Any
) -> None:
    control.settings(delivery_retry_delays=[0.05])
    receiver.answer_with(503, then=200)

    first = control.ok("POST", "/sample", json={"subscription_id": subscription["id"]})["delivery"]

    assert first["delivered"] is False and first["next_retry_at"] is not None
    (delivery,) = wait_until(lambda: [d for d in snapshot(control)["deliveries"] if len(d["attempts"]) == 2])
    assert (delivery["attempts"][0]["response_code"], delivery["outcome"]) == (200, "delivered")


def test_send_sample_to_an_unknown_subscription_is_a_404(control: Control) -> None:
    answer = control.call("POST", "/sample", json={"subscription_id": "no-such-subscription"})

    assert answer.status_code == 404
    assert answer.json()["field"] == "subscription_id"
