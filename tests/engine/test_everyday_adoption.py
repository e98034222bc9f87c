"""Scenario: a webhook the merchant made by hand is adopted into a stack with `adoptId`, reviewed in a preview
first, then renamed twice without an alias: once by a plain `up`, once by a targeted `up` first.

One deployment on one hand-made webhook. Which changes an adoption makes is a rule of the core
(tests/unit/test_webhook_rules.py); these steps prove what the engine shows and sequences: the preview's
account of the adoption, and renames that release the webhook from the old name instead of deleting it.
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
CLICKED_SECRET = "clicked-together-secret-01"
NEW_SECRET = "new-secret-0123"


def failed(run: Callable[[], Any]) -> str:
    """Run a Pulumi operation that must fail; the CLI's whole output."""
    with pytest.raises(auto.errors.CommandError) as failure:
        run()
    return str(failure.value)


def adopting(name: str, adopt_id: str) -> list[dict[str, Any]]:
    """`mypos:webhooks` declaring the hand-made webhook under `name`, at URL, with the new secret."""
    return [{"name": name, "payloadUrl": URL, "adoptId": adopt_id, "secret": NEW_SECRET, "events": []}]


def urn_of(deployment: Deployment, type_name: str, name: str) -> str:
    return next(r["urn"] for r in deployment.resources(type_name) if r["urn"].endswith(f"::{name}"))


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    """A stack never deployed yet; each step declares what it adopts."""
    return scenario.deploy([])


@pytest.fixture(scope="module")
def clicked(scenario: Scenario) -> dict[str, Any]:
    """The webhook the merchant made by hand, at another URL and with a secret the adoption rotates."""
    hook = scenario.outofband.create_webhook(URL + "/old", CLICKED_SECRET)
    scenario.known_secrets.append(CLICKED_SECRET)  # rotated away by the adoption: the account forgets it
    return hook


def test_an_adopt_id_that_does_not_exist_fails_the_preview(scenario: Scenario, stack: Deployment) -> None:
    missing = "0a1b2c3d-0000-4000-8000-000000000000"
    stack.set_webhooks([{"name": "legacy", "payloadUrl": URL, "adoptId": missing}])
    scenario.control.clear_requests()

    text = failed(stack.preview)

    assert f"adopt_id {missing}: this account has no such webhook" in text
    assert scenario.control.writes() == []


def test_a_preview_with_adopt_id_says_what_up_will_change_on_the_live_webhook(
    stack: Deployment, clicked: dict[str, Any]
) -> None:
    stack.set_webhooks(adopting("legacy", clicked["id"]))
    printed = Printed(stack)

    stack.preview()

    text = printed.text
    assert f"webhook {clicked['id']} ({URL}/old) will be adopted and changed in place" in text
    assert f"payload_url '{URL}/old' => '{URL}'" in text and "secret [secret] => [secret]" in text
    assert NEW_SECRET not in text and CLICKED_SECRET not in text


def test_renaming_an_adopted_webhook_without_an_alias_releases_it_instead_of_deleting_it(
    scenario: Scenario, stack: Deployment, clicked: dict[str, Any]
) -> None:
    stack.up()  # adopts it as `legacy`
    stack.set_webhooks(adopting("orders", clicked["id"]))
    printed = Printed(stack)

    stack.up()

    assert [w["id"] for w in scenario.live_webhooks()] == [clicked["id"]]
    assert [r["id"] for r in stack.resources("Webhook")] == [clicked["id"]]
    assert "it was released from the removed resource, not deleted" in printed.text
    stack.preview(expect_no_changes=True)


def test_a_rename_of_an_adopted_webhook_applied_with_target_first_still_keeps_the_webhook(
    scenario: Scenario, stack: Deployment, clicked: dict[str, Any]
) -> None:
    stack.set_webhooks(adopting("shop-orders", clicked["id"]))
    new_urn = urn_of(stack, "Webhook", "orders").replace("::orders", "::shop-orders")

    stack.up(target=[new_urn])  # the new name adopts the webhook; the old name stays in the state
    stack.up()  # now the old name is removed

    assert [w["id"] for w in scenario.live_webhooks()] == [clicked["id"]]
    assert [r["urn"] for r in stack.resources("Webhook")] == [new_urn]
    stack.preview(expect_no_changes=True)
