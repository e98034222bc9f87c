"""Bad input through the real engine: one case of each kind (tests/cases/bad_input.py) fails the preview
before any write, with one clear line naming the field and the fix, and without a traceback. The unit tier
(tests/unit/test_bad_input_cases.py) runs every case of the table through the same pipeline in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from cases.bad_input import ENGINE_CASES, GOOD_HOOK, Case, hook
from harness.accounts import random_credentials
from harness.emulator import EmulatorControl
from harness.engine import Deployment, new_deployment
from harness.printed import Printed
from mypos_emulator import Emulator

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[Emulator]:
    with Emulator(port=0).start() as emu:
        yield emu


@pytest.fixture(scope="module")
def stack(tmp_path_factory, module_emulator) -> Iterator[Deployment]:
    credentials = random_credentials()
    EmulatorControl(module_emulator.url).add_account(credentials.client_id, credentials.client_secret)
    tmp = tmp_path_factory.mktemp("bad-input")
    deployment = new_deployment(
        tmp,
        auth_url=module_emulator.url,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        webhooks=[GOOD_HOOK],
    )
    deployment.baseline = deployment.stack.get_all_config()
    deployment.dotenv_path = Path(deployment.stack.workspace.env_vars["MYPOS_DOTENV"])
    yield deployment
    # Secrets stay secret even in error messages: nothing of the account's in plaintext anywhere.
    assert deployment.leaked([credentials.client_secret, *module_emulator.issued_tokens()]) == []


def configure(stack: Deployment, case: Case) -> None:
    stack.stack.set_all_config(stack.baseline)
    for key in set(stack.stack.get_all_config()) - set(stack.baseline):
        stack.stack.remove_config(key)
    stack.set_webhooks(case.webhooks)
    for key, value in case.config.items():
        if value is None:
            stack.stack.remove_config(key)
        else:
            stack.stack.set_config(key, auto.ConfigValue(value, secret=key.endswith("Secret")))
    env = stack.stack.workspace.env_vars
    for key in [k for k in env if k.startswith("MYPOS_") and k not in ("MYPOS_LOG_FILE", "MYPOS_DOTENV")]:
        del env[key]
    env.update(case.env)
    if case.dotenv is None:
        stack.dotenv_path.unlink(missing_ok=True)
    else:
        stack.dotenv_path.write_text(case.dotenv)


def test_the_good_configuration_previews_cleanly(stack):
    configure(stack, Case("good", "", ()))
    assert stack.preview().change_summary == {"create": 3}


@pytest.mark.parametrize("case", ENGINE_CASES, ids=[c.id for c in ENGINE_CASES])
def test_bad_input_fails_before_any_write_with_one_clear_line(stack, module_emulator, case):
    control = EmulatorControl(module_emulator.url)
    configure(stack, case)
    control.clear_requests()
    printed = Printed(stack)

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.preview()

    text = printed.text + "\n" + str(failure.value)
    lines = [line for line in text.splitlines() if all(fragment in line for fragment in case.expect)]
    assert lines, f"no single line says all of {case.expect}:\n{text}"
    assert "Traceback" not in text
    assert control.writes() == []


def test_a_payload_url_with_credentials_fails_without_showing_them(stack, module_emulator):
    configure(stack, Case("credentials", "", (), hook(payloadUrl="https://shop:pw-never-shown@shop.example.com/cb")))
    printed = Printed(stack)

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.preview()

    text = printed.text + "\n" + str(failure.value)
    assert "payload_url must not embed credentials" in text
    assert "pw-never-shown" not in text


def test_a_webhook_without_events_previews_with_a_warning_that_no_event_reaches_it(stack):
    configure(stack, Case("no events", "", (), hook(events=[])))
    printed = Printed(stack)

    assert stack.preview().change_summary == {"create": 2}
    assert "webhook orders declares no events (events: []): myPOS sends nothing to it" in printed.text
