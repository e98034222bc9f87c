"""Bad input, tried systematically: every case must fail before any write with one line naming the field (or
setting) and the fix.

The unit tier (tests/unit/test_bad_input_cases.py) runs every case through the provider's own pipeline in-process;
the engine tier (tests/engine/test_bad_input.py) runs one case of each kind through the real Pulumi CLI
(`engine=True`), which shows what only the engine can: that the line reaches the user, without a traceback.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

GOOD_HOOK: dict[str, Any] = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}
DELETE = object()  # as a value in hook(): remove the key

# What can be wrong, each kind shown once through the engine.
WEBHOOK_FIELD = "webhook field"
SUBSCRIPTION_FIELD = "subscription field"
STACK_CONFIG_SHAPE = "stack-config shape"
SETTING_VALUE = "setting value"
UNKNOWN_CONFIG_KEY = "unknown config key"
MISSING_CREDENTIALS = "missing credentials"
WRONG_CREDENTIALS = "wrong credentials"
UNREACHABLE_ENDPOINT = "unreachable endpoint"
MALFORMED_DOTENV = "malformed .env"
KINDS = (
    WEBHOOK_FIELD,
    SUBSCRIPTION_FIELD,
    STACK_CONFIG_SHAPE,
    SETTING_VALUE,
    UNKNOWN_CONFIG_KEY,
    MISSING_CREDENTIALS,
    WRONG_CREDENTIALS,
    UNREACHABLE_ENDPOINT,
    MALFORMED_DOTENV,
)


def hook(**changes: Any) -> list[dict[str, Any]]:
    """`mypos:webhooks` holding the good webhook with `changes` applied."""
    item = copy.deepcopy(GOOD_HOOK)
    for key, value in changes.items():
        if value is DELETE:
            del item[key]
        else:
            item[key] = value
    return [item]


def event(**changes: Any) -> list[dict[str, Any]]:
    """`mypos:webhooks` holding the good webhook whose one event has `changes` applied."""
    return hook(events=[{**GOOD_HOOK["events"][0], **changes}])


@dataclass
class Case:
    id: str
    kind: str
    expect: tuple[str, ...]  # every fragment must appear in one error line
    webhooks: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy([GOOD_HOOK]))
    config: dict[str, str | None] = field(default_factory=dict)  # None removes the key
    env: dict[str, str] = field(default_factory=dict)
    dotenv: str | None = None
    engine: bool = False  # this case stands for its kind in the engine tier


CASES = [
    # ---- the Webhook resource ----
    Case(
        "malformed url",
        WEBHOOK_FIELD,
        ("payload_url 'not a url' is not an absolute URL", "https://"),
        hook(payloadUrl="not a url"),
        engine=True,
    ),
    Case(
        "relative url",
        WEBHOOK_FIELD,
        ("payload_url '/mypos/callback' is not an absolute URL",),
        hook(payloadUrl="/mypos/callback"),
    ),
    Case(
        "ftp url",
        WEBHOOK_FIELD,
        ("payload_url 'ftp://shop.example.com/x' is not an absolute URL",),
        hook(payloadUrl="ftp://shop.example.com/x"),
    ),
    Case(
        "http on a public host",
        WEBHOOK_FIELD,
        ("uses http on a public host", "myPOS requires https"),
        hook(payloadUrl="http://shop.example.com/cb"),
    ),
    Case(
        "credentials in the url",
        WEBHOOK_FIELD,
        ("payload_url must not embed credentials",),
        hook(payloadUrl="https://user:pw@shop.example.com/cb"),
    ),
    Case("empty secret", WEBHOOK_FIELD, ("secret is empty", "omit it to have a strong one generated"), hook(secret="")),
    Case("33-character secret", WEBHOOK_FIELD, ("secret is 33 characters long", "at most 32"), hook(secret="x" * 33)),
    Case(
        "secret with surrounding space",
        WEBHOOK_FIELD,
        ("secret starts or ends with whitespace",),
        hook(secret=" padded-secret"),
    ),
    Case("secret of the wrong type", STACK_CONFIG_SHAPE, ("secret must be a string",), hook(secret=12345678)),
    Case("active not a boolean", STACK_CONFIG_SHAPE, ("active must be true or false",), hook(active="yes")),
    Case("missing payload url", STACK_CONFIG_SHAPE, ("payloadUrl is required",), hook(payloadUrl=DELETE)),
    Case(
        "unknown key in a webhook",
        STACK_CONFIG_SHAPE,
        ("unknown key(s) payload_url",),
        hook(payload_url="https://x.example.com"),
        engine=True,
    ),
    Case(
        "duplicate webhook names",
        STACK_CONFIG_SHAPE,
        ("lists the webhook name orders more than once",),
        copy.deepcopy([GOOD_HOOK, GOOD_HOOK]),
    ),
    Case(
        "malformed adopt id",
        WEBHOOK_FIELD,
        ("adopt_id '../../etc' is not a myPOS object id", "mypos_provider list"),
        hook(adoptId="../../etc"),
    ),
    # ---- the Subscription resource ----
    Case(
        "unknown event",
        SUBSCRIPTION_FIELD,
        ("unknown event 'pos.payment.refunded'", "myPOS offers", "pos.payment.completed"),
        event(event="pos.payment.refunded"),
        engine=True,
    ),
    Case(
        "event of the other naming",
        SUBSCRIPTION_FIELD,
        ("unknown event 'pos.payment.denied'",),
        event(event="pos.payment.denied"),
    ),
    Case(
        "duplicate terminal ids",
        SUBSCRIPTION_FIELD,
        ("terminal_ids lists 90004889 more than once",),
        event(terminalIds=["90004889", "90004889"]),
    ),
    Case("empty terminal ids", SUBSCRIPTION_FIELD, ("terminal_ids is empty", "omit it"), event(terminalIds=[])),
    Case(
        "terminal id with a space",
        SUBSCRIPTION_FIELD,
        ("terminal id '9000 4889' is not valid",),
        event(terminalIds=["9000 4889"]),
    ),
    Case(
        "terminal ids not a list",
        STACK_CONFIG_SHAPE,
        ("terminalIds must be a list",),
        event(terminalIds="90004889"),
    ),
    # ---- configuration, environment and .env ----
    Case(
        "missing credentials",
        MISSING_CREDENTIALS,
        (
            "mypos:clientId is not set",
            "pulumi config set mypos:clientId",
            "MYPOS_CLIENT_ID environment variable",
            ".env",
        ),
        config={"mypos:clientId": None, "mypos:clientSecret": None},
        engine=True,
    ),
    Case(
        "wrong client secret",
        WRONG_CREDENTIALS,
        # The tests' mypos:authUrl is the emulator's: the advice names it, not "the production environment".
        ("rejected the client credentials", "mypos:clientSecret", "belong to the Auth API at http://127.0.0.1:"),
        config={"mypos:clientSecret": "not-the-right-secret"},
        engine=True,
    ),
    Case(
        "unreachable auth url",
        UNREACHABLE_ENDPOINT,
        ("cannot reach the myPOS Auth API", "connection refused", "mypos:authUrl"),
        config={"mypos:authUrl": "http://127.0.0.1:9", "mypos:maxRetries": "1"},
        engine=True,
    ),
    Case(
        "http api url on a public host",
        SETTING_VALUE,
        ("mypos:apiUrl uses http on webhook-api.mypos.com", "use https"),
        config={"mypos:apiUrl": "http://webhook-api.mypos.com/v1"},
    ),
    Case(
        "auth url not absolute",
        SETTING_VALUE,
        ("mypos:authUrl is 'auth-api.mypos.com', not an absolute http(s) URL",),
        config={"mypos:authUrl": "auth-api.mypos.com"},
    ),
    Case(
        "unknown config key",
        UNKNOWN_CONFIG_KEY,
        ("unknown config key mypos:clientid", "did you mean mypos:clientId", "pulumi config rm"),
        config={"mypos:clientid": "typo"},
        engine=True,
    ),
    Case(
        "unknown environment",
        SETTING_VALUE,
        ("mypos:environment is 'staging'", "use production or sandbox"),
        config={"mypos:environment": "staging"},
    ),
    Case(
        "timeout not a number",
        SETTING_VALUE,
        ("mypos:timeout is 'soon'", "use a number"),
        config={"mypos:timeout": "soon"},
    ),
    Case(
        "max retries out of range",
        SETTING_VALUE,
        ("mypos:maxRetries is '99'", "whole number from 0 to 10"),
        config={"mypos:maxRetries": "99"},
    ),
    Case(
        "negative timeout in the environment",
        SETTING_VALUE,
        ("MYPOS_TIMEOUT is '-1'",),
        env={"MYPOS_TIMEOUT": "-1"},
        engine=True,
    ),
    Case(
        "malformed .env",
        MALFORMED_DOTENV,
        ("line 2 cannot be parsed", "KEY=value"),
        config={"mypos:clientId": None, "mypos:clientSecret": None},
        dotenv="MYPOS_CLIENT_ID=abc\nthis line is 'broken\n",
        engine=True,
    ),
]

ENGINE_CASES = [case for case in CASES if case.engine]
