"""Scenario: changes to declared values, as the engine reports and applies them, on one deployed webhook.

Which field updates in place and which replaces is a rule of the core, proven field by field in
tests/unit/test_webhook_rules.py and tests/unit/test_subscription_rules.py; these steps prove the engine
wiring: the update counts, the masked detailed diff, a replacement the engine sequences, and ids that stay.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.engine import Deployment
from harness.printed import Printed
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

HOOK = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "secret": "first-secret-0123456789",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}


def terminals(*terminal_ids: str) -> list[dict[str, Any]]:
    return [{"event": "pos.payment.completed", "terminalIds": list(terminal_ids)}]


# The webhook after the in-place update step, whose terminal ids the later steps reorder.
UPDATED = {"secret": "second-secret-987654321", "payloadUrl": "https://shop.example.com/mypos/v2", "active": False}


def changed(**fields: Any) -> list[dict[str, Any]]:
    hook = copy.deepcopy(HOOK)
    hook.update(fields)
    return [hook]


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deployed([HOOK])


@pytest.fixture(scope="module")
def first(scenario: Scenario, stack: Deployment) -> dict[str, Any]:
    """The ids the first `up` made."""
    return {"webhook": scenario.live_webhooks()[0], "subscription": scenario.live_subscriptions()[0]}


def test_the_preview_diff_of_a_rotation_shows_only_the_secret_and_masks_it(stack, first):
    stack.set_webhooks(changed(secret="second-secret-987654321"))
    printed = Printed(stack)

    preview = stack.preview(diff=True)

    text = printed.text
    assert preview.change_summary == {"update": 1, "same": 2}
    assert "~ secret: [secret] => [secret]" in text
    assert "payload_url" not in text and "is_active" not in text
    assert "second-secret" not in text and "first-secret" not in text


def test_up_rotates_the_secret_in_place(scenario, stack, first):
    up = stack.up()

    after = scenario.live_webhooks()[0]
    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert (after["id"], after["secret"]) == (first["webhook"]["id"], "second-secret-987654321")


def test_payload_url_active_flag_and_terminal_ids_all_update_in_place(scenario, stack, first):
    stack.set_webhooks(changed(**UPDATED, events=terminals("90004889", "90004890")))

    up = stack.up()

    [webhook] = scenario.live_webhooks()
    [subscription] = scenario.live_subscriptions()
    assert up.summary.resource_changes == {"update": 2, "same": 1}
    assert (webhook["id"], webhook["payload_url"], webhook["is_active"]) == (
        first["webhook"]["id"],
        "https://shop.example.com/mypos/v2",
        False,
    )
    assert (subscription["id"], sorted(subscription["filter"]["tids"])) == (
        first["subscription"]["id"],
        ["90004889", "90004890"],
    )


def test_reordering_terminal_ids_is_no_change(stack):
    stack.set_webhooks(changed(**UPDATED, events=terminals("90004890", "90004889")))

    assert stack.preview(expect_no_changes=True).change_summary == {"same": 3}


def test_removing_the_secret_from_the_config_keeps_the_current_secret(scenario, stack):
    without_secret = changed(**UPDATED, events=terminals("90004890", "90004889"))
    del without_secret[0]["secret"]
    stack.set_webhooks(without_secret)

    assert stack.preview(expect_no_changes=True).change_summary == {"same": 3}
    assert scenario.live_webhooks()[0]["secret"] == "second-secret-987654321"


def test_changing_the_event_makes_a_new_subscription_and_deletes_the_old_one(scenario, stack, first):
    stack.set_webhooks(changed(events=[{"event": "pos.payment.cancelled", "terminalIds": ["90004889"]}]))

    up = stack.up()

    after = scenario.live_subscriptions()
    # The subscription's resource name carries its event, so this is a new resource and a removed one.
    assert (up.summary.resource_changes.get("create"), up.summary.resource_changes.get("delete")) == (1, 1)
    assert len(after) == 1
    assert after[0]["id"] != first["subscription"]["id"] and after[0]["event"] == "pos.payment.cancelled"
