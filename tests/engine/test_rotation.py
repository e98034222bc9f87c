"""Scenario: rotating a webhook secret without downtime, step by step as README ("Receiving webhooks") and
SECURITY.md ("Rotating a webhook secret") give it, on one deployment and one running example receiver.

The stack config is written and changed with the documented `pulumi config set --path` commands, the
receiver accepts the old and the new secret during the switch, and no genuine delivery is refused at any
step; once the switch is over, a late delivery signed with the old secret is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from harness.engine import Deployment
from harness.printed import Printed
from harness.receiver import example_receiver
from harness.scenario import Scenario
from mypos_signature import SIGNATURE_HEADER, sign

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

EVENT = "pos.payment.completed"
OLD, NEW = "rotation-old-secret-0000000001", "rotation-new-secret-0000000002"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Any]:
    with example_receiver().ReceiverServer([OLD]) as server:
        yield server


@pytest.fixture(scope="module")
def stack(scenario: Scenario, receiver: Any) -> Deployment:
    scenario.known_secrets.append(OLD)  # the account has it until the rotation's `up`
    deployment = scenario.deploy()
    declare_orders(deployment, f"{receiver.url}/mypos", OLD)
    deployment.up()
    return deployment


@pytest.fixture(scope="module")
def answers() -> list[int]:
    """The receiver's answer to each genuine delivery, in the order the steps made them."""
    return []


def config_set(deployment: Deployment, *args: str) -> None:
    deployment.cli("config", "set", *args, "--stack", deployment.stack.name)


def declare_orders(deployment: Deployment, payload_url: str, secret: str) -> None:
    """The webhook as README's stack-config YAML has it, written with `pulumi config set --path`.

    (`--path` needs this structured form: on a `mypos:webhooks` set as one JSON string, the rotation
    command would replace the whole list with `[{"secret": ...}]`.)"""
    config_set(deployment, "--path", "mypos:webhooks[0].name", "orders")
    config_set(deployment, "--path", "mypos:webhooks[0].payloadUrl", payload_url)
    config_set(deployment, "--secret", "--path", "mypos:webhooks[0].secret", secret)
    config_set(deployment, "--path", "mypos:webhooks[0].events[0]", EVENT)


def delivered(scenario: Scenario) -> int:
    """Emit one event and return the receiver's answer to its first attempt."""
    [notification] = scenario.emulator.emit_event(EVENT, client_id=scenario.account.client_id)["notifications"]
    return int(notification["response_code"])


def test_a_delivery_signed_with_the_old_secret_is_accepted(
    scenario: Scenario, stack: Deployment, answers: list[int]
) -> None:
    answers.append(delivered(scenario))

    assert answers == [200]


def test_the_preview_of_the_new_secret_shows_only_the_secret_masked_and_deliveries_still_verify(
    scenario: Scenario, stack: Deployment, receiver: Any, answers: list[int]
) -> None:
    receiver.secret = [OLD, NEW]  # 1. the receiver accepts the old and the new secret
    config_set(stack, "--secret", "--path", "mypos:webhooks[0].secret", NEW)  # 2.
    printed = Printed(stack)

    preview = stack.preview(diff=True)  # 3. only the secret changes, masked
    answers.append(delivered(scenario))  # myPOS still signs with the old secret

    assert preview.change_summary == {"update": 1, "same": 2}
    assert "~ secret: [secret] => [secret]" in printed.text
    assert "payload_url" not in printed.text and OLD not in printed.text and NEW not in printed.text
    assert answers == [200, 200]


def test_up_rotates_the_secret_in_place_and_deliveries_signed_with_the_new_one_verify(
    scenario: Scenario, stack: Deployment, answers: list[int]
) -> None:
    up = stack.up()  # 4.
    answers.append(delivered(scenario))

    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert answers == [200, 200, 200]


def test_once_the_old_secret_is_dropped_no_genuine_delivery_was_ever_refused(
    scenario: Scenario, receiver: Any, answers: list[int]
) -> None:
    receiver.secret = [NEW]  # 5./6. once the old secret's retries are over, it is dropped
    answers.append(delivered(scenario))

    assert answers == [200, 200, 200, 200]
    assert [d.secret_index for d in receiver.accepted] == [0, 0, 1, 0]  # old, old, new of [old, new], new


def test_after_the_rotation_a_delivery_signed_with_the_old_secret_is_refused(scenario: Scenario, receiver: Any) -> None:
    body = b'{"event":"pos.payment.completed","id":"a-late-retry-signed-with-the-old-secret"}'

    late = requests.post(
        f"{receiver.url}/mypos",
        data=body,
        headers={SIGNATURE_HEADER: sign(body, OLD, timestamp=1700000000)},
        timeout=10,
    )

    assert (late.status_code, delivered(scenario)) == (401, 200)
