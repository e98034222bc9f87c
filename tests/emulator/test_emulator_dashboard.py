"""The dashboard's server side: the page and its files, the snapshot it polls, and its two actions (reveal a
secret, send a sample event). The page is part of the control plane and keeps its protections."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from mypos_provider.emulator import Emulator

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "dashboard-secret-0123456789abcd"


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


def test_the_snapshot_filters_deliveries_by_outcome(
    control: Control, receiver: Receiver, subscription: dict[str, Any]
) -> None:
    control.settings(delivery_retry_delays=[])
    receiver.answer_with(500, then=200)
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")
    control.emit("pos.payment.completed", wait=True, terminal_id="90004889")

    failed = snapshot(control, outcome="failed")["deliveries"]

    assert [d["response_code"] for d in failed] == [500]


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
    retry = wait_until(lambda: [d for d in snapshot(control)["deliveries"] if d["attempt"] == 2])
    assert retry[0]["response_code"] == 200


def test_send_sample_to_an_unknown_subscription_is_a_404(control: Control) -> None:
    answer = control.call("POST", "/sample", json={"subscription_id": "no-such-subscription"})

    assert answer.status_code == 404
    assert answer.json()["field"] == "subscription_id"
