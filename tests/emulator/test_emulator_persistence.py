"""--state-file / state_file=: everything survives a restart; a bad file is a loud startup error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator, StateFileError

PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"


def token(emu: Emulator, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET) -> dict[str, str]:
    answer = requests.post(
        f"{emu.url}/oauth/token", auth=(client_id, client_secret), data={"grant_type": "client_credentials"}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def populate(emu: Emulator) -> dict[str, str]:
    """One live webhook with a subscription, one deleted webhook, a runtime account and a changed setting."""
    auth = token(emu)
    form = {"payload_url": "https://a.example/h", "secret": "s"}
    live = requests.post(f"{emu.api_url}/webhooks", data=form, headers=auth, timeout=5).json()["webhook"]
    gone = requests.post(f"{emu.api_url}/webhooks", data=form, headers=auth, timeout=5).json()["webhook"]
    requests.delete(f"{emu.api_url}/webhooks/{gone['id']}", headers=auth, timeout=5)
    subscribe = {"webhook_id": live["id"], "event_id": PAYMENT_COMPLETED_ID}
    sub = requests.post(f"{emu.api_url}/subscriptions", data=subscribe, headers=auth, timeout=5).json()["subscription"]
    requests.post(f"{emu.url}/_emulator/accounts", json={"client_id": "LATER", "client_secret": "ADDED"}, timeout=5)
    requests.put(f"{emu.url}/_emulator/settings", json={"event_naming": "eu"}, timeout=5)
    return {"live": live["id"], "gone": gone["id"], "subscription": sub["id"]}


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with Emulator(state_file=state_file) as first:
        ids = populate(first)
        before = requests.get(f"{first.url}/_emulator/state", timeout=5).json()

    with Emulator(state_file=state_file) as second:
        after = requests.get(f"{second.url}/_emulator/state", timeout=5).json()
        auth = token(second)
        listed = requests.get(f"{second.api_url}/webhooks", headers=auth, timeout=5).json()["webhooks"]
        sub = requests.get(f"{second.api_url}/subscriptions/{ids['subscription']}", headers=auth, timeout=5)
        naming = requests.get(f"{second.url}/_emulator/settings", timeout=5).json()["event_naming"]
        token(second, "LATER", "ADDED")

    assert after == before
    assert [hook["id"] for hook in listed] == [ids["live"]]
    assert sub.status_code == 200
    assert naming == "eu"


def test_tokens_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with Emulator(state_file=state_file) as first:
        auth = token(first)

    with Emulator(state_file=state_file) as second:
        assert requests.get(f"{second.api_url}/webhooks", headers=auth, timeout=5).status_code == 200


def test_state_file_is_written_while_running(tmp_path: Path, wait_until: object) -> None:
    state_file = tmp_path / "state.json"
    with Emulator(state_file=state_file) as emu:
        populate(emu)

        def saved_webhooks() -> int:
            document = json.loads(state_file.read_text())
            return len(document["accounts"][DEMO_CLIENT_ID]["webhooks"])

        wait_until(lambda: saved_webhooks() == 2)  # type: ignore[operator]


def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    with Emulator(state_file=tmp_path / "state.json") as emu:
        populate(emu)

    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_missing_state_file_starts_empty_and_creates_it(tmp_path: Path) -> None:
    state_file = tmp_path / "nested" / "state.json"

    with Emulator(state_file=state_file):
        pass

    assert json.loads(state_file.read_text())["accounts"][DEMO_CLIENT_ID]["webhooks"] == []


@pytest.mark.parametrize(
    "content",
    ["{not json", "", "[]", '{"format": "something-else"}', '{"format": "mypos-emulator-state", "version": 99}'],
    ids=["not-json", "empty", "list", "wrong-format", "wrong-version"],
)
def test_corrupt_state_file_is_an_error_naming_the_file(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(content)

    with pytest.raises(StateFileError, match="state.json"):
        Emulator(state_file=state_file)

    assert state_file.read_text() == content  # never silently emptied


def _add_unknown_key(account: dict[str, Any]) -> None:
    account["webhooks"][0]["colour"] = "red"


def _break_a_timestamp(account: dict[str, Any]) -> None:
    account["webhooks"][0]["created_on"] = "yesterday"


def _orphan_a_subscription(account: dict[str, Any]) -> None:
    account["webhooks"] = account["webhooks"][1:]


@pytest.mark.parametrize("damage", [_add_unknown_key, _break_a_timestamp, _orphan_a_subscription])
def test_state_file_with_malformed_objects_is_an_error(
    tmp_path: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    state_file = tmp_path / "state.json"
    with Emulator(state_file=state_file) as emu:
        populate(emu)
    document = json.loads(state_file.read_text())
    damage(document["accounts"][DEMO_CLIENT_ID])
    state_file.write_text(json.dumps(document))

    with pytest.raises(StateFileError, match="state.json"):
        Emulator(state_file=state_file)


def old_state_file(tmp_path: Path, **note: Any) -> Path:
    """A state file of a version before attempts recorded their details: one webhook, one subscription and one
    notification with the nine public fields only (and `note`'s)."""
    hook = {"id": "h1", "payload_url": "https://a.example/h", "secret": "s", "is_active": True, "created_on": 1.0}
    saved = {
        "id": "n1",
        "event": "pos.payment.completed",
        "payload": {"id": "e1"},
        "sent_on": 2.0,
        "response_code": 200,
        "retry_count": 0,
        "url": "https://a.example/h",
        "webhook_id": "h1",
        "subscription_id": "s1",
        **note,
    }
    sub = {"id": "s1", "webhook_id": "h1", "event_id": PAYMENT_COMPLETED_ID, "filter": None, "created_on": 1.0}
    account = {
        "client_secret": DEMO_CLIENT_SECRET,
        "webhooks": [hook],
        "subscriptions": [sub],
        "notifications": [saved],
    }
    document = {"format": "mypos-emulator-state", "version": 1, "settings": {}, "accounts": {DEMO_CLIENT_ID: account}}
    state_file = tmp_path / "old.json"
    state_file.write_text(json.dumps({**document, "tokens": []}))
    return state_file


def test_a_state_file_from_before_delivery_details_still_loads(tmp_path: Path) -> None:
    """Notifications saved before attempts recorded signature, body and answer load with those empty."""
    with Emulator(state_file=old_state_file(tmp_path)) as emu:
        listed = requests.get(f"{emu.api_url}/notifications", headers=token(emu), timeout=5).json()
        details = requests.get(f"{emu.url}/_emulator/deliveries", timeout=5).json()["deliveries"]

    assert [n["id"] for n in listed["notifications"]] == ["n1"]
    assert (details[0]["signature"], details[0]["body"], details[0]["error"]) == ("", "", None)
    assert (details[0]["request_headers"], details[0]["answer_headers"]) == ([], [])


def test_an_older_notification_is_a_delivery_of_its_own_in_the_dashboard(tmp_path: Path) -> None:
    with Emulator(state_file=old_state_file(tmp_path)) as emu:
        (delivery,) = requests.get(f"{emu.url}/_emulator/dashboard", timeout=5).json()["deliveries"]

    assert (delivery["id"], delivery["payload_id"], delivery["outcome"]) == ("n1", "e1", "delivered")
    assert [attempt["attempt"] for attempt in delivery["attempts"]] == [1]


def test_after_a_restart_no_attempt_promises_a_retry(tmp_path: Path) -> None:
    state_file = old_state_file(tmp_path, response_code=500, next_retry_at=3.0)

    with Emulator(state_file=state_file) as emu:
        (delivery,) = requests.get(f"{emu.url}/_emulator/dashboard", timeout=5).json()["deliveries"]

    assert (delivery["outcome"], delivery["next_retry_at"]) == ("failed", None)
