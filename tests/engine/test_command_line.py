"""Scenario: `python -m mypos_provider list` and `emit` against one deployed stack while its account fills up
(a webhook made by hand, the stack's own webhook, an extra and a duplicate subscription), and `pulumi import`
as it really fails for the dynamic resources.

One deployment, first of nothing, then of one webhook. The recover flows are tests/engine/test_command_line_recover.py.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from harness.engine import PULUMI, Deployment
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

URL = "https://shop.example.com/mypos/orders"
ORDERS = {"name": "orders", "payloadUrl": URL, "events": ["pos.payment.completed"]}
NOBODY_LISTENS = "http://127.0.0.1:9/nobody-listens"


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    """Stack `test`, deployed with no webhook yet."""
    return scenario.deployed([])


@pytest.fixture(scope="module")
def stranger(scenario: Scenario, stack: Deployment) -> dict[str, Any]:
    """A webhook made by hand in the web account, which the stack does not manage."""
    return scenario.outofband.create_webhook("https://shop.example.com/mypos/legacy", "clicked-together-secret-01")


def listing(stack: Deployment) -> str:
    return stack.mypos("list", "--stack", "test").stdout


# ---- list, and `pulumi import` -------------------------------------------------------------------------


def test_list_of_an_empty_account_prints_no_paste_banner(stack: Deployment) -> None:
    out = listing(stack)

    assert "0 webhook(s)" in out and "pulumi import" not in out and "adopt_id" not in out


def test_list_banner_says_pulumi_import_does_not_work_and_adopt_id_does(
    stack: Deployment, stranger: dict[str, Any]
) -> None:
    out = listing(stack)

    assert "`pulumi import` does not work for the dynamic resources" in out and "KeyError: '__provider'" in out
    assert f"adopt_id={stranger['id']!r}" in out


def test_pulumi_import_of_a_webhook_fails_in_the_host_before_provider_code_runs(
    stack: Deployment, stranger: dict[str, Any]
) -> None:
    done = subprocess.run(
        [
            str(PULUMI),
            "import",
            "pulumi-python:dynamic/mypos:Webhook",
            "imported",
            stranger["id"],
            "--yes",
            "--non-interactive",
            "--stack",
            "test",
        ],
        cwd=stack.work_dir,
        env=stack.cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "KeyError: '__provider'" in done.stdout + done.stderr  # the exact error README "Adopting" quotes


def test_list_with_a_stack_marks_what_the_stack_manages_by_resource_name(
    scenario: Scenario, stack: Deployment, stranger: dict[str, Any]
) -> None:
    stack.set_webhooks([ORDERS])
    stack.up()
    [managed] = [w for w in scenario.live_webhooks() if w["id"] != stranger["id"]]

    out = listing(stack)

    assert f"webhook {managed['id']}  active  {URL}  secret ********  [stack test: orders]" in out
    assert f"webhook {stranger['id']}" in out and "[not managed by stack test]" in out
    assert f"adopt_id={stranger['id']!r}" in out and f"adopt_id={managed['id']!r}" not in out


def test_list_names_an_unmanaged_subscription_of_a_managed_webhook_after_the_stack_s_webhook(
    scenario: Scenario, stack: Deployment, stranger: dict[str, Any]
) -> None:
    [managed] = [w for w in scenario.live_webhooks() if w["id"] != stranger["id"]]
    extra = scenario.outofband.subscribe(managed["id"], "pos.payment.cancelled")

    out = listing(stack)

    assert "'orders-pos.payment.cancelled'" in out and f"adopt_id={extra['id']!r}" in out


def test_list_flags_duplicate_subscriptions(scenario: Scenario, stack: Deployment, stranger: dict[str, Any]) -> None:
    [managed] = [w for w in scenario.live_webhooks() if w["id"] != stranger["id"]]
    [original] = [s for s in scenario.live_subscriptions() if s["event"] == "pos.payment.completed"]
    duplicate = scenario.outofband.subscribe(managed["id"], "pos.payment.completed")

    out = listing(stack)

    assert f"subscription {duplicate['id']}  pos.payment.completed" in out
    assert f"DUPLICATE of {original['id']}: every event is delivered twice" in out


# ---- emit ------------------------------------------------------------------------------------------------


def test_emit_names_webhooks_by_resource_name_and_exits_1_when_a_delivery_failed(stack: Deployment) -> None:
    stack.set_webhooks([{**ORDERS, "payloadUrl": NOBODY_LISTENS}])
    stack.up()

    done = stack.mypos("emit", "pos.payment.completed", "--stack", "test", "--wait", "1")

    assert done.returncode == 1
    assert f"FAILED     orders ({NOBODY_LISTENS}): no answer: connection refused" in done.stdout
