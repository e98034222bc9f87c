"""`emit` on a recorded stack against the in-process emulator: a delivery that got no answer is reported with
the emulator's reason for it; and what `--set` and `--terminal-id` make of the sample, checked before any
request. The command itself without a stack: tests/unit/test_emit_command.py; through the real engine:
tests/engine/test_command_line.py."""

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
from mypos_provider.cli.emit import (
    EmulatorDeliveryLog,
    FakeEvents,
    choose_sample,
    emit,
    samples_help,
    stack_targets,
    typed_value,
)
from mypos_provider.cli.errors import CliError
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
    targets = stack_targets(stack, client, "pos.payment.completed")
    status = emit(targets, FakeEvents(client), client, wait=0, out=out, reasons=reasons)
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


# --set and --terminal-id: typed after the event's sample, checked before any request


def test_a_string_field_keeps_the_text_as_typed() -> None:
    choice = choose_sample("pos.payment.completed", ["data.amount=12.50"], None)

    assert dict(choice.overrides) == {"data.amount": "12.50"}


def test_several_fields_and_a_terminal_make_one_choice() -> None:
    choice = choose_sample("pos.payment.completed", ["data.amount=1.00", "id=evt-1"], "90004890")

    assert (dict(choice.overrides), choice.terminal_id) == ({"data.amount": "1.00", "id": "evt-1"}, "90004890")


def test_no_option_chooses_nothing() -> None:
    assert not choose_sample("pos.payment.completed", [], None).chosen


def test_an_object_field_takes_json() -> None:
    choice = choose_sample("account.out-bank-transfer.approved", ['data={"amount": "5.00"}'], None)

    assert choice.overrides["data"] == {"amount": "5.00"}


def test_the_eu_names_have_their_samples_too() -> None:
    assert choose_sample("pos.payment.denied", ["data.status=denied"], None).chosen


def refusal(event: str, settings: list[str], terminal_id: str | None = None) -> str:
    with pytest.raises(CliError) as raised:
        choose_sample(event, settings, terminal_id)
    return str(raised.value)


def test_a_field_the_sample_lacks_is_refused_with_the_closest_one() -> None:
    message = refusal("pos.payment.completed", ["data.ammount=12.50"])

    assert message.startswith("--set data.ammount: the pos.payment.completed sample has no field data.ammount")
    assert "did you mean data.amount?" in message


@pytest.mark.parametrize("item", ["data.amount", "=12.50", "data.amount 12.50"])
def test_a_setting_without_path_and_value_says_how_to_write_it(item: str) -> None:
    assert "write it as --set PATH=VALUE, e.g. --set data.amount=12.50" in refusal("pos.payment.completed", [item])


def test_an_object_given_as_plain_text_is_refused() -> None:
    assert "data takes an object written as JSON" in refusal("pos.payment.completed", ["data=flat"])


def test_an_object_given_as_another_json_type_is_refused() -> None:
    assert "--set data: data is an object in the payload" in refusal("pos.payment.completed", ["data=[1]"])


def test_the_same_field_twice_is_refused() -> None:
    assert "given twice" in refusal("pos.payment.completed", ["data.amount=1", "data.amount=2"])


def test_a_terminal_for_a_bank_transfer_is_refused() -> None:
    assert "events carry no terminal" in refusal("account.out-bank-transfer.approved", [], "90004889")


def test_an_event_without_a_known_sample_cannot_be_changed() -> None:
    message = refusal("pos.payment.refunded", ["data.amount=1"])

    assert "no sample payload is known for pos.payment.refunded" in message and "pos.payment.completed" in message


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("-3", -3), ("12.50", 12.5), ("1e3", 1000.0)])
def test_a_number_field_takes_a_number(text: str, value: float) -> None:
    assert typed_value("data.count", 7, text) == value


@pytest.mark.parametrize("text", ["twelve", "nan", "inf", "1,5", ""])
def test_a_number_field_refuses_anything_else_naming_the_fix(text: str) -> None:
    with pytest.raises(CliError) as raised:
        typed_value("data.count", 7, text)

    assert "data.count is a number in the sample; write e.g. --set data.count=12.5" in str(raised.value)


@pytest.mark.parametrize(("text", "value"), [("true", True), ("False", False)])
def test_a_flag_takes_true_or_false(text: str, value: bool) -> None:
    assert typed_value("data.captured", True, text) is value


def test_a_flag_refuses_anything_else() -> None:
    with pytest.raises(CliError, match="is true or false in the sample"):
        typed_value("data.captured", True, "yes")


def test_a_null_field_takes_any_json() -> None:
    assert typed_value("data.note", None, '{"a": 1}') == {"a": 1}


def test_the_help_previews_every_sample_marked_invented() -> None:
    text = samples_help()

    assert "invented by the emulator (myPOS documents none" in text
    for event in ("pos.payment.completed", "pos.payment.cancelled", "account.out-bank-transfer.approved"):
        assert f"\n  {event}\n" in text
    assert '"payment_reference":' in text
