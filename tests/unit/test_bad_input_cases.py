"""Every bad-input case (tests/cases/bad_input.py) through the provider's own pipeline, in-process: the stack
program's loader, the provider process's settings and connection gate, then the check of each declared
resource. Each must fail with one line holding every expected fragment, before anything is written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cases.bad_input import CASES, ENGINE_CASES, KINDS, Case
from mypos_provider.core.subscriptions import SubscriptionRules
from mypos_provider.core.values import UNKNOWN, CollectingReporter
from mypos_provider.core.webhooks import WebhookRules
from mypos_provider.provider.process import ProcessStopped, ProviderProcess
from mypos_provider.stack_config import StackConfigError, WebhookSpec, parse_webhook_specs


@pytest.fixture
def environment(monkeypatch, tmp_path) -> Path:
    """A clean environment for the provider process; returns where its .env file goes."""
    for name in [n for n in os.environ if n.startswith("MYPOS_")]:
        monkeypatch.delenv(name)
    dotenv = tmp_path / "project.env"
    monkeypatch.setenv("MYPOS_DOTENV", str(dotenv))
    return dotenv


def stack_config(case: Case, emulator: Any, account: Any) -> dict[str, str]:
    config = {
        "mypos:authUrl": emulator.auth_url,
        "mypos:apiUrl": emulator.api_url,
        "mypos:clientId": account.client_id,
        "mypos:clientSecret": account.client_secret,
    }
    for key, value in case.config.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def webhook_inputs(spec: WebhookSpec) -> dict[str, Any]:
    """What the stack program's Webhook resource sends for a spec."""
    return {"payload_url": spec.payload_url, "secret": spec.secret, "is_active": spec.active, "adopt_id": spec.adopt_id}


def problems(case: Case, emulator: Any, account: Any, monkeypatch: Any, dotenv: Path) -> list[str]:
    """The lines a preview of the case would show, from the first stage that finds something wrong."""
    try:
        specs = parse_webhook_specs(case.webhooks)
    except StackConfigError as error:
        return [str(error)]
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if case.dotenv is not None:
        dotenv.write_text(case.dotenv)
    process = ProviderProcess(stack_config(case, emulator, account), reporter=CollectingReporter())
    try:
        context = process.gate()
    except ProcessStopped as failure:
        return [str(failure)]
    found = []
    for spec in specs:
        found += [p.message for p in WebhookRules(context).check({}, webhook_inputs(spec)).problems]
        for event in spec.events:
            # During a preview the webhook does not exist yet: its id is not known.
            declared = {"webhook_id": UNKNOWN, "event": event.event, "terminal_ids": event.terminal_ids}
            found += [p.message for p in SubscriptionRules(context).check({}, declared).problems]
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_before_any_write_with_one_clear_line(
    case, emulator, account, control, monkeypatch, environment
):
    lines = problems(case, emulator, account, monkeypatch, environment)

    assert all("\n" not in line for line in lines), lines
    assert [line for line in lines if all(fragment in line for fragment in case.expect)], (case.expect, lines)
    assert control.writes() == []
    secrets = [account.client_secret, *(v for k, v in case.config.items() if k.endswith("Secret") and v)]
    assert not [secret for secret in secrets if secret in "".join(lines)]


def test_the_good_configuration_has_no_problem(emulator, account, control, monkeypatch, environment):
    assert problems(Case("good", "", ()), emulator, account, monkeypatch, environment) == []


def test_the_table_keeps_all_31_cases():
    assert len(CASES) == 31 and len({c.id for c in CASES}) == 31


def test_the_engine_tier_keeps_exactly_one_case_of_each_kind():
    assert sorted(c.kind for c in ENGINE_CASES) == sorted(KINDS)
    assert {c.kind for c in CASES} == set(KINDS)
