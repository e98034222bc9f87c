"""Scenario: the stack program through the real engine, from the first `up` to `destroy`, on one deployment.

It creates one webhook with two subscriptions, checks what the engine reports and records, adds a second
webhook, and destroys everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine import Deployment, Outcome
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

ORDERS = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "events": ["pos.payment.completed", {"event": "pos.payment.cancelled", "terminalIds": ["90004889"]}],
}
TREASURY = {
    "name": "treasury",
    "payloadUrl": "https://shop.example.com/mypos/treasury",
    "events": ["account.out-bank-transfer.failed"],
}


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deploy([ORDERS])


@pytest.fixture(scope="module")
def first_up(stack: Deployment) -> Outcome:
    return stack.up().recorded()


def subscriptions_by_url(scenario: Scenario) -> set[tuple[str, str, tuple[str, ...]]]:
    """Every live subscription as (its webhook's payload URL, event, terminal ids)."""
    url_of = {w["id"]: w["payload_url"] for w in scenario.live_webhooks()}
    return {
        (url_of[s["webhook_id"]], s["event"], tuple((s.get("filter") or {}).get("tids") or ()))
        for s in scenario.live_subscriptions()
    }


def test_the_first_up_creates_the_stack_the_webhook_and_its_two_subscriptions(
    scenario: Scenario, first_up: Outcome
) -> None:
    assert first_up.summary.resource_changes == {"create": 4}
    assert len(scenario.live_webhooks()) == 1


def test_up_exports_ids_and_payload_urls_and_the_secrets_only_as_secrets(scenario: Scenario, first_up: Outcome) -> None:
    [webhook] = scenario.live_webhooks()
    exported: dict[str, Any] = first_up.outputs["webhooks"].value["orders"]

    assert exported["id"] == webhook["id"]
    assert exported["payloadUrl"] == ORDERS["payloadUrl"]
    assert first_up.outputs["webhookSecrets"].secret is True
    assert first_up.outputs["webhookSecrets"].value["orders"] == webhook["secret"]


def test_the_state_backend_writes_no_metadata_sidecars_a_kill_could_leave_empty(stack: Deployment) -> None:
    stacks = stack.backend_dir / ".pulumi" / "stacks"

    assert list(stacks.rglob("*.json")), "the checkpoint itself is written"
    assert list(stacks.rglob("*.attrs")) == []


def test_a_preview_after_up_reports_no_changes(stack: Deployment) -> None:
    assert stack.preview(expect_no_changes=True).change_summary == {"same": 4}


def test_up_creates_exactly_the_declared_webhooks_and_subscriptions(scenario: Scenario, stack: Deployment) -> None:
    stack.set_webhooks([ORDERS, TREASURY])

    up = stack.up()

    assert up.summary.resource_changes == {"create": 2, "same": 4}
    assert sorted(w["payload_url"] for w in scenario.live_webhooks()) == sorted(
        [ORDERS["payloadUrl"], TREASURY["payloadUrl"]]
    )
    assert subscriptions_by_url(scenario) == {
        (ORDERS["payloadUrl"], "pos.payment.completed", ()),
        (ORDERS["payloadUrl"], "pos.payment.cancelled", ("90004889",)),
        (TREASURY["payloadUrl"], "account.out-bank-transfer.failed", ()),
    }


def test_destroy_empties_the_account(scenario: Scenario, stack: Deployment) -> None:
    stack.destroy()

    assert scenario.live_webhooks() == []
    assert scenario.live_subscriptions() == []
