"""Bad input, tried systematically: each fails the preview before any write, with one clear line naming
the field and the fix, and without a traceback."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from harness.accounts import random_credentials
from harness.emulator import EmulatorControl
from harness.engine import Deployment, new_deployment
from mypos_provider.emulator import Emulator

pytestmark = pytest.mark.engine

GOOD_HOOK = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}


def hook(**changes: Any) -> list[dict[str, Any]]:
    item = copy.deepcopy(GOOD_HOOK)
    for key, value in changes.items():
        if value is DELETE:
            del item[key]
        else:
            item[key] = value
    return [item]


def event(**changes: Any) -> list[dict[str, Any]]:
    return hook(events=[{**GOOD_HOOK["events"][0], **changes}])


DELETE = object()


@dataclass
class Case:
    id: str
    expect: tuple[str, ...]  # every fragment must appear in one error line
    webhooks: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy([GOOD_HOOK]))
    config: dict[str, str | None] = field(default_factory=dict)  # None removes the key
    env: dict[str, str] = field(default_factory=dict)
    dotenv: str | None = None


CASES = [
    # ---- the Webhook resource ----
    Case("malformed url", ("payload_url 'not a url' is not an absolute URL", "https://"), hook(payloadUrl="not a url")),
    Case("relative url", ("payload_url '/mypos/callback' is not an absolute URL",), hook(payloadUrl="/mypos/callback")),
    Case(
        "ftp url",
        ("payload_url 'ftp://shop.example.com/x' is not an absolute URL",),
        hook(payloadUrl="ftp://shop.example.com/x"),
    ),
    Case(
        "http on a public host",
        ("uses http on a public host", "myPOS requires https"),
        hook(payloadUrl="http://shop.example.com/cb"),
    ),
    Case(
        "credentials in the url",
        ("payload_url must not embed credentials",),
        hook(payloadUrl="https://user:pw@shop.example.com/cb"),
    ),
    Case("empty secret", ("secret is empty", "omit it to have a strong one generated"), hook(secret="")),
    Case("33-character secret", ("secret is 33 characters long", "at most 32"), hook(secret="x" * 33)),
    Case("secret with surrounding space", ("secret starts or ends with whitespace",), hook(secret=" padded-secret")),
    Case("secret of the wrong type", ("secret must be a string",), hook(secret=12345678)),
    Case("active not a boolean", ("active must be true or false",), hook(active="yes")),
    Case("missing payload url", ("payloadUrl is required",), hook(payloadUrl=DELETE)),
    Case("unknown key in a webhook", ("unknown key(s) payload_url",), hook(payload_url="https://x.example.com")),
    Case(
        "duplicate webhook names",
        ("lists the webhook name orders more than once",),
        copy.deepcopy([GOOD_HOOK, GOOD_HOOK]),
    ),
    Case(
        "malformed adopt id",
        ("adopt_id '../../etc' is not a myPOS object id", "mypos_provider list"),
        hook(adoptId="../../etc"),
    ),
    # ---- the Subscription resource ----
    Case(
        "unknown event",
        ("unknown event 'pos.payment.refunded'", "myPOS offers", "pos.payment.completed"),
        event(event="pos.payment.refunded"),
    ),
    Case("event of the other naming", ("unknown event 'pos.payment.denied'",), event(event="pos.payment.denied")),
    Case(
        "duplicate terminal ids",
        ("terminal_ids lists 90004889 more than once",),
        event(terminalIds=["90004889", "90004889"]),
    ),
    Case("empty terminal ids", ("terminal_ids is empty", "omit it"), event(terminalIds=[])),
    Case("terminal id with a space", ("terminal id '9000 4889' is not valid",), event(terminalIds=["9000 4889"])),
    Case("terminal ids not a list", ("terminalIds must be a list",), event(terminalIds="90004889")),
    # ---- configuration, environment and .env ----
    Case(
        "missing credentials",
        (
            "mypos:clientId is not set",
            "pulumi config set mypos:clientId",
            "MYPOS_CLIENT_ID environment variable",
            ".env",
        ),
        config={"mypos:clientId": None, "mypos:clientSecret": None},
    ),
    Case(
        "wrong client secret",
        ("rejected the client credentials", "mypos:clientSecret"),
        config={"mypos:clientSecret": "not-the-right-secret"},
    ),
    Case(
        "unreachable auth url",
        ("cannot reach the myPOS Auth API", "connection refused", "mypos:authUrl"),
        config={"mypos:authUrl": "http://127.0.0.1:9", "mypos:maxRetries": "1"},
    ),
    Case(
        "http api url on a public host",
        ("mypos:apiUrl uses http on webhook-api.mypos.com", "use https"),
        config={"mypos:apiUrl": "http://webhook-api.mypos.com/v1"},
    ),
    Case(
        "auth url not absolute",
        ("mypos:authUrl is 'auth-api.mypos.com', not an absolute http(s) URL",),
        config={"mypos:authUrl": "auth-api.mypos.com"},
    ),
    Case(
        "unknown config key",
        ("unknown config key mypos:clientid", "did you mean mypos:clientId", "pulumi config rm"),
        config={"mypos:clientid": "typo"},
    ),
    Case(
        "unknown environment",
        ("mypos:environment is 'staging'", "use production or sandbox"),
        config={"mypos:environment": "staging"},
    ),
    Case("timeout not a number", ("mypos:timeout is 'soon'", "use a number"), config={"mypos:timeout": "soon"}),
    Case(
        "max retries out of range",
        ("mypos:maxRetries is '99'", "whole number from 0 to 10"),
        config={"mypos:maxRetries": "99"},
    ),
    Case("negative timeout in the environment", ("MYPOS_TIMEOUT is '-1'",), env={"MYPOS_TIMEOUT": "-1"}),
    Case(
        "malformed .env",
        ("line 2 cannot be parsed", "KEY=value"),
        config={"mypos:clientId": None, "mypos:clientSecret": None},
        dotenv="MYPOS_CLIENT_ID=abc\nthis line is 'broken\n",
    ),
]


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
    configure(stack, Case("good", ()))
    assert stack.preview().change_summary == {"create": 3}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_before_any_write_with_one_clear_line(stack, module_emulator, case):
    control = EmulatorControl(module_emulator.url)
    configure(stack, case)
    control.clear_requests()
    stack.output.clear()

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.preview()

    text = stack.cli_text() + "\n" + str(failure.value)
    lines = [line for line in text.splitlines() if all(fragment in line for fragment in case.expect)]
    assert lines, f"no single line says all of {case.expect}:\n{text}"
    assert "Traceback" not in text
    assert control.writes() == []
