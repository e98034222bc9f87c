"""provider/operations.py: every engine operation of any resource type passes the gate once and fails in one line.

The operations run here as a shell calls them, on a `ProviderProcess` built from a stack config, against the
emulator; no engine runs. Both resource types go through the same code, so most behaviours are shown on one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mypos_provider.core.subscriptions import SubscriptionRules
from mypos_provider.core.values import CollectingReporter, Created
from mypos_provider.core.webhooks import WebhookRules
from mypos_provider.provider.operations import Operations
from mypos_provider.provider.process import ProcessStopped, ProviderFailure, ProviderProcess

URL = "https://shop.example.com/mypos/callback"
MISSING_ID = "0a1b2c3d-0000-4000-8000-000000000000"


@pytest.fixture(autouse=True)
def _isolated(no_ambient_settings) -> None:
    """The process reads the environment and a .env: nothing of the developer's machine may reach it."""


class CountingProcess(ProviderProcess):
    """A provider process that counts how often its gate is opened."""

    def __init__(self, stack_config: dict[str, Any]) -> None:
        super().__init__(stack_config, reporter=CollectingReporter())
        self.gates = 0

    def gate(self, *, verified: bool = True):  # type: ignore[no-untyped-def]
        self.gates += 1
        return super().gate(verified=verified)


@pytest.fixture
def process(stack_config) -> CountingProcess:
    return CountingProcess(stack_config)


@pytest.fixture
def webhooks(process) -> Operations:
    return Operations(process, WebhookRules)


def created_webhook(webhooks: Operations) -> Created:
    checked = webhooks.check({}, {"payload_url": URL})
    return webhooks.create(checked.inputs)


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
def test_each_operation_opens_the_gate_exactly_once(process, webhooks, operation: Callable[..., Any]):
    made = created_webhook(webhooks)
    process.gates = 0

    operation(webhooks, made)

    assert process.gates == 1


def test_a_create_opens_the_gate_exactly_once(process, webhooks):
    checked = webhooks.check({}, {"payload_url": URL})
    process.gates = 0

    webhooks.create(checked.inputs)

    assert process.gates == 1


def test_a_refresh_of_many_objects_proves_the_connection_once(stack_config, webhooks, control):
    made = [created_webhook(webhooks) for _ in range(3)]
    control.clear_requests()
    fresh = Operations(CountingProcess(stack_config), WebhookRules)

    for webhook in made:
        fresh.read(webhook.id, webhook.outputs)

    counts = control.request_counts()
    assert counts["POST /oauth/token"] == 1 and counts["GET /v1/events"] == 1


def test_a_refresh_in_a_stopped_process_reports_once_then_keeps_the_state(stack_config, control):
    stopped = Operations(CountingProcess({**stack_config, "mypos:clientSecret": "wrong"}), WebhookRules)
    recorded = {"payload_url": URL, "is_active": True}

    with pytest.raises(ProcessStopped, match="rejected the client credentials"):
        stopped.read("w-1", recorded)
    kept = stopped.read("w-2", recorded)

    assert (kept.id, kept.outputs, kept.inputs) == ("w-2", recorded, None)
    assert control.request_counts() == {"POST /oauth/token": 1}


def test_a_diff_needs_no_proven_connection(stack_config, control):
    unproven = Operations(CountingProcess({**stack_config, "mypos:clientSecret": "wrong"}), WebhookRules)
    recorded = {"payload_url": URL, "is_active": True}

    changes = unproven.diff("w-1", recorded, {**recorded, "is_active": False})

    assert changes is not None and changes.updated == ("is_active",)
    assert control.requests() == []


def test_a_diff_of_an_unconfigured_process_is_not_attempted():
    assert Operations(CountingProcess({}), WebhookRules).diff("w-1", {}, {"payload_url": URL}) is None


def test_a_rule_error_is_one_line_naming_the_field_and_the_fix(webhooks):
    with pytest.raises(ProviderFailure) as failure:
        webhooks.create({"payload_url": URL, "adopt_id": MISSING_ID})

    assert str(failure.value).startswith(f"adopt_id {MISSING_ID}: this account has no such webhook")


def test_a_client_error_names_the_object_as_the_rules_describe_it(stack_config, emulator):
    emulator.set_faults([{"method": "POST", "path": "/v1/subscriptions", "kind": "status", "status": 503}])
    operations = Operations(CountingProcess({**stack_config, "mypos:maxRetries": "0"}), SubscriptionRules)
    hook = created_webhook(Operations(CountingProcess(stack_config), WebhookRules))

    with pytest.raises(ProviderFailure) as failure:
        operations.create({"webhook_id": hook.id, "event": "pos.payment.completed"})

    assert str(failure.value).startswith(f"subscription of webhook {hook.id} to pos.payment.completed: create")


def test_a_client_error_of_an_existing_object_names_it_by_kind_and_id(stack_config, emulator, webhooks):
    made = created_webhook(webhooks)
    emulator.set_faults([{"method": "PATCH", "path": "*", "kind": "status", "status": 503}])
    operations = Operations(CountingProcess({**stack_config, "mypos:maxRetries": "0"}), WebhookRules)

    with pytest.raises(ProviderFailure) as failure:
        operations.update(made.id, made.outputs, {**made.outputs, "is_active": False})

    assert str(failure.value).startswith(f"webhook {made.id}: ")


def test_reading_an_object_that_does_not_exist_without_a_record_is_an_error(webhooks):
    """What a program's `Webhook.get` and an import send: no recorded values, so nothing to drop."""
    with pytest.raises(ProviderFailure, match="this account has no such webhook"):
        webhooks.read(MISSING_ID, {})


def test_reading_a_recorded_object_that_is_gone_drops_it(webhooks):
    assert webhooks.read(MISSING_ID, {"payload_url": URL}) is None
