"""Scenario: no webhook secret, client secret or token in plaintext, through a whole lifecycle of one deployment.

Not in state, stack export, CLI output or logs: checked after each kind of operation that handles a secret
(create, a masked diff, rotation, refresh of a secret changed by hand, destroy), and once more by the
scenario's own scan at the end of the module. How a secret is generated and kept is a rule of the core
(tests/unit/test_webhook_rules.py); these steps prove that the engine's state carries it across runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine import Deployment, Outcome
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

DECLARED = {
    "name": "declared",
    "payloadUrl": "https://shop.example.com/mypos/declared",
    "secret": "declared-secret-0123456789",
    "events": ["pos.payment.completed"],
}
GENERATED = {
    "name": "generated",
    "payloadUrl": "https://shop.example.com/mypos/generated",
    "events": ["pos.payment.cancelled"],
}
ROTATED = dict(DECLARED, secret="rotated-secret-9876543210")
SET_BY_HAND = "out-of-band-secret-42"


@pytest.fixture(scope="module")
def stack(scenario: Scenario) -> Deployment:
    # Secrets the account has for a while only: the scenario's leak scan looks for them too.
    scenario.known_secrets.extend([DECLARED["secret"], ROTATED["secret"], SET_BY_HAND])
    return scenario.deploy([DECLARED, GENERATED])


@pytest.fixture(scope="module")
def first_up(stack: Deployment) -> Outcome:
    return stack.up().recorded()


@pytest.fixture(scope="module")
def exported_before_destroy() -> list[str]:
    return []


def live_secret_of(scenario: Scenario, declaration: dict[str, Any]) -> str:
    return next(w["secret"] for w in scenario.live_webhooks() if w["payload_url"] == declaration["payloadUrl"])


def every_secret(scenario: Scenario) -> list[str]:
    """Every secret the account has had in this scenario, with the client secret and every token issued."""
    assert len(scenario.emulator.issued_tokens()) >= 1
    return scenario.secrets()


def test_the_secret_output_is_a_pulumi_secret_whether_declared_or_generated(first_up: Outcome) -> None:
    assert first_up.outputs["webhookSecrets"].secret is True
    for resource in ("declared", "generated"):
        assert len(first_up.outputs["webhookSecrets"].value[resource]) > 0


def test_the_provider_blob_is_small_plain_and_identical_in_every_resource(stack: Deployment, first_up: Outcome) -> None:
    blobs = {
        r["inputs"]["__provider"] if isinstance(r["inputs"]["__provider"], str) else "secret"
        for r in stack.resources("Webhook")
    }
    sub_blobs = {r["inputs"]["__provider"] for r in stack.resources("Subscription")}

    assert len(blobs) == 1 and len(sub_blobs) == 1
    (blob,) = blobs
    assert blob != "secret" and len(blob) < 400


def test_a_generated_secret_is_32_characters_and_kept_across_runs(
    scenario: Scenario, stack: Deployment, first_up: Outcome
) -> None:
    generated = live_secret_of(scenario, GENERATED)
    scenario.known_secrets.append(generated)

    stack.up()

    assert len(generated) == 32 and generated.isalnum()
    assert live_secret_of(scenario, GENERATED) == generated


def test_no_secret_leaks_through_a_masked_diff_a_rotation_and_a_refresh_of_a_secret_changed_by_hand(
    scenario: Scenario, stack: Deployment, exported_before_destroy: list[str]
) -> None:
    stack.set_webhooks([ROTATED, GENERATED])
    stack.preview(diff=True)
    stack.up()
    declared_id = next(w["id"] for w in scenario.live_webhooks() if w["payload_url"] == DECLARED["payloadUrl"])
    scenario.outofband.patch_webhook(declared_id, secret=SET_BY_HAND)
    stack.refresh()
    stack.up()
    exported_before_destroy.append(stack.export_text())

    assert stack.leaked(every_secret(scenario)) == []


def test_no_secret_leaks_after_destroy_nor_was_one_in_the_last_export(
    scenario: Scenario, stack: Deployment, exported_before_destroy: list[str]
) -> None:
    stack.destroy()

    secrets = every_secret(scenario)
    assert stack.leaked(secrets) == []
    [export] = exported_before_destroy
    assert all(s not in export for s in secrets)
