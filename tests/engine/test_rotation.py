"""Rotating a webhook secret without downtime, step by step as README ("Receiving webhooks") and SECURITY.md
("Rotating a webhook secret") give it: the stack config is written and changed with the documented
`pulumi config set --path` commands, the example receiver accepts the old and the new secret during the
switch, and no genuine delivery is refused at any step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from harness.receiver import example_receiver
from mypos_provider.signature import SIGNATURE_HEADER, sign

pytestmark = pytest.mark.engine

EVENT = "pos.payment.completed"
OLD, NEW = "rotation-old-secret-0000000001", "rotation-new-secret-0000000002"


@pytest.fixture
def receiver() -> Iterator[Any]:
    with example_receiver().ReceiverServer([OLD]) as server:
        yield server


def config_set(deployment: Any, *args: str) -> None:
    deployment.cli("config", "set", *args, "--stack", deployment.stack.name)


def declare_orders(deployment: Any, payload_url: str, secret: str) -> None:
    """The webhook as README's stack-config YAML has it, written with `pulumi config set --path`.

    (`--path` needs this structured form: on a `mypos:webhooks` set as one JSON string, the rotation
    command would replace the whole list with `[{"secret": ...}]`.)"""
    config_set(deployment, "--path", "mypos:webhooks[0].name", "orders")
    config_set(deployment, "--path", "mypos:webhooks[0].payloadUrl", payload_url)
    config_set(deployment, "--secret", "--path", "mypos:webhooks[0].secret", secret)
    config_set(deployment, "--path", "mypos:webhooks[0].events[0]", EVENT)


def delivered(emulator: Any, account: Any) -> int:
    """Emit one event and return the receiver's answer to its first attempt."""
    [notification] = emulator.emit_event(EVENT, client_id=account.client_id)["notifications"]
    return int(notification["response_code"])


def test_the_documented_rotation_never_refuses_a_genuine_delivery(deploy, emulator, account, receiver):
    deployment = deploy()
    declare_orders(deployment, f"{receiver.url}/mypos", OLD)
    deployment.up()
    answers = [delivered(emulator, account)]

    receiver.secret = [OLD, NEW]  # 1. the receiver accepts the old and the new secret
    config_set(deployment, "--secret", "--path", "mypos:webhooks[0].secret", NEW)  # 2.
    deployment.output.clear()
    preview = deployment.preview(diff=True)  # 3. only the secret changes, masked
    preview_text = deployment.cli_text()
    answers.append(delivered(emulator, account))  # myPOS still signs with the old secret
    up = deployment.up()  # 4.
    answers.append(delivered(emulator, account))
    receiver.secret = [NEW]  # 5./6. once the old secret's retries are over, it is dropped
    answers.append(delivered(emulator, account))

    assert preview.change_summary == {"update": 1, "same": 2}
    assert "~ secret: [secret] => [secret]" in preview_text
    assert "payload_url" not in preview_text and OLD not in preview_text and NEW not in preview_text
    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert answers == [200, 200, 200, 200]
    assert [d.secret_index for d in receiver.accepted] == [0, 0, 1, 0]  # old, old, new of [old, new], new


def test_after_the_rotation_a_delivery_signed_with_the_old_secret_is_refused(deploy, emulator, account, receiver):
    deployment = deploy()
    declare_orders(deployment, f"{receiver.url}/mypos", OLD)
    deployment.up()
    receiver.secret = [OLD, NEW]
    config_set(deployment, "--secret", "--path", "mypos:webhooks[0].secret", NEW)
    deployment.up()
    receiver.secret = [NEW]

    body = b'{"event":"pos.payment.completed","id":"a-late-retry-signed-with-the-old-secret"}'
    late = requests.post(
        f"{receiver.url}/mypos",
        data=body,
        headers={SIGNATURE_HEADER: sign(body, OLD, timestamp=1700000000)},
        timeout=10,
    )

    assert (late.status_code, delivered(emulator, account)) == (401, 200)
