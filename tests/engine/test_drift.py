"""Scenario: changes made outside Pulumi, on one deployed webhook: refresh shows them, up converges back.

Each step changes the account out of band (as a merchant clicking in the web account would), refreshes,
and runs `up` from where the step before left the stack. That a read reports each live field and that a
changed field updates in place are rules of the core (tests/unit/test_webhook_rules.py,
tests/unit/test_subscription_rules.py); these steps prove what the engine makes of them: the counts and
diffs refresh reports, the warnings it prints, resources it drops, and a stack that ends as declared.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine import Deployment
from harness.printed import Printed
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

HOOK = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "secret": "declared-secret-0123456789",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}
SECRET_SET_BY_HAND = "changed-by-someone-else"


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deployed([HOOK])


@pytest.fixture(scope="module")
def deleted() -> dict[str, str]:
    """Ids of objects a step deleted out of band, for the steps after it."""
    return {}


def the_webhook(scenario: Scenario) -> dict[str, Any]:
    [webhook] = scenario.live_webhooks()
    return webhook


def the_subscription(scenario: Scenario) -> dict[str, Any]:
    [subscription] = scenario.live_subscriptions()
    return subscription


def test_refresh_of_unchanged_objects_reports_no_changes_and_the_next_preview_is_clean(stack: Deployment) -> None:
    refresh = stack.refresh()

    assert refresh.summary.resource_changes == {"same": 3}
    stack.preview(expect_no_changes=True)


def test_refresh_shows_a_payload_url_changed_outside_pulumi_and_up_restores_it(
    scenario: Scenario, stack: Deployment
) -> None:
    webhook_id = the_webhook(scenario)["id"]
    scenario.outofband.patch_webhook(webhook_id, payload_url="https://attacker.example.net/steal")

    preview = Printed(stack)
    stack.stack.preview_refresh(on_output=stack.output.append, color="never", diff=True)
    assert '~ payload_url: "https://shop.example.com/mypos/orders" => "https://attacker.example.net/steal"' in (
        preview.text
    )
    printed = Printed(stack)
    refresh = stack.refresh()
    assert refresh.summary.resource_changes.get("update") == 1
    assert "[diff: ~payload_url]" in printed.text

    stack.up()
    webhook = the_webhook(scenario)
    assert (webhook["id"], webhook["payload_url"]) == (webhook_id, HOOK["payloadUrl"])
    stack.preview(expect_no_changes=True)


def test_a_secret_changed_outside_pulumi_shows_as_masked_drift_and_up_restores_the_declared_one(
    scenario: Scenario, stack: Deployment
) -> None:
    scenario.outofband.patch_webhook(the_webhook(scenario)["id"], secret=SECRET_SET_BY_HAND)
    scenario.known_secrets.append(SECRET_SET_BY_HAND)  # the account forgets it once up restores the declared one

    printed = Printed(stack)
    refresh = stack.refresh()
    assert refresh.summary.resource_changes.get("update") == 1
    assert "[diff: ~secret]" in printed.text
    assert SECRET_SET_BY_HAND not in printed.text

    stack.up()
    assert the_webhook(scenario)["secret"] == HOOK["secret"]


def test_a_deactivated_webhook_and_a_terminal_filter_changed_outside_pulumi_are_restored_by_up_after_refresh(
    scenario: Scenario, stack: Deployment
) -> None:
    # Two fields at once: that each is read back and updates in place is proven per field in the unit tier.
    scenario.outofband.patch_webhook(the_webhook(scenario)["id"], is_active="false")
    scenario.outofband.set_filter(the_subscription(scenario)["id"], ["11111111"])

    stack.refresh()
    stack.up()

    assert the_webhook(scenario)["is_active"] is True
    assert the_subscription(scenario)["filter"] == {"tids": ["90004889"]}


def test_refresh_drops_a_subscription_deleted_outside_pulumi_with_a_warning_and_up_recreates_it(
    scenario: Scenario, stack: Deployment
) -> None:
    subscription_id = the_subscription(scenario)["id"]
    scenario.outofband.delete_subscription(subscription_id)

    printed = Printed(stack)
    stack.refresh()
    assert f"warning: subscription {subscription_id}" in printed.text
    stack.up()

    assert the_subscription(scenario)["id"] != subscription_id


def test_refresh_drops_a_webhook_deleted_outside_pulumi_and_its_subscription_with_a_warning(
    scenario: Scenario, stack: Deployment, deleted: dict[str, str]
) -> None:
    webhook_id = deleted["webhook"] = the_webhook(scenario)["id"]
    scenario.outofband.delete_webhook(webhook_id)

    printed = Printed(stack)
    refresh = stack.refresh()

    assert refresh.summary.resource_changes.get("delete") == 2  # the webhook and, with it, its subscription
    assert f"warning: webhook {webhook_id}" in printed.text
    assert "no longer exists in myPOS" in printed.text


def test_up_after_refresh_recreates_a_webhook_deleted_outside_pulumi(
    scenario: Scenario, stack: Deployment, deleted: dict[str, str]
) -> None:
    stack.up()

    webhook = the_webhook(scenario)
    assert webhook["id"] != deleted["webhook"]
    assert the_subscription(scenario)["webhook_id"] == webhook["id"]
    stack.preview(expect_no_changes=True)
