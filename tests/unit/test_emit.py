"""`emit` on a recorded stack against the in-process emulator: a delivery that got no answer is reported with
the emulator's reason for it. Through the real engine: tests/engine/test_command_line.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from harness.accounts import random_credentials
from harness.emulator import EmulatorControl
from harness.outofband import OutOfBand
from mypos_emulator import Emulator
from mypos_emulator.guard import TOKEN_ENVIRONMENT_VARIABLE
from mypos_provider.cli.emit import EmulatorDeliveryLog, emit
from mypos_provider.client import Credentials, MyPOSClient, RetryPolicy
from mypos_provider.settings import emulator_control_token
from mypos_provider.tokens import WEBHOOK_TYPE

CONTROL_TOKEN = "emit-test-control-token-0123456"


class RecordedStack:
    """A stack whose state holds one webhook resource, `orders`."""

    def __init__(self, webhook_id: str, payload_url: str) -> None:
        self.name = "test"
        self._resource = {
            "urn": f"urn:pulumi:test::p::{WEBHOOK_TYPE}::orders",
            "type": WEBHOOK_TYPE,
            "id": webhook_id,
            "outputs": {"payload_url": payload_url},
        }

    def config(self) -> dict[str, Any]:
        return {}

    def deployment(self) -> dict[str, Any]:
        return {"resources": [self._resource]}

    def replace_deployment(self, deployment: dict[str, Any]) -> None:
        raise AssertionError("emit never writes the state")


@pytest.fixture
def guarded() -> Iterator[Emulator]:
    with Emulator(control_token=CONTROL_TOKEN) as emulator:
        yield emulator


def emit_to(emulator: Emulator, payload_url: str, control_token: str | None = None) -> tuple[int, str]:
    """One webhook at `payload_url` subscribed to payments (made out of band), then `emit` once."""
    account = random_credentials()
    control = EmulatorControl(emulator.url)
    if control_token:
        control.session.headers["Authorization"] = f"Bearer {control_token}"
    control.add_account(account.client_id, account.client_secret)
    control.update_settings(delivery_retry_delays=[])
    outofband = OutOfBand(emulator.url, account.client_id, account.client_secret)
    hook = outofband.create_webhook(payload_url, "emit-test-secret-0001")
    outofband.subscribe(hook["id"], "pos.payment.completed")
    client = MyPOSClient.connect(
        api_url=emulator.api_url,
        auth_url=emulator.url,
        credentials=Credentials(account.client_id, account.client_secret),
        retry=RetryPolicy(max_retries=1, backoff_factor=0.01),
    )
    out = io.StringIO()
    stack = RecordedStack(hook["id"], payload_url)
    reasons = EmulatorDeliveryLog.serving(emulator.api_url, emulator_control_token())
    status = emit(stack, client, "pos.payment.completed", wait=0, out=out, reasons=reasons)
    return status, out.getvalue()


def test_a_delivery_without_an_answer_is_reported_with_the_emulators_reason(emulator: Emulator) -> None:
    status, out = emit_to(emulator, "http://nobody.invalid/mypos/orders")

    assert status == 1
    assert (
        "FAILED     orders (http://nobody.invalid/mypos/orders): no answer: the host name could not be resolved" in out
    )


def test_a_refused_connection_is_reported_as_such(emulator: Emulator) -> None:
    status, out = emit_to(emulator, "http://127.0.0.1:9/closed")

    assert "no answer: connection refused; myPOS retries it" in out


def test_with_the_control_token_in_the_environment_a_guarded_emulator_gives_its_reason(
    guarded: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENVIRONMENT_VARIABLE, CONTROL_TOKEN)

    status, out = emit_to(guarded, "http://127.0.0.1:9/closed", CONTROL_TOKEN)

    assert "no answer: connection refused" in out
    assert CONTROL_TOKEN not in out


def test_without_the_control_token_the_failure_is_still_reported_only_without_a_reason(
    guarded: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENVIRONMENT_VARIABLE, raising=False)

    status, out = emit_to(guarded, "http://127.0.0.1:9/closed", CONTROL_TOKEN)

    assert status == 1
    assert "(http://127.0.0.1:9/closed): no answer; myPOS retries it" in out


@pytest.mark.parametrize("api_url", ["https://webhook-api.mypos.com/v1", "https://sandbox.example/v1"])
def test_no_emulator_is_asked_for_reasons_beyond_loopback(api_url: str) -> None:
    assert EmulatorDeliveryLog.serving(api_url) is None
