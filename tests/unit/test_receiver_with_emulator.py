"""The example receiver against real deliveries: the emulator signs and POSTs, nothing is hand-made.

Each signing setting of the emulator (docs/mypos-api.md §8.2 and §8.4) must verify, give the event and the
payload that were signed, and a secret rotated through the Webhook API must never be refused while the
receiver accepts the old and the new secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from harness.accounts import Account
from harness.outofband import OutOfBand
from harness.receiver import example_receiver
from mypos_emulator import Emulator
from mypos_signature import SIGNATURE_HEADER, sign

if TYPE_CHECKING:  # the file is loaded by path at run time; this is for type checkers only
    from examples.receiver import ReceiverServer as Receiver

EVENT = "pos.payment.completed"
OLD, NEW = "rotation-old-secret-000000000001", "rotation-new-secret-000000000002"


receiver_module = example_receiver()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_module.ReceiverServer([OLD, NEW]) as server:
        yield server


@pytest.fixture
def webhook(outofband: OutOfBand, receiver: Receiver) -> dict[str, Any]:
    """A webhook of the test's account, signed with the old secret and subscribed to EVENT."""
    hook = outofband.create_webhook(f"{receiver.url}/mypos", OLD)
    outofband.subscribe(hook["id"], EVENT)
    return hook


def emit(emulator: Emulator, account: Account) -> dict[str, Any]:
    """One event, delivered once (a refused delivery would be retried on the emulator's clock)."""
    [notification] = emulator.emit_event(EVENT, client_id=account.client_id)["notifications"]
    return notification


@pytest.mark.parametrize("scheme", ["body", "t.body"])
@pytest.mark.parametrize("body_style", ["compact", "python-default"])
def test_every_signing_setting_verifies_and_yields_the_signed_event_and_payload(
    emulator: Emulator, account: Account, receiver: Receiver, webhook: dict[str, Any], scheme: str, body_style: str
) -> None:
    emulator.update_settings(signing_scheme=scheme, body_style=body_style)
    notification = emit(emulator, account)
    [delivery] = receiver.accepted
    assert notification["response_code"] == 200
    assert (delivery.event, delivery.scheme) == (EVENT, scheme)
    assert delivery.payload == notification["payload"]


def test_a_secret_rotated_through_the_api_is_never_refused_while_both_are_accepted(
    emulator: Emulator, account: Account, outofband: OutOfBand, receiver: Receiver, webhook: dict[str, Any]
) -> None:
    before = emit(emulator, account)
    outofband.patch_webhook(webhook["id"], secret=NEW)  # what `pulumi up` sends for a rotation
    after = emit(emulator, account)
    assert [before["response_code"], after["response_code"]] == [200, 200]
    assert [d.secret_index for d in receiver.accepted] == [0, 1]


def test_after_the_old_secret_is_dropped_deliveries_verify_and_old_signatures_do_not(
    emulator: Emulator, account: Account, outofband: OutOfBand, receiver: Receiver, webhook: dict[str, Any]
) -> None:
    outofband.patch_webhook(webhook["id"], secret=NEW)
    receiver.secret = [NEW]
    delivered = emit(emulator, account)
    replay_body = b'{"event":"pos.payment.completed","id":"signed-with-the-dropped-secret"}'
    headers = {SIGNATURE_HEADER: sign(replay_body, OLD, timestamp=1700000000), "Content-Type": "application/json"}
    refused = requests.post(f"{receiver.url}/mypos", data=replay_body, headers=headers, timeout=10).status_code
    assert (delivered["response_code"], refused) == (200, 401)
    assert [r.failure for r in receiver.rejected] == ["SignatureMismatch"]
