"""Scenario: a program of its own reads what the merchant made by hand (`Webhook.get`, `Subscription.get`,
`get_events`, `get_webhooks`), then is rewritten to declare a webhook and rename it with a resource alias.

One deployment; each step writes the program it needs into the project. What `read` does with a missing or
recorded object is proven in tests/unit/test_operations.py; these steps prove what the engine makes of it:
lookups in a preview, a secret output, a destroy that leaves read objects alone, a failed preview's line.
"""

from __future__ import annotations

import textwrap
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
MISSING = "0a1b2c3d-0000-4000-8000-000000000000"

LOOKUP_PROGRAM = textwrap.dedent(
    """
    import pulumi
    from mypos_provider import Subscription, Webhook, get_events, get_webhooks

    hook = Webhook.get("existing", "{webhook_id}")
    sub = Subscription.get("existing-paid", "{subscription_id}")
    pulumi.export("url", hook.payload_url)
    pulumi.export("secret", hook.secret)
    pulumi.export("event", sub.event)
    pulumi.export("events", get_events())
    pulumi.export("webhooks", [w.payload_url for w in get_webhooks()])
    """
)

ALIASED_PROGRAM = textwrap.dedent(
    """
    import pulumi
    from mypos_provider import Webhook

    NAME = "{name}"
    opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(name="orders")]) if NAME != "orders" else None
    Webhook(NAME, payload_url="{url}", opts=opts)
    """
)


def failed(run: Callable[[], Any]) -> str:
    """Run a Pulumi operation that must fail; the CLI's whole output."""
    with pytest.raises(auto.errors.CommandError) as failure:
        run()
    return str(failure.value)


def use_program(deployment: Deployment, source: str) -> None:
    (deployment.work_dir / "__main__.py").write_text(source)


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    """A stack never deployed yet; its program is each step's."""
    return scenario.deploy(program="")


@pytest.fixture(scope="module")
def clicked(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """A webhook and its subscription the merchant made by hand in the web account."""
    hook = scenario.outofband.create_webhook(URL, CLICKED_SECRET)
    subscription = scenario.outofband.subscribe(hook["id"], "pos.payment.completed")
    return {"webhook": hook, "subscription": subscription}


def lookup_program(clicked: dict[str, dict[str, Any]]) -> str:
    return LOOKUP_PROGRAM.format(webhook_id=clicked["webhook"]["id"], subscription_id=clicked["subscription"]["id"])


# ---- what cannot be found ---------------------------------------------------------------------------------


def test_get_of_a_missing_webhook_fails_with_one_line(stack: Deployment) -> None:
    use_program(stack, f'from mypos_provider import Webhook\nWebhook.get("gone", "{MISSING}")\n')

    text = failed(stack.preview)

    assert f"webhook {MISSING}: this account has no such webhook" in text


def test_a_webhook_id_that_does_not_exist_fails_the_preview(stack: Deployment) -> None:
    use_program(
        stack,
        "from mypos_provider import Subscription\n"
        f'Subscription("orphan", webhook_id="{MISSING}", event="pos.payment.completed")\n',
    )

    text = failed(stack.preview)

    assert f"webhook_id {MISSING}: this account has no such webhook" in text


# ---- reading what was made by hand -----------------------------------------------------------------------


def test_lookups_run_during_a_preview(stack: Deployment, clicked: dict[str, dict[str, Any]]) -> None:
    use_program(stack, lookup_program(clicked))
    printed = Printed(stack)

    stack.preview()

    text = printed.text
    assert "read pulumi-python:dynamic/mypos:Webhook existing" in text
    assert "read pulumi-python:dynamic/mypos:Subscription existing-paid" in text
    assert '"account.out-bank-transfer.approved"' in text  # get_events() ran: its names are previewed outputs


def test_get_reads_an_existing_webhook_and_subscription_into_the_program_with_the_secret_as_a_secret(
    stack: Deployment,
) -> None:
    up = stack.up()

    assert up.outputs["url"].value == URL and up.outputs["event"].value == "pos.payment.completed"
    assert up.outputs["secret"].secret is True and up.outputs["secret"].value == CLICKED_SECRET
    assert "pos.payment.completed" in up.outputs["events"].value
    assert up.outputs["webhooks"].value == [URL]


def test_destroy_never_deletes_what_get_read(
    scenario: Scenario, stack: Deployment, clicked: dict[str, dict[str, Any]]
) -> None:
    scenario.control.clear_requests()

    stack.destroy()

    assert [w["id"] for w in scenario.live_webhooks()] == [clicked["webhook"]["id"]]
    assert [s["id"] for s in scenario.live_subscriptions()] == [clicked["subscription"]["id"]]
    assert scenario.control.writes() == []


# ---- a rename in code --------------------------------------------------------------------------------------


def test_renaming_a_webhook_in_code_with_resource_aliases_changes_nothing(
    scenario: Scenario, stack: Deployment
) -> None:
    use_program(stack, ALIASED_PROGRAM.format(name="orders", url=URL + "/declared"))
    stack.up()
    before = scenario.live_webhooks()  # the one made by hand and the one just declared
    use_program(stack, ALIASED_PROGRAM.format(name="shop-orders", url=URL + "/declared"))

    up = stack.up()

    assert up.summary.resource_changes == {"same": 2}
    assert scenario.live_webhooks() == before and len(before) == 2
