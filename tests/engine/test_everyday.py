"""Scenario: one webhook declared in stack config through the everyday operations of its stack, as the engine
runs them: outputs, the requests of a preview, a rename with an alias, state surgery, a refresh, `--replace`,
`--target`, and the configuration mistakes (an unreachable API, a wrong client secret) as the CLI shows them.

The connection gate's rules (one token request, a failure reported once, the setting each failure names) are
proven in tests/unit/test_process.py, test_operations.py and test_context.py; these steps prove the engine
wiring: what each operation sends, and that the user sees one line per problem, once, without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from harness.engine import Deployment
from harness.printed import Printed
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

URL = "https://shop.example.com/mypos/orders"
ORDERS = {"name": "orders", "payloadUrl": URL, "events": ["pos.payment.completed", "pos.payment.cancelled"]}
RENAMED = {**ORDERS, "name": "shop-orders", "aliases": ["orders"]}
OTHER = {**ORDERS, "name": "other", "payloadUrl": URL + "/other"}
BOTH_INACTIVE = [{**RENAMED, "active": False}, {**OTHER, "active": False}]


def failed(run: Callable[[], Any]) -> str:
    """Run a Pulumi operation that must fail; the CLI's whole output."""
    with pytest.raises(auto.errors.CommandError) as failure:
        run()
    return str(failure.value)


def error_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]


def urn_of(deployment: Deployment, type_name: str, name: str) -> str:
    return next(r["urn"] for r in deployment.resources(type_name) if r["urn"].endswith(f"::{name}"))


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deployed([ORDERS])


# ---- outputs and the requests of a preview -------------------------------------------------------------


def test_webhook_outputs_after_the_first_up_are_those_of_the_live_webhook_and_nothing_stale(
    scenario: Scenario, stack: Deployment
) -> None:
    live = scenario.live_webhooks()[0]
    outputs = stack.resources("Webhook")[0]["outputs"]

    assert "events" not in outputs  # an output that could not be right after every `up` no longer exists
    assert (outputs["payload_url"], outputs["is_active"]) == (live["payload_url"], live["is_active"])


def test_a_preview_with_nothing_to_change_sends_one_token_request_and_the_catalogue(
    scenario: Scenario, stack: Deployment
) -> None:
    scenario.control.clear_requests()

    stack.preview(expect_no_changes=True)

    assert sorted((r["method"], r["path"]) for r in scenario.control.requests()) == [
        ("GET", "/v1/events"),
        ("POST", "/oauth/token"),
    ]


# ---- a rename and state surgery ------------------------------------------------------------------------


def test_renaming_a_webhook_with_an_alias_previews_as_no_change_and_keeps_its_objects(
    scenario: Scenario, stack: Deployment
) -> None:
    before = scenario.live_webhooks()
    stack.set_webhooks([RENAMED])

    preview = stack.preview(expect_no_changes=True)
    stack.up(expect_no_changes=True)

    assert preview.change_summary == {"same": 4}
    assert scenario.live_webhooks() == before
    names = sorted(r["urn"].rsplit("::", 1)[-1] for r in stack.resources("Subscription"))
    assert names == ["shop-orders-pos.payment.cancelled", "shop-orders-pos.payment.completed"]


def test_up_after_state_delete_of_a_subscription_adopts_it_instead_of_duplicating_it(
    scenario: Scenario, stack: Deployment
) -> None:
    urn = next(r["urn"] for r in stack.resources("Subscription") if r["outputs"]["event"].endswith("completed"))
    stack.cli("state", "delete", urn, "--yes", "--stack", stack.stack.name)
    printed = Printed(stack)

    stack.up()

    assert len(scenario.live_subscriptions()) == 2
    assert "already exists in the account but was not recorded in the state" in printed.text
    stack.preview(expect_no_changes=True)


# ---- a refresh -----------------------------------------------------------------------------------------


def test_a_refresh_warning_is_printed_once(scenario: Scenario, stack: Deployment) -> None:
    subscription = scenario.live_subscriptions()[0]["id"]
    scenario.outofband.delete_subscription(subscription)
    printed = Printed(stack)

    stack.refresh()

    text = printed.text
    mentions = [line for line in text.splitlines() if f"subscription {subscription} (" in line]
    assert mentions and all("warning: subscription" in line for line in mentions)  # no raw log line beside it
    diagnostics = text.split("Diagnostics:", 1)[1]
    assert diagnostics.count(f"subscription {subscription} (") == 1


def test_up_after_the_refresh_recreates_the_subscription_deleted_outside(scenario: Scenario, stack: Deployment) -> None:
    up = stack.up()

    assert up.summary.resource_changes.get("create") == 1
    assert sorted(s["event"] for s in scenario.live_subscriptions()) == [
        "pos.payment.cancelled",
        "pos.payment.completed",
    ]


# ---- forced and targeted operations --------------------------------------------------------------------


def test_up_with_replace_of_a_webhook_moves_its_subscriptions_and_leaves_no_orphan(
    scenario: Scenario, stack: Deployment
) -> None:
    old = scenario.live_webhooks()[0]["id"]

    stack.up(replace=[urn_of(stack, "Webhook", "shop-orders")])

    [webhook] = scenario.live_webhooks()
    assert webhook["id"] != old
    assert [s["webhook_id"] for s in scenario.live_subscriptions()] == [webhook["id"]] * 2
    stack.preview(expect_no_changes=True)


def test_up_with_target_changes_only_the_targeted_webhook(scenario: Scenario, stack: Deployment) -> None:
    stack.set_webhooks([RENAMED, OTHER])
    stack.up()
    stack.set_webhooks(BOTH_INACTIVE)

    stack.up(target=[urn_of(stack, "Webhook", "shop-orders")])

    active = {w["payload_url"]: w["is_active"] for w in scenario.live_webhooks()}
    assert active == {URL: False, URL + "/other": True}
    assert stack.preview().change_summary.get("update") == 1


# ---- configuration mistakes, as the CLI shows them -------------------------------------------------------


def test_an_unreachable_api_is_blamed_on_the_api_url_setting_not_on_a_field(
    scenario: Scenario, stack: Deployment
) -> None:
    stack.set_config("mypos:apiUrl", "http://127.0.0.1:9/v1")
    stack.set_config("mypos:maxRetries", "0")

    text = failed(stack.preview)

    line = next(line for line in error_lines(text) if "cannot reach" in line)
    assert "the myPOS Webhook API at 127.0.0.1:9" in line and "mypos:apiUrl" in line
    assert "event" not in line.split("check", 1)[1]
    stack.set_config("mypos:apiUrl", scenario.emulator.url.rstrip("/") + "/v1")
    stack.stack.remove_config("mypos:maxRetries")


def test_a_wrong_client_secret_fails_a_preview_in_one_line_with_one_token_request(
    scenario: Scenario, stack: Deployment
) -> None:
    stack.up()  # what the targeted `up` left out: nothing is left to change
    stack.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)
    scenario.control.clear_requests()

    nothing_to_change = failed(stack.preview)
    requests = [(r["method"], r["path"]) for r in scenario.control.requests()]
    stack.set_webhooks([RENAMED, OTHER])  # an in-place change: its diff waits for the same failed check
    in_place_change = failed(stack.preview)

    errors = [line for line in error_lines(nothing_to_change) if "client credentials" in line]
    assert len(errors) == 1 and "mypos:clientSecret" in errors[0]
    assert requests == [("POST", "/oauth/token")]
    assert "the Auth API rejected the client credentials" in in_place_change
    for text in (nothing_to_change, in_place_change):
        assert "mypos_provider." not in text and "ProviderFailure" not in text and "Traceback" not in text


def test_a_refresh_with_a_wrong_client_secret_reports_it_once_with_one_token_request(
    scenario: Scenario, stack: Deployment
) -> None:
    stack.set_webhooks(BOTH_INACTIVE)  # nothing to change but the provider's configuration
    # The failed update records the new (wrong) provider configuration, as Pulumi does.
    assert "the Auth API rejected the client credentials" in failed(stack.up)
    scenario.control.clear_requests()

    text = failed(stack.refresh)

    assert [line for line in error_lines(text) if "not attempted" in line] == []
    assert sum("the Auth API rejected the client credentials" in line for line in error_lines(text)) == 1
    assert [(r["method"], r["path"]) for r in scenario.control.requests()] == [("POST", "/oauth/token")]
