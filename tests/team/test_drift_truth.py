"""Scenario: the preview report and the drift check tell the truth about a stack, and one deploy resolves drift.

tests/team/test_ci_commands.py proves the reports of a deployed stack changed by hand; these steps prove what it
does not: a preview of webhooks not made yet, drift of a stack never deployed, drift after a `pulumi refresh`
dropped an object from the state, a generated secret changed by hand, and one `deploy` (what scripts/ci-deploy
runs) that leaves nothing for the drift check right after it. Which cause the report gives for which steps is a
rule of tests/unit/test_ci_reports.py; here the real CLI produces the steps.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.printed import table_rows

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
DRIFT_HEADER = ["| Resource | Type | What happened | Fields |", "|---|---|---|---|"]
PREVIEW_HEADER = ["| Action | Resource | Type |", "|---|---|---|"]
SANDBOX_ORDERS = "https://staging.shop.example.com/mypos/orders"


def live_orders(team) -> dict[str, Any]:
    [orders] = [
        w for w in team.control.live_webhooks(team.accounts["sandbox"].client_id) if "orders" in w["payload_url"]
    ]
    return orders


@pytest.fixture(scope="module")
def generated_secret() -> dict[str, str]:
    """The secret the provider generated for `orders` (the program declares none), once deployed."""
    return {}


# ---- before the first deployment ------------------------------------------------------------------------


def test_preview_report_of_new_webhooks_says_known_after_deploy_and_counts_only_them(alice):
    report = alice.mypos("preview-report", stack="sandbox")

    assert report.code == 0, report.output
    assert "**4 to create, 0 to update, 0 to replace, 0 to delete**; 0 unchanged." in report.stdout
    rows = table_rows(report.stdout, PREVIEW_HEADER)
    assert sorted(rows) == [
        "| create | `orders-payment` | Subscription |",
        "| create | `orders` | Webhook |",
        "| create | `treasury-failed` | Subscription |",
        "| create | `treasury` | Webhook |",
    ]
    assert rows.index("| create | `orders` | Webhook |") < rows.index("| create | `orders-payment` | Subscription |")
    assert rows.index("| create | `treasury` | Webhook |") < rows.index("| create | `treasury-failed` | Subscription |")
    assert report.stdout.count("+     webhook_id: (known after deploy)") == 2
    assert ENGINE_UNKNOWN not in report.stdout


def test_drift_of_a_stack_never_deployed_lists_every_declared_object_as_absent(alice):
    checked = alice.mypos("drift", stack="production")

    assert checked.code == 1, checked.output
    header = "### Drift in `production`: 4 differ from the stack, 0 duplicate(s), 0 not managed by any stack"
    assert header in checked.stdout
    assert sorted(table_rows(checked.stdout, DRIFT_HEADER)) == [
        "| `orders-payment` | Subscription | declared, not deployed yet |  |",
        "| `orders` | Webhook | declared, not deployed yet |  |",
        "| `treasury-failed` | Subscription | declared, not deployed yet |  |",
        "| `treasury` | Webhook | declared, not deployed yet |  |",
    ]


# ---- a deployed stack, changed by hand ------------------------------------------------------------------


def test_drift_names_what_a_refresh_dropped_and_what_was_changed_or_deleted_by_hand(
    team_scenario, alice, generated_secret
):
    alice.pulumi("up", "--yes", "--skip-preview", stack="sandbox")
    ids = alice.ids("sandbox")
    generated_secret["orders"] = live_orders(team_scenario)["secret"]
    hand = team_scenario.by_hand("sandbox")
    hand.delete_subscription(ids["orders-payment"])
    alice.pulumi("refresh", "--yes", stack="sandbox")  # drops orders-payment from the state
    assert "orders-payment" not in alice.ids("sandbox")
    hand.patch_webhook(ids["orders"], payload_url="https://attacker.example.com/hook", secret="set-by-hand-0001")
    hand.delete_subscription(ids["treasury-failed"])  # still in the state

    checked = alice.mypos("drift", stack="sandbox")

    assert checked.code == 1, checked.output
    assert sorted(table_rows(checked.stdout, DRIFT_HEADER)) == [
        "| `orders-payment` | Subscription | declared, not deployed yet |  |",
        "| `orders` | Webhook | changed outside Pulumi | `payload_url`, `secret` |",
        "| `treasury-failed` | Subscription | deleted outside Pulumi |  |",
    ]
    assert "set-by-hand-0001" not in checked.output and generated_secret["orders"] not in checked.output


def test_one_deploy_restores_the_url_and_the_generated_secret_and_recreates_both_subscriptions(
    team_scenario, alice, generated_secret, scenario_converged
):
    deployed = alice.mypos("deploy", stack="sandbox")

    assert deployed.code == 0, deployed.output[-3000:]
    orders = live_orders(team_scenario)
    assert orders["payload_url"] == SANDBOX_ORDERS
    assert orders["secret"] == generated_secret["orders"], "the receiving end was given the generated secret"
    events = sorted(
        s["event"] for s in team_scenario.control.live_subscriptions(team_scenario.accounts["sandbox"].client_id)
    )
    assert events == ["account.out-bank-transfer.failed", "pos.payment.completed"]
    scenario_converged("sandbox", webhooks=2, subscriptions=2)


def test_drift_right_after_the_deploy_is_clean(alice):
    checked = alice.mypos("drift", stack="sandbox")

    assert checked.code == 0, checked.output
    assert "### No drift in `sandbox`" in checked.stdout
