"""Scenario: when myPOS keeps failing, `pulumi up` stops with an actionable error and leaves nothing
unrecorded, on one deployment whose faults and retry budget each step sets."""

from __future__ import annotations

import pytest
from pulumi.automation import errors as auto_errors

from harness.engine import Deployment
from harness.printed import Printed
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

HOOK = {"name": "orders", "payloadUrl": "https://shop.example.com/mypos/orders", "events": []}


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deploy([HOOK])


def failing_creates(scenario: Scenario, kind: str) -> None:
    """Every `POST /v1/webhooks` from now on fails with HTTP 503 (`commit_then_fail`: after it is made)."""
    scenario.control.clear_requests()
    scenario.control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": kind, "status": 503}])


def test_exhausted_retries_name_operation_resource_status_and_the_fix(scenario: Scenario, stack: Deployment) -> None:
    stack.set_config("mypos:maxRetries", "1")
    failing_creates(scenario, "status")
    printed = Printed(stack)

    with pytest.raises(auto_errors.CommandError):
        stack.up()

    assert (
        "https://shop.example.com/mypos/orders: create webhook failed after 2 attempt(s); last problem: HTTP 503"
    ) in printed.text
    assert "then deploy again" in printed.text and "try again later, or raise mypos:maxRetries" in printed.text
    assert "Traceback" not in printed.text
    posts = [r for r in scenario.control.requests() if r["method"] == "POST" and r["path"] == "/v1/webhooks"]
    assert len(posts) == 2
    assert scenario.live_webhooks() == []


def test_a_create_that_committed_before_failing_on_its_last_attempt_is_recorded_not_lost(
    scenario: Scenario, stack: Deployment
) -> None:
    stack.set_config("mypos:maxRetries", "0")
    failing_creates(scenario, "commit_then_fail")

    stack.up()

    assert [w["id"] for w in scenario.live_webhooks()] == [r["id"] for r in stack.resources("Webhook")]
    scenario.control.clear_faults()
    stack.preview(expect_no_changes=True)
