"""The /_emulator/ control plane: settings, reset, accounts, request log, state, latency."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import requests

from mypos_emulator import DEMO_CLIENT_ID, Emulator, EmulatorSettings

if TYPE_CHECKING:
    from conftest import ApiClient, Control


def test_settings_lists_every_setting_with_its_default(control: Control) -> None:
    assert control.ok("GET", "/settings") == EmulatorSettings().to_dict()


def test_documented_defaults(control: Control) -> None:
    settings = control.ok("GET", "/settings")

    assert {name: settings[name] for name in ("token_lifetime", "latency", "event_naming", "signing_scheme")} == {
        "token_lifetime": 3600,
        "latency": 0,
        "event_naming": "com",
        "signing_scheme": "body",
    }
    assert (settings["body_style"], settings["require_scope"]) == ("compact", False)
    assert (settings["wrap_single_objects"], settings["created_on_format"]) == (True, "http-date")
    assert (settings["create_status"], settings["delete_status"]) == (200, 200)
    assert (settings["delivery_timeout"], settings["delivery_retry_delays"]) == (5, [0.2, 0.5, 1.0])


def test_settings_update_is_partial(control: Control) -> None:
    answer = control.settings(event_naming="eu")

    assert answer["event_naming"] == "eu"
    assert answer["signing_scheme"] == "body"


def test_unknown_setting_is_a_400_naming_it(control: Control) -> None:
    answer = control.call("PUT", "/settings", json={"colour": "red"})

    assert answer.status_code == 400
    assert answer.json()["field"] == "colour"
    assert "colour" in answer.json()["message"]


def test_invalid_setting_value_is_a_400_naming_it(control: Control) -> None:
    answer = control.call("PUT", "/settings", json={"create_status": 202})

    assert answer.status_code == 400
    assert answer.json()["field"] == "create_status"


def test_reset_clears_objects_tokens_and_faults_but_keeps_accounts(api: ApiClient, control: Control) -> None:
    api.subscribe(api.create_webhook()["id"])
    control.faults({"path": "/nothing", "kind": "drop"})

    control.ok("POST", "/reset")

    assert api.get("/webhooks").status_code == 401  # tokens are gone
    api.login()
    assert api.get("/webhooks").json()["pagination"]["total"] == 0
    assert control.state() == {"webhooks": [], "subscriptions": [], "notifications": []}
    assert control.ok("GET", "/faults")["rules"] == []


def test_reset_clears_the_request_log_and_runtime_latency(api: ApiClient, control: Control) -> None:
    api.get("/webhooks")
    control.settings(latency=0.5)

    control.ok("POST", "/reset")

    assert control.requests() == []
    assert control.ok("GET", "/settings")["latency"] == 0


def test_added_account_can_get_tokens_and_survives_reset(emulator: Emulator, control: Control) -> None:
    control.add_account("NEWCLIENT", "NEWSECRET")
    control.ok("POST", "/reset")

    answer = requests.post(
        f"{emulator.url}/oauth/token",
        auth=("NEWCLIENT", "NEWSECRET"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )

    assert answer.status_code == 200


def test_adding_an_existing_account_with_another_secret_is_a_conflict(control: Control) -> None:
    answer = control.call("POST", "/accounts", json={"client_id": DEMO_CLIENT_ID, "client_secret": "different"})

    assert answer.status_code == 409


def test_request_log_records_oauth_and_v1_requests_with_their_account(api: ApiClient, control: Control) -> None:
    control.call("DELETE", "/requests")
    api.get("/webhooks", params={"size": 5})

    (entry,) = control.requests()

    assert set(entry) == {"seq", "time", "method", "path", "query", "status", "account", "fault"}
    assert (entry["method"], entry["path"], entry["query"]) == ("GET", "/v1/webhooks", "size=5")
    assert (entry["status"], entry["account"], entry["fault"]) == (200, DEMO_CLIENT_ID, None)


def test_request_log_leaves_out_the_control_plane(control: Control) -> None:
    control.ok("GET", "/state")

    assert control.requests() == []


def test_request_log_numbers_requests_in_order(api: ApiClient, control: Control) -> None:
    api.get("/webhooks")
    api.get("/events")

    seqs = [entry["seq"] for entry in control.requests()]

    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_request_log_shows_null_account_for_anonymous_requests(emulator: Emulator, control: Control) -> None:
    requests.get(f"{emulator.api_url}/webhooks", timeout=5)

    assert control.requests()[-1]["account"] is None


def test_latency_delays_every_api_request(api: ApiClient, control: Control) -> None:
    control.settings(latency=0.2)
    started = time.monotonic()

    api.get("/webhooks")

    assert time.monotonic() - started >= 0.2


def test_latency_of_concurrent_requests_overlaps(emulator: Emulator, control: Control) -> None:
    latency = 1.0
    control.settings(latency=latency)
    url = f"{emulator.api_url}/events"
    threads = [threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10}) for _ in range(4)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    arrivals = [entry["time"] for entry in control.requests()]
    # Served one after another, each request would arrive at least `latency` after the previous one.
    assert len(arrivals) == 4 and max(arrivals) - min(arrivals) < latency


def test_latency_spares_the_control_plane(control: Control) -> None:
    control.settings(latency=60)

    answer = control.call("GET", "/settings", timeout=5)  # would time out if the latency applied

    assert answer.status_code == 200


def test_emit_rejects_unknown_events_naming_the_field(control: Control) -> None:
    answer = control.call("POST", "/events", json={"event": "pos.payment.teleported"})

    assert answer.status_code == 400
    assert answer.json()["field"] == "event"


def test_state_shows_every_account(api: ApiClient, other_api: ApiClient, control: Control) -> None:
    assert set(control.ok("GET", "/state")["accounts"]) == {DEMO_CLIENT_ID, other_api.client_id}
