"""provider/operations.py: every engine operation of any resource type passes the gate and fails in one line.

The operations run here as a shell calls them, on a `ProviderProcess` built from a stack config, against the
emulator; no engine runs. Both resource types go through the same code, so most behaviours are shown on one.
The connection check runs beside the operations: the emulator's fault rules hold its catalogue request (a
`slow` rule holds it until the rules change) to show what an operation does meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mypos_emulator import Emulator
from mypos_provider.core.subscriptions import SubscriptionRules
from mypos_provider.core.values import UNKNOWN, CollectingReporter, Created
from mypos_provider.core.webhooks import WebhookRules
from mypos_provider.provider.operations import Operations
from mypos_provider.provider.process import ProcessStopped, ProviderFailure, ProviderProcess, Skipped

URL = "https://shop.example.com/mypos/callback"
MISSING_ID = "0a1b2c3d-0000-4000-8000-000000000000"
HOLD_CATALOGUE = [{"method": "GET", "path": "/v1/events", "kind": "slow", "delay": 30}]


@pytest.fixture(autouse=True)
def _isolated(no_ambient_settings) -> None:
    """The process reads the environment and a .env: nothing of the developer's machine may reach it."""


def configured(stack_config: dict[str, Any]) -> ProviderProcess:
    """A provider process as a shell's configure() leaves it: its connection check on its way."""
    process = ProviderProcess(stack_config, reporter=CollectingReporter())
    process.start_connection_check()
    return process


@pytest.fixture
def webhooks(stack_config) -> Operations:
    return Operations(configured(stack_config), WebhookRules)


def created_webhook(webhooks: Operations, url: str = URL) -> Created:
    checked = webhooks.check({}, {"payload_url": url})
    return webhooks.create(checked.inputs)


def fail_the_held_catalogue_request(emulator: Emulator) -> None:
    """Lets a catalogue request held by HOLD_CATALOGUE go on, into a failure: its token has expired by then, so
    the client sends it again with a new token (a 401 renews the token once), and that attempt meets a 503."""
    emulator.expire_tokens()
    emulator.set_faults([{"method": "GET", "path": "/v1/events", "kind": "status", "status": 503}])


# ---- the connection check beside the operations --------------------------------------------------------


def test_a_create_is_sent_beside_the_catalogue_and_reported_only_after_it(
    stack_config, emulator, control, account, wait_until
):
    emulator.set_faults(HOLD_CATALOGUE)
    webhooks = Operations(configured(stack_config), WebhookRules)
    reported_at: list[float] = []

    def create() -> Created:
        made = created_webhook(webhooks)
        reported_at.append(time.monotonic())
        return made

    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(create)
        wait_until(lambda: control.request_counts()["POST /v1/webhooks"] == 1, timeout=10)
        catalogue = (emulator.faults()[0]["fired"], control.request_counts()["GET /v1/events"])
        released_at = time.monotonic()
        emulator.set_faults([])
        made = creating.result(timeout=10)

    assert catalogue == (1, 0), "the create was answered while the catalogue request was held, unanswered"
    assert reported_at[0] >= released_at
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [made.id]


def test_a_create_whose_check_fails_after_it_was_sent_deletes_again_what_it_made(
    stack_config, emulator, control, account, wait_until
):
    emulator.set_faults(HOLD_CATALOGUE)
    webhooks = Operations(configured({**stack_config, "mypos:maxRetries": "0"}), WebhookRules)

    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(created_webhook, webhooks)
        made = wait_until(lambda: control.live_webhooks(account.client_id), timeout=10)
        fail_the_held_catalogue_request(emulator)
        with pytest.raises(ProcessStopped) as failure:
            creating.result(timeout=10)

    text = str(failure.value)
    assert text.startswith("list events failed after") and "raise mypos:maxRetries" in text
    assert text.endswith(f"webhook {made[0]['id']}, made before the check failed, was deleted again")
    assert control.live_webhooks(account.client_id) == []
    assert control.request_counts()["DELETE /v1/webhooks/{id}"] == 1


def test_an_update_whose_check_fails_after_it_was_sent_says_the_next_run_sends_it_again(
    stack_config, emulator, control, account, webhooks, wait_until
):
    made = created_webhook(webhooks)
    emulator.set_faults(HOLD_CATALOGUE)
    later = Operations(configured({**stack_config, "mypos:maxRetries": "0"}), WebhookRules)

    with ThreadPoolExecutor(1) as pool:
        updating = pool.submit(later.update, made.id, made.outputs, {**made.outputs, "is_active": False})
        wait_until(lambda: control.request_counts()["PATCH /v1/webhooks/{id}"] == 1, timeout=10)
        fail_the_held_catalogue_request(emulator)
        with pytest.raises(ProcessStopped) as failure:
            updating.result(timeout=10)

    assert str(failure.value).endswith("its change was sent before the check failed: the next run sends it again")
    assert control.live_webhooks(account.client_id)[0]["is_active"] is False


def test_an_error_met_while_the_check_fails_is_reported_once_as_the_checks(stack_config):
    process = configured({**stack_config, "mypos:apiUrl": "http://127.0.0.1:9/v1", "mypos:maxRetries": "0"})
    webhooks = Operations(process, WebhookRules)

    def outcome(i: int) -> Exception | None:
        try:
            created_webhook(webhooks, f"{URL}/{i}")
        except ProviderFailure as failure:
            return failure
        return None

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(outcome, range(6)))

    [stopped] = [o for o in outcomes if isinstance(o, ProcessStopped)]
    assert str(stopped).startswith("list events failed: cannot reach the myPOS Webhook API")
    assert "check mypos:apiUrl" in str(stopped)
    assert all(
        isinstance(o, Skipped) and "stopped by the connection problem" in str(o) for o in outcomes if o is not stopped
    )


def test_a_subscriptions_event_is_checked_against_the_live_catalogue_before_anything_is_sent(
    stack_config, emulator, control, wait_until
):
    emulator.set_faults(HOLD_CATALOGUE)
    subscriptions = Operations(configured(stack_config), SubscriptionRules)
    checked_at: list[float] = []

    def check() -> Any:
        checked = subscriptions.check({}, {"webhook_id": UNKNOWN, "event": "pos.payment.finished"})
        checked_at.append(time.monotonic())
        return checked

    with ThreadPoolExecutor(1) as pool:
        checking = pool.submit(check)
        wait_until(lambda: emulator.faults()[0]["fired"] == 1)
        released_at = time.monotonic()
        emulator.set_faults([])
        checked = checking.result(timeout=10)

    [problem] = checked.problems
    assert problem.field == "event" and "pos.payment.completed" in problem.message
    assert checked_at[0] >= released_at
    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_a_diff_waits_for_the_whole_check_so_a_preview_without_changes_proves_the_api_url(stack_config, control):
    process = configured({**stack_config, "mypos:apiUrl": "http://127.0.0.1:9/v1", "mypos:maxRetries": "0"})
    unproven = Operations(process, WebhookRules)
    recorded = {"payload_url": URL, "is_active": True}

    with pytest.raises(ProcessStopped, match="cannot reach the myPOS Webhook API"):
        unproven.diff("w-1", recorded, recorded)

    assert unproven.diff("w-2", recorded, {**recorded, "is_active": False}) is None  # not attempted


def test_a_diff_of_an_unconfigured_process_reports_the_problem_once_then_is_not_attempted():
    unconfigured = Operations(configured({}), WebhookRules)

    with pytest.raises(ProcessStopped, match="is not set"):
        unconfigured.diff("w-1", {}, {"payload_url": URL})
    assert unconfigured.diff("w-2", {}, {"payload_url": URL}) is None


# ---- what every operation proves, once per process ------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda ops, made: ops.check({}, {"payload_url": URL}),
        lambda ops, made: ops.diff(made.id, made.outputs, {**made.outputs, "is_active": False}),
        lambda ops, made: ops.read(made.id, made.outputs),
        lambda ops, made: ops.update(made.id, made.outputs, {**made.outputs, "is_active": False}),
        lambda ops, made: ops.delete(made.id, made.outputs),
    ],
    ids=["check", "diff", "read", "update", "delete"],
)
def test_each_operation_of_a_new_process_proves_the_connection_first(
    stack_config, webhooks, control, operation: Callable[..., Any]
):
    made = created_webhook(webhooks)
    control.clear_requests()

    operation(Operations(configured(stack_config), WebhookRules), made)

    assert control.request_counts()["POST /oauth/token"] == 1 and control.request_counts()["GET /v1/events"] == 1


def test_a_refresh_of_many_objects_proves_the_connection_once(stack_config, webhooks, control):
    made = [created_webhook(webhooks, f"{URL}/{i}") for i in range(3)]
    control.clear_requests()
    fresh = Operations(configured(stack_config), WebhookRules)

    for webhook in made:
        fresh.read(webhook.id, webhook.outputs)

    counts = control.request_counts()
    assert counts["POST /oauth/token"] == 1 and counts["GET /v1/events"] == 1


def test_a_refresh_in_a_stopped_process_reports_once_then_keeps_the_state(stack_config, control):
    stopped = Operations(configured({**stack_config, "mypos:clientSecret": "wrong"}), WebhookRules)
    recorded = {"payload_url": URL, "is_active": True}

    with pytest.raises(ProcessStopped, match="rejected the client credentials"):
        stopped.read("w-1", recorded)
    kept = stopped.read("w-2", recorded)

    assert (kept.id, kept.outputs, kept.inputs) == ("w-2", recorded, None)
    assert control.request_counts() == {"POST /oauth/token": 1}


# ---- one line per problem -------------------------------------------------------------------------------


def test_a_rule_error_is_one_line_naming_the_field_and_the_fix(webhooks):
    with pytest.raises(ProviderFailure) as failure:
        webhooks.create({"payload_url": URL, "adopt_id": MISSING_ID})

    assert str(failure.value).startswith(f"adopt_id {MISSING_ID}: this account has no such webhook")


def test_a_client_error_names_the_object_as_the_rules_describe_it(stack_config, emulator, webhooks):
    hook = created_webhook(webhooks)
    emulator.set_faults([{"method": "POST", "path": "/v1/subscriptions", "kind": "status", "status": 503}])
    operations = Operations(configured({**stack_config, "mypos:maxRetries": "0"}), SubscriptionRules)

    with pytest.raises(ProviderFailure) as failure:
        operations.create({"webhook_id": hook.id, "event": "pos.payment.completed"})

    assert str(failure.value).startswith(f"subscription of webhook {hook.id} to pos.payment.completed: create")


def test_a_client_error_of_an_existing_object_names_it_by_kind_and_id(stack_config, emulator, webhooks):
    made = created_webhook(webhooks)
    emulator.set_faults([{"method": "PATCH", "path": "*", "kind": "status", "status": 503}])
    operations = Operations(configured({**stack_config, "mypos:maxRetries": "0"}), WebhookRules)

    with pytest.raises(ProviderFailure) as failure:
        operations.update(made.id, made.outputs, {**made.outputs, "is_active": False})

    assert str(failure.value).startswith(f"webhook {made.id}: ")


def test_reading_an_object_that_does_not_exist_without_a_record_is_an_error(webhooks):
    """What a program's `Webhook.get` and an import send: no recorded values, so nothing to drop."""
    with pytest.raises(ProviderFailure, match="this account has no such webhook"):
        webhooks.read(MISSING_ID, {})


def test_reading_a_recorded_object_that_is_gone_drops_it(webhooks):
    assert webhooks.read(MISSING_ID, {"payload_url": URL}) is None
