"""Scenario: the other end of one deployed webhook, at the example receiver: deliveries verify, forgeries do
not, and a secret rotated with `pulumi up` takes effect for the next delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from harness.engine import Deployment
from harness.receiver import example_receiver
from harness.scenario import Scenario
from mypos_signature import sign

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

FIRST, SECOND = "first-receiver-secret-01", "second-receiver-secret-2"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Any]:
    with example_receiver().ReceiverServer(FIRST) as server:
        yield server


@pytest.fixture(scope="module")
def hook(receiver: Any) -> dict[str, Any]:
    return {
        "name": "orders",
        "payloadUrl": f"{receiver.url}/mypos/orders",
        "secret": FIRST,
        "events": ["pos.payment.completed", "pos.payment.cancelled"],
    }


@pytest.fixture(scope="module")
def stack(scenario: Scenario, hook: dict[str, Any]) -> Deployment:
    scenario.known_secrets.append(FIRST)  # the account has it until the rotation's `up`
    return scenario.deployed([hook])


def emit(deployment: Deployment, event: str, *, delivered: bool = True) -> str:
    """`python -m mypos_provider emit EVENT --stack test`, run in the project like a user would.

    It exits 0 when every delivery was acknowledged, 1 when one failed."""
    done = deployment.mypos("emit", event, "--stack", "test", "--wait", "1")
    assert done.returncode == (0 if delivered else 1), done.stdout + done.stderr
    return done.stdout


def notifications(scenario: Scenario) -> list[dict[str, Any]]:
    return scenario.control.state(scenario.account.client_id)["notifications"]


def test_deliveries_of_both_events_verify_at_the_receiver(
    scenario: Scenario, stack: Deployment, receiver: Any, wait_until: Callable[..., Any]
) -> None:
    report = emit(stack, "pos.payment.completed")
    emit(stack, "pos.payment.cancelled")
    wait_until(lambda: len(receiver.accepted) == 2, timeout=10)

    assert "delivered" in report and "HTTP 200" in report
    assert {d.event for d in receiver.accepted} == {"pos.payment.completed", "pos.payment.cancelled"}
    assert {d.scheme for d in receiver.accepted} == {"body"}  # the emulator's default signing variant
    assert len(notifications(scenario)) == 2 and {n["response_code"] for n in notifications(scenario)} == {200}


def test_a_forged_delivery_is_refused(receiver: Any) -> None:
    forged_body = json.dumps({"event": "pos.payment.completed", "id": "forged"}).encode()

    forged = requests.post(
        f"{receiver.url}/mypos/orders",
        data=forged_body,
        timeout=10,
        headers={
            "X-myPOS-Event": "pos.payment.completed",
            "X-myPOS-Signature": sign(forged_body, "a-guessed-secret", timestamp=int(time.time())),
        },
    )

    assert forged.status_code == 401
    assert [r.failure for r in receiver.rejected] == ["SignatureMismatch"]


def test_a_secret_rotated_with_up_takes_effect_for_the_next_delivery(
    stack: Deployment, hook: dict[str, Any], receiver: Any, wait_until: Callable[..., Any]
) -> None:
    stack.set_webhooks([{**hook, "secret": SECOND}])
    stack.up()
    receiver.secret = SECOND

    emit(stack, "pos.payment.completed")

    wait_until(lambda: len(receiver.accepted) == 3, timeout=10)


def test_a_receiver_still_on_the_old_secret_refuses_what_is_now_sent(
    scenario: Scenario, stack: Deployment, receiver: Any, wait_until: Callable[..., Any]
) -> None:
    receiver.secret = FIRST

    emit(stack, "pos.payment.completed", delivered=False)

    wait_until(lambda: len(receiver.rejected) >= 2, timeout=10)  # myPOS retries a refused delivery, so maybe more
    assert receiver.rejected[-1].failure == "SignatureMismatch"
    assert notifications(scenario)[-1]["response_code"] == 401
