"""native/schema.json against what the provider accepts: names, secrets, required inputs, replacements, version.

The schema is written by hand and kept in the repository (SDKs, docs and `pulumi import` read it); these tests
derive each fact from the code that decides it, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import mypos_provider
from mypos_provider import settings, tokens
from mypos_provider.client import Event, Subscription, Webhook
from mypos_provider.core import subscriptions, validation, webhooks
from mypos_provider.native import schema

SCHEMA = schema.document()
ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = SCHEMA["resources"][tokens.NATIVE_WEBHOOK_TYPE]
SUBSCRIPTION = SCHEMA["resources"][tokens.NATIVE_SUBSCRIPTION_TYPE]


def declared_inputs(inputs: tuple[str, ...]) -> set[str]:
    return {name for name in inputs if not name.startswith("__")}


def native(kind: str, names: set[str]) -> set[str]:
    return {tokens.NATIVE_PROPERTIES[kind][name] for name in names}


def outputs_of(kind: str) -> set[str]:
    """The outputs the rules record, as a create returns them (every optional input given)."""
    now = datetime.now(UTC)
    if kind == "webhook":
        made: dict[str, Any] = webhooks.outputs(Webhook("w-1", "https://x", "s", True, now), {"adopt_id": "w-0"})
    else:
        sub = Subscription("s-1", "pos.payment.completed", "w-1", ("1",), now)
        made = subscriptions.outputs(sub, {"adopt_id": "s-0"}, Event("e-1", "pos.payment.completed"))
    return {name for name in made if not name.startswith("__")}


def test_the_schema_has_the_packages_version_in_every_sdk():
    assert SCHEMA["version"] == mypos_provider.__version__
    assert all(SCHEMA["language"][language]["respectSchemaVersion"] for language in ("python", "nodejs", "go"))


@pytest.mark.parametrize(
    ("resource", "kind", "inputs"),
    [(WEBHOOK, "webhook", webhooks.INPUTS), (SUBSCRIPTION, "subscription", subscriptions.INPUTS)],
    ids=["webhook", "subscription"],
)
def test_the_inputs_are_exactly_what_the_rules_take(resource: dict[str, Any], kind: str, inputs: tuple[str, ...]):
    assert set(resource["inputProperties"]) == native(kind, declared_inputs(inputs))


@pytest.mark.parametrize(
    ("resource", "kind"), [(WEBHOOK, "webhook"), (SUBSCRIPTION, "subscription")], ids=["webhook", "subscription"]
)
def test_the_outputs_are_exactly_what_the_rules_record(resource: dict[str, Any], kind: str):
    assert set(resource["properties"]) == native(kind, outputs_of(kind))


def test_an_input_is_required_exactly_when_validation_refuses_it_missing():
    required = {
        "payloadUrl": validation.payload_url_problem(None),
        "secret": validation.secret_problem(None),
        "adoptId": validation.adopt_id_problem(None),
        "webhookId": validation.webhook_id_problem(None),
        "event": validation.event_problem(None),
        "terminalIds": validation.terminal_ids_problem(None),
    }
    refused = {name for name, problem in required.items() if problem is not None}

    assert set(WEBHOOK["requiredInputs"]) | set(SUBSCRIPTION["requiredInputs"]) == refused


def test_the_webhook_secret_is_secret_wherever_it_appears():
    assert WEBHOOK["inputProperties"]["secret"]["secret"] and WEBHOOK["properties"]["secret"]["secret"]


def test_no_function_result_holds_a_secret_which_would_make_the_whole_result_secret():
    # The SDKs mark a function's whole result secret when any value in it is one (webhooks.length as [secret]).
    def secret_paths(spec: dict[str, Any], path: str) -> list[str]:
        found = [path] if spec.get("secret") else []
        if "$ref" in spec:
            found += secret_paths(SCHEMA["types"][spec["$ref"].removeprefix("#/types/")], path)
        if "items" in spec:
            found += secret_paths(spec["items"], f"{path}[]")
        for name, inner in spec.get("properties", {}).items():
            found += secret_paths(inner, f"{path}.{name}")
        return found

    assert [p for token, f in SCHEMA["functions"].items() for p in secret_paths(f["outputs"], token)] == []


def test_exactly_the_properties_whose_change_replaces_are_marked_so():
    marked = {name for name, spec in SUBSCRIPTION["inputProperties"].items() if spec.get("replaceOnChanges")}

    assert marked == native("subscription", set(subscriptions.REPLACING))
    assert not any(spec.get("replaceOnChanges") for spec in WEBHOOK["inputProperties"].values())


def test_the_configuration_is_the_settings_keys_with_their_secrets_marked():
    variables = SCHEMA["config"]["variables"]

    assert set(variables) == {key.name for key in settings.PROVIDER_KEYS}
    assert {name for name, spec in variables.items() if spec.get("secret")} == {
        key.name for key in settings.PROVIDER_KEYS if key.secret
    }
    assert SCHEMA["provider"]["inputProperties"] == variables


def test_the_functions_are_the_ones_the_provider_serves():
    assert set(SCHEMA["functions"]) == {tokens.GET_WEBHOOKS, tokens.GET_EVENTS}


def test_every_property_has_a_description():
    undocumented = [
        f"{token}.{name}"
        for token, resource in SCHEMA["resources"].items()
        for part in ("inputProperties", "properties")
        for name, spec in resource[part].items()
        if not spec.get("description")
    ]
    assert undocumented == []
