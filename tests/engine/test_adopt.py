"""Scenario: bringing webhooks and subscriptions made outside Pulumi under management, without recreating them.

One deployment on one account: the objects to adopt are made out of band (as a merchant clicking in the web
account would) in the step that adopts them. That an adoption converges the declared values in place is a
rule of the core (tests/unit/test_webhook_rules.py::test_adoption_converges_in_place_and_never_rotates_an_
undeclared_secret); these steps prove what the engine shows: nothing recreated, a clean preview after, and
the one-line errors of an adoption refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from pulumi.automation import errors as auto_errors

from harness.engine import Deployment
from harness.printed import Printed
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

URL = "https://shop.example.com/mypos/legacy"
OTHER_URL = "https://shop.example.com/mypos/other"
SECRET = "clicked-together-secret-01"
MISSING_ID = "0a1b2c3d-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    return scenario.deploy([])


@pytest.fixture(scope="module")
def adopted() -> list[dict[str, Any]]:
    """The webhooks the steps have declared so far, for the steps after them."""
    return []


def listed_account(scenario: Scenario) -> dict[str, Any]:
    """What `python -m mypos_provider list --format json` reports, credentials from the environment."""
    env = {
        **os.environ,
        "MYPOS_CLIENT_ID": scenario.account.client_id,
        "MYPOS_CLIENT_SECRET": scenario.account.client_secret,
        "MYPOS_AUTH_URL": scenario.emulator.url,
        "MYPOS_API_URL": scenario.emulator.api_url,
        "MYPOS_DOTENV": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mypos_provider", "list", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def declaration_of(name: str, listed: dict[str, Any]) -> dict[str, Any]:
    """A webhook declaration adopting a listed webhook and its subscriptions as they are."""
    return {
        "name": name,
        "payloadUrl": listed["payload_url"],
        "adoptId": listed["id"],
        "events": [
            {
                "event": s["event"],
                "adoptId": s["id"],
                **({"terminalIds": s["terminal_ids"]} if s["terminal_ids"] else {}),
            }
            for s in listed["subscriptions"]
        ],
    }


def test_adopting_an_id_that_does_not_exist_fails_and_creates_nothing(scenario: Scenario, stack: Deployment) -> None:
    stack.set_webhooks([{"name": "legacy", "payloadUrl": URL, "adoptId": MISSING_ID, "events": []}])
    printed = Printed(stack)

    with pytest.raises(auto_errors.CommandError):
        stack.up()

    assert f"adopt_id {MISSING_ID}: this account has no such webhook" in printed.text
    assert scenario.live_webhooks() == []


def test_adopting_a_webhook_and_two_subscriptions_recreates_nothing_and_keeps_the_secret(
    scenario: Scenario, stack: Deployment, adopted: list[dict[str, Any]]
) -> None:
    hook = scenario.outofband.create_webhook(URL, SECRET)
    paid = scenario.outofband.subscribe(hook["id"], "pos.payment.completed")
    cancelled = scenario.outofband.subscribe(hook["id"], "pos.payment.cancelled", ["90004889"])
    [listed] = listed_account(scenario)["webhooks"]
    assert listed["secret"] == "********"
    adopted.append(declaration_of("legacy", listed))
    stack.set_webhooks(adopted)
    scenario.control.clear_requests()

    stack.up()

    assert not [r for r in scenario.control.writes() if r["method"] in ("POST", "DELETE")]
    assert [(w["id"], w["secret"]) for w in scenario.live_webhooks()] == [(hook["id"], SECRET)]
    assert sorted(s["id"] for s in scenario.live_subscriptions()) == sorted([paid["id"], cancelled["id"]])
    stack.preview(expect_no_changes=True)


def test_adopting_a_subscription_to_another_event_is_refused(
    scenario: Scenario, stack: Deployment, adopted: list[dict[str, Any]]
) -> None:
    hook = scenario.outofband.create_webhook(OTHER_URL, SECRET)
    paid = scenario.outofband.subscribe(hook["id"], "pos.payment.completed")
    mismatched = {
        "name": "other",
        "payloadUrl": OTHER_URL,
        "adoptId": hook["id"],
        "events": [{"event": "pos.payment.cancelled", "adoptId": paid["id"]}],
    }
    stack.set_webhooks([*adopted, mismatched])
    printed = Printed(stack)

    with pytest.raises(auto_errors.CommandError):
        stack.up()

    assert "declare event='pos.payment.completed' to adopt it" in printed.text
    subscriptions = scenario.live_subscriptions()
    assert [s["id"] for s in subscriptions if s["webhook_id"] == hook["id"]] == [paid["id"]]
    assert len(subscriptions) == 3, "the refused adoption subscribed nothing"
