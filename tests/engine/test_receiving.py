"""The other end: a deployed webhook's deliveries verify at the example receiver, forgeries do not, and a
secret rotated with `pulumi up` takes effect for the next delivery."""

from __future__ import annotations

import json
import time

import pytest
import requests

from harness.receiver import example_receiver
from mypos_provider.signature import sign

pytestmark = pytest.mark.engine

FIRST, SECOND = "first-receiver-secret-01", "second-receiver-secret-2"


@pytest.fixture
def receiver():
    with example_receiver().ReceiverServer(FIRST) as server:
        yield server


def emit(deployment, event: str, *, delivered: bool = True) -> str:
    """`python -m mypos_provider emit EVENT --stack test`, run in the project like a user would.

    It exits 0 when every delivery was acknowledged, 1 when one failed."""
    done = deployment.mypos("emit", event, "--stack", "test", "--wait", "1")
    assert done.returncode == (0 if delivered else 1), done.stdout + done.stderr
    return done.stdout


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_deliveries_verify_forgeries_fail_and_a_rotated_secret_takes_effect(deploy, control, account, receiver):
    hook = {
        "name": "orders",
        "payloadUrl": f"{receiver.url}/mypos/orders",
        "secret": FIRST,
        "events": ["pos.payment.completed", "pos.payment.cancelled"],
    }
    deployment = deploy([hook])
    deployment.up()

    report = emit(deployment, "pos.payment.completed")
    emit(deployment, "pos.payment.cancelled")
    wait_for(lambda: len(receiver.accepted) == 2)
    assert "delivered" in report and "HTTP 200" in report
    assert {d.event for d in receiver.accepted} == {"pos.payment.completed", "pos.payment.cancelled"}
    assert {d.scheme for d in receiver.accepted} == {"body"}  # the emulator's default signing variant
    notifications = control.state(account.client_id)["notifications"]
    assert len(notifications) == 2 and {n["response_code"] for n in notifications} == {200}

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

    deployment.set_webhooks([{**hook, "secret": SECOND}])
    deployment.up()
    receiver.secret = SECOND
    emit(deployment, "pos.payment.completed")
    wait_for(lambda: len(receiver.accepted) == 3)

    receiver.secret = FIRST  # a receiver still on the old secret refuses what is now sent
    emit(deployment, "pos.payment.completed", delivered=False)
    wait_for(lambda: len(receiver.rejected) >= 2)  # myPOS retries a refused delivery, so maybe more
    assert receiver.rejected[-1].failure == "SignatureMismatch"
    assert control.state(account.client_id)["notifications"][-1]["response_code"] == 401
