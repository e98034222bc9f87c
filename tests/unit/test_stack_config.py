"""stack_config.parse_webhook_specs: the shape of `mypos:webhooks`, every way it can be wrong, and its defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mypos_provider.stack_config import (
    EventSpec,
    StackConfigError,
    WebhookSpec,
    load_webhook_specs,
    parse_webhook_specs,
)

URL = "https://shop.example.com/mypos/orders"


def one(**fields: Any) -> list[dict[str, Any]]:
    return [{"name": "orders", "payloadUrl": URL, **fields}]


def test_no_webhooks_configured_is_an_empty_list():
    assert parse_webhook_specs(None) == []


def test_a_full_webhook_is_read_with_every_field():
    raw = one(
        secret="s3cret",
        active=False,
        adoptId="w-1",
        events=["pos.payment.completed", {"event": "pos.payment.cancelled", "terminalIds": ["1"], "adoptId": "s-1"}],
    )

    assert parse_webhook_specs(raw) == [
        WebhookSpec(
            "orders",
            URL,
            "s3cret",
            False,
            "w-1",
            (EventSpec("pos.payment.completed"), EventSpec("pos.payment.cancelled", ["1"], "s-1")),
        )
    ]


def test_a_minimal_webhook_is_active_with_no_secret_and_no_events():
    assert parse_webhook_specs(one()) == [WebhookSpec("orders", URL)]


def test_a_webhook_without_events_is_warned_about_and_one_with_events_is_not():
    [bare] = parse_webhook_specs(one(events=[]))
    [subscribed] = parse_webhook_specs(one(events=["pos.payment.completed"]))

    assert bare.warnings() == [
        "webhook orders declares no events (events: []): myPOS sends nothing to it until it has a subscription; "
        "list the events it should receive under events"
    ]
    assert subscribed.warnings() == []


def test_events_set_to_null_are_no_events():
    assert parse_webhook_specs(one(events=None))[0].events == ()


def test_the_list_may_come_as_json_text():
    assert parse_webhook_specs(json.dumps(one()))[0].name == "orders"


def test_terminal_ids_written_as_numbers_become_strings():
    [spec] = parse_webhook_specs(one(events=[{"event": "pos.payment.completed", "terminalIds": [90004889]}]))

    assert spec.events[0].terminal_ids == ["90004889"]


def test_the_secret_is_not_shown_in_the_specs_repr():
    assert "s3cret" not in repr(parse_webhook_specs(one(secret="s3cret")))


EVENT = "pos.payment.completed"
SHAPE_ERRORS = [
    ("not json", "{not json", "mypos:webhooks is not valid structured config"),
    ("not a list", {"name": "orders"}, "mypos:webhooks must be a list of webhooks"),
    ("item not a mapping", ["orders"], "mypos:webhooks[0] must be a mapping with name, payloadUrl and events"),
    ("unknown key", one(payload_url=URL), "mypos:webhooks[0] has unknown key(s) payload_url; known keys: active,"),
    ("missing name", [{"payloadUrl": URL}], "mypos:webhooks[0].name must be a short name"),
    ("name with a space", one(name="my orders"), "(got 'my orders')"),
    ("name not a string", one(name=7), "mypos:webhooks[0].name must be a short name"),
    ("missing payload url", [{"name": "orders"}], "mypos:webhooks[0] (orders).payloadUrl is required"),
    ("payload url not a string", one(payloadUrl=["x"]), "(orders).payloadUrl is required"),
    ("secret not a string", one(secret=123), "pulumi config set --secret --path 'mypos:webhooks[0].secret'"),
    ("active not a boolean", one(active="yes"), "(orders).active must be true or false (got 'yes')"),
    ("events not a list", one(events="pos.payment.completed"), "(orders).events must be a list of event names"),
    ("event item of another type", one(events=[7]), "(orders).events[0] must be an event name or a mapping"),
    ("unknown event key", one(events=[{"event": EVENT, "terminals": []}]), "events[0] has unknown key(s) terminals"),
    ("missing event", one(events=[{"terminalIds": ["1"]}]), "(orders).events[0].event is required"),
    ("empty event", one(events=[{"event": ""}]), "(orders).events[0].event is required"),
    ("terminal ids not a list", one(events=[{"event": EVENT, "terminalIds": "1"}]), "terminalIds must be a list"),
    ("terminal id of another type", one(events=[{"event": EVENT, "terminalIds": [1.5]}]), "terminalIds must be a"),
    ("webhook adopt id not a string", one(adoptId=12), "mypos:webhooks[0] (orders).adoptId must be a string id"),
    ("event adopt id not a string", one(events=[{"event": EVENT, "adoptId": 3}]), "events[0].adoptId must be a"),
    ("duplicate webhook names", one() + one(), "mypos:webhooks lists the webhook name orders more than once"),
    ("duplicate events", one(events=[EVENT, {"event": EVENT}]), f"(orders).events lists the event {EVENT} more"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in SHAPE_ERRORS], ids=[c[0] for c in SHAPE_ERRORS])
def test_each_shape_error_is_one_line_naming_where_and_the_fix(raw, expected):
    with pytest.raises(StackConfigError) as failure:
        parse_webhook_specs(raw)

    message = str(failure.value)
    assert expected in message and "\n" not in message


# ---- the stack program's loader -------------------------------------------------------------------------


def run_config(monkeypatch, webhooks: Any) -> None:
    """The stack config as the language host hands it to the program: JSON in PULUMI_CONFIG, values as text."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"mypos:webhooks": json.dumps(webhooks)}))


def test_the_program_reads_the_webhooks_of_the_current_stack(monkeypatch):
    run_config(monkeypatch, one(events=["pos.payment.completed"]))

    [spec] = load_webhook_specs()

    assert (spec.name, spec.events) == ("orders", (EventSpec("pos.payment.completed"),))


def test_a_malformed_entry_stops_the_program_with_one_line_and_the_shown_error_code(monkeypatch, capsys):
    run_config(monkeypatch, one(active="yes"))

    with pytest.raises(SystemExit) as stopped:
        load_webhook_specs()

    assert stopped.value.code == 32  # the language host's "error already shown": no second, generic line
    assert capsys.readouterr().err.strip().endswith("(orders).active must be true or false (got 'yes')")


# ---- renames --------------------------------------------------------------------------------------------


def test_aliases_are_the_earlier_names_of_a_webhook():
    [spec] = parse_webhook_specs(one(aliases=["shop-orders", "legacy"]))

    assert spec.aliases == ("shop-orders", "legacy")


def test_a_subscription_is_named_after_its_webhook_or_an_earlier_name_of_it():
    [spec] = parse_webhook_specs(one(aliases=["legacy"], events=["pos.payment.completed"]))

    assert spec.subscription_name(spec.events[0]) == "orders-pos.payment.completed"
    assert spec.subscription_name(spec.events[0], "legacy") == "legacy-pos.payment.completed"


@pytest.mark.parametrize("aliases", ["legacy", [1], ["not a name!"]])
def test_aliases_must_be_a_list_of_names(aliases):
    with pytest.raises(StackConfigError, match=r"aliases must be a list of earlier names"):
        parse_webhook_specs(one(aliases=aliases))


def test_a_webhook_may_not_list_its_own_name_as_an_alias():
    with pytest.raises(StackConfigError, match="lists the webhook's own name orders"):
        parse_webhook_specs(one(aliases=["orders"]))


def test_an_alias_may_not_be_another_webhook_s_name():
    raw = [*one(aliases=["treasury"]), {"name": "treasury", "payloadUrl": URL + "/t"}]

    with pytest.raises(StackConfigError, match="lists the webhook name or alias treasury more than once"):
        parse_webhook_specs(raw)


def test_an_entry_holding_only_a_secret_explains_the_replaced_list():
    with pytest.raises(StackConfigError, match=r"holds only a secret: .* replaced the whole list"):
        parse_webhook_specs([{"secret": "new-secret"}])
