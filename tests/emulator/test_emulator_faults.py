"""Fault injection: status, drop, slow, commit_then_fail; triggers by probability, sequence and times."""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from conftest import ApiClient, Control

CREATE = {"payload_url": "https://a.example/h", "secret": "s"}


def webhook_count(control: Control) -> int:
    return len(control.state()["webhooks"])


def test_status_429_carries_retry_after(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 429, "retry_after": 3})

    answer = api.post("/webhooks", data=CREATE)

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3"


def test_retry_after_defaults_to_one_second(api: ApiClient, control: Control) -> None:
    control.faults({"path": "/v1/*", "kind": "status", "status": 429})

    assert api.get("/webhooks").headers["Retry-After"] == "1"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_status_fault_answers_without_processing(api: ApiClient, control: Control, status: int) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": status})

    answer = api.post("/webhooks", data=CREATE)

    assert answer.status_code == status
    assert answer.json()["error"] == "injected_fault"
    assert webhook_count(control) == 0


def test_drop_closes_the_connection_without_an_answer_or_a_change(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "drop"})

    with pytest.raises(requests.ConnectionError):
        api.post("/webhooks", data=CREATE)

    assert webhook_count(control) == 0


def test_client_recovers_on_a_new_connection_after_a_drop(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "drop", "times": 1})
    with pytest.raises(requests.ConnectionError):
        api.post("/webhooks", data=CREATE)

    assert api.post("/webhooks", data=CREATE).status_code == 200


def test_slow_answers_after_the_client_timeout_but_commits(api: ApiClient, control: Control, wait_until: Any) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 2.0})

    with pytest.raises(requests.ReadTimeout):
        api.post("/webhooks", data=CREATE, timeout=0.15)

    assert webhook_count(control) == 0  # not yet: slow delays, then processes
    wait_until(lambda: webhook_count(control) == 1)


def test_slow_answers_normally_to_a_patient_client(api: ApiClient, control: Control) -> None:
    control.faults({"method": "GET", "path": "/v1/webhooks", "kind": "slow", "delay": 0.2})
    started = time.monotonic()

    answer = api.get("/webhooks")

    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_commit_then_fail_creates_the_object_yet_answers_the_error(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "status": 502})

    answer = api.post("/webhooks", data=CREATE)

    assert answer.status_code == 502
    control.faults()
    assert api.get("/webhooks").json()["pagination"]["total"] == 1


def test_commit_then_drop_creates_the_object_and_drops_the_answer(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "then": "drop"})

    with pytest.raises(requests.ConnectionError):
        api.post("/webhooks", data=CREATE)

    assert webhook_count(control) == 1


def test_commit_then_slow_commits_before_the_client_gives_up(api: ApiClient, control: Control) -> None:
    control.faults(
        {"method": "PATCH", "path": "/v1/webhooks/*", "kind": "commit_then_fail", "then": "slow", "delay": 0.4}
    )
    hook = api.create_webhook(secret="old")

    with pytest.raises(requests.ReadTimeout):
        api.patch(f"/webhooks/{hook['id']}", data={"secret": "new"}, timeout=0.15)

    assert control.state()["webhooks"][0]["secret"] == "new"


def test_commit_then_fail_deletes_really_happen(api: ApiClient, control: Control) -> None:
    hook = api.create_webhook()
    control.faults({"method": "DELETE", "path": "/v1/webhooks/*", "kind": "commit_then_fail", "status": 500})

    assert api.delete(f"/webhooks/{hook['id']}").status_code == 500
    control.faults()
    assert api.get(f"/webhooks/{hook['id']}").status_code == 404


def test_sequence_fires_on_the_listed_matching_requests_then_stops(api: ApiClient, control: Control) -> None:
    control.faults(
        {"method": "GET", "path": "/v1/webhooks", "kind": "status", "status": 503, "sequence": [False, True, True]}
    )

    statuses = [api.get("/webhooks").status_code for _ in range(5)]

    assert statuses == [200, 503, 503, 200, 200]


def test_times_caps_how_often_a_rule_fires(api: ApiClient, control: Control) -> None:
    control.faults({"path": "/v1/webhooks", "kind": "status", "status": 500, "times": 2})

    statuses = [api.get("/webhooks").status_code for _ in range(4)]

    assert statuses == [500, 500, 200, 200]


def test_probability_with_a_seed_follows_that_seeds_random_sequence(api: ApiClient, control: Control) -> None:
    control.faults({"path": "/v1/webhooks", "kind": "status", "status": 503, "probability": 0.5, "seed": 42})
    expected_rng = random.Random(42)

    statuses = [api.get("/webhooks").status_code for _ in range(20)]

    assert statuses == [503 if expected_rng.random() < 0.5 else 200 for _ in range(20)]


def test_probability_runs_repeat_exactly_when_the_rules_are_set_again(api: ApiClient, control: Control) -> None:
    rule = {"path": "/v1/*", "kind": "status", "status": 500, "probability": 0.3, "seed": 7}
    runs = []
    for _ in range(2):
        control.faults(rule)
        runs.append([api.get("/webhooks").status_code for _ in range(15)])

    assert runs[0] == runs[1]
    assert 500 in runs[0] and 200 in runs[0]


def test_method_and_glob_narrow_what_a_rule_matches(api: ApiClient, control: Control) -> None:
    control.faults({"method": "POST", "path": "/v1/sub*", "kind": "status", "status": 500})

    assert api.get("/subscriptions").status_code == 200
    assert api.post("/webhooks", data=CREATE).status_code == 200
    assert api.post("/subscriptions", data={"event_id": "x"}).status_code == 500


def test_faults_apply_to_the_token_endpoint(api: ApiClient, control: Control) -> None:
    control.faults({"path": "/oauth/token", "kind": "status", "status": 503})

    assert api.request_token().status_code == 503


def test_faults_never_touch_the_control_plane(control: Control) -> None:
    control.faults({"path": "*", "kind": "drop"})

    assert control.call("GET", "/state").status_code == 200


def test_fault_listing_counts_matches_and_fires(api: ApiClient, control: Control) -> None:
    control.faults({"path": "/v1/webhooks", "kind": "status", "status": 500, "sequence": [True]})
    for _ in range(3):
        api.get("/webhooks")

    (rule,) = control.ok("GET", "/faults")["rules"]

    assert (rule["matched"], rule["fired"]) == (3, 1)


def test_deleting_faults_clears_every_rule(api: ApiClient, control: Control) -> None:
    control.faults({"path": "*", "kind": "status", "status": 500})

    control.ok("DELETE", "/faults")

    assert api.get("/webhooks").status_code == 200


def test_request_log_records_the_fault_kind_and_null_status_for_drops(api: ApiClient, control: Control) -> None:
    control.faults(
        {"method": "GET", "path": "/v1/webhooks", "kind": "drop", "times": 1},
        {"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "status": 500},
    )
    control.call("DELETE", "/requests")
    with pytest.raises(requests.ConnectionError):
        api.get("/webhooks")
    api.post("/webhooks", data=CREATE)

    logged = [(r["method"], r["status"], r["fault"]) for r in control.requests()]

    assert logged == [("GET", None, "drop"), ("POST", 500, "commit_then_fail")]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "explode"}, "rules[0].kind"),
        ({"kind": "status", "status": 200}, "rules[0].status"),
        ({"kind": "status", "probability": 2}, "rules[0].probability"),
        ({"kind": "status", "sequence": [1, 0]}, "rules[0].sequence"),
        ({"kind": "status", "colour": "red"}, "rules[0].colour"),
    ],
)
def test_malformed_rules_are_rejected_naming_the_field(control: Control, rule: dict[str, Any], field: str) -> None:
    answer = control.call("PUT", "/faults", json={"rules": [rule]})

    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_setting_new_rules_releases_a_request_a_slow_rule_holds_and_it_is_then_processed(
    api: ApiClient, control: Control
) -> None:
    control.faults({"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 120})
    answers: list[requests.Response] = []
    caller = threading.Thread(target=lambda: answers.append(api.post("/webhooks", data=CREATE)))
    caller.start()
    deadline = time.monotonic() + 10
    while control.ok("GET", "/faults")["rules"][0]["fired"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert webhook_count(control) == 0, "held: not processed yet"

    control.faults()  # the test says when: the held create is committed now (a late commit)
    caller.join(timeout=30)

    assert [a.status_code for a in answers] == [200] and webhook_count(control) == 1
