"""The native shell (mypos_provider/native): the engine's requests translated to the shared operations and back.

`NativeProvider` is driven here as the server drives it, with the SDK's request objects, against the
emulator; no engine runs. The rules themselves are proven in test_webhook_rules.py and
test_subscription_rules.py: these tests prove the translation (names, values, secrets, unknowns, errors).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    ConfigureRequest,
    CreateRequest,
    DeleteRequest,
    DiffRequest,
    GetSchemaRequest,
    InvokeRequest,
    PropertyDiffKind,
    ReadRequest,
    UpdateRequest,
)
from pulumi.provider.experimental.server import _raise_with_traceback
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from mypos_provider.core.values import UNKNOWN, CollectingReporter
from mypos_provider.native import schema
from mypos_provider.native.provider import NativeProvider, stack_config
from mypos_provider.native.server import provider_failure
from mypos_provider.native.values import core_value, pulumi_value, to_core, to_pulumi
from mypos_provider.provider.process import ProviderFailure

T = TypeVar("T")
URL = "https://shop.example.com/mypos/orders"
WEBHOOK_URN = "urn:pulumi:s::p::mypos:index:Webhook::orders"
SUBSCRIPTION_URN = "urn:pulumi:s::p::mypos:index:Subscription::orders-paid"


@pytest.fixture(autouse=True)
def _isolated(no_ambient_settings) -> None:
    """The provider reads the environment and a .env: nothing of the developer's machine may reach it."""


def run(awaitable: Awaitable[T]) -> T:
    return asyncio.run(awaitable)  # type: ignore[arg-type]


def values(**plain: Any) -> dict[str, PropertyValue]:
    return {name: pulumi_value(value) for name, value in plain.items()}


@pytest.fixture
def new_provider(stack_config: dict[str, str]) -> Iterator[Callable[[], NativeProvider]]:
    """A provider process of the next deployment, configured as the engine configures it."""
    with ThreadPoolExecutor(max_workers=4) as pool:

        def make() -> NativeProvider:
            made = NativeProvider(pool=pool, reporter=CollectingReporter(), concurrency=4)  # type: ignore[arg-type]
            variables = {key.replace("mypos:", "mypos:config:"): value for key, value in stack_config.items()}
            run(made.configure(ConfigureRequest(variables, {}, True, False)))
            return made

        yield make


@pytest.fixture
def provider(new_provider: Callable[[], NativeProvider]) -> NativeProvider:
    return new_provider()


def created_webhook(provider: NativeProvider, **declared: Any) -> tuple[str, dict[str, PropertyValue]]:
    checked = run(provider.check(CheckRequest(WEBHOOK_URN, {}, values(payloadUrl=URL, **declared), b"")))
    assert not checked.failures and checked.inputs is not None
    created = run(provider.create(CreateRequest(WEBHOOK_URN, checked.inputs, 60, False)))
    assert created.resource_id
    return created.resource_id, created.properties


# ---- values ---------------------------------------------------------------------------------------------


def test_the_engines_numbers_come_as_whole_numbers_where_they_are_whole():
    assert core_value(PropertyValue(1796411195.0)) == 1796411195 and core_value(PropertyValue(1.5)) == 1.5


def test_a_value_not_known_yet_becomes_the_cores_unknown_however_the_engine_spells_it():
    assert core_value(PropertyValue(Computed())) is UNKNOWN and core_value(PropertyValue(ENGINE_UNKNOWN)) is UNKNOWN


def test_the_sdk_still_cannot_marshal_computed_so_unknowns_go_back_as_the_engines_string():
    """When this fails, the SDK marshals `Computed`: values.pulumi_value may then send it instead."""
    with pytest.raises(ValueError, match="Unsupported value type"):
        PropertyValue.computed().marshal()
    assert pulumi_value(UNKNOWN).value == ENGINE_UNKNOWN and pulumi_value(UNKNOWN).marshal()


def test_properties_take_the_schemas_names_and_back():
    native = to_pulumi("subscription", {"webhook_id": "w-1", "terminal_ids": ["1"], "__not_before": 7, "x": None})

    assert set(native) == {"webhookId", "terminalIds", "__not_before"} and native["__not_before"].value == 7.0
    assert to_core("subscription", native) == {"webhook_id": "w-1", "terminal_ids": ["1"], "__not_before": 7}


def test_a_secret_goes_back_as_a_secret():
    assert to_pulumi("webhook", {"secret": "s", "payload_url": URL})["secret"].is_secret


def test_the_engines_configuration_variables_read_as_stack_config():
    assert stack_config({"mypos:config:clientId": "c", "mypos:config:webhooks": "[]"}) == {
        "mypos:clientId": "c",
        "mypos:webhooks": "[]",
    }


# ---- resources ------------------------------------------------------------------------------------------


def test_check_generates_a_secret_and_returns_it_as_a_secret(provider):
    checked = run(provider.check(CheckRequest(WEBHOOK_URN, {}, values(payloadUrl=URL), b"")))

    assert checked.inputs is not None and checked.inputs["secret"].is_secret
    assert len(checked.inputs["secret"].value) == 32 and checked.inputs["isActive"].value is True


def test_a_problem_names_the_schemas_field_in_its_words(provider):
    checked = run(provider.check(CheckRequest(WEBHOOK_URN, {}, values(payloadUrl="ftp://x"), b"")))

    [failure] = checked.failures or []
    assert failure.property == "payloadUrl" and failure.reason.startswith("payloadUrl 'ftp://x' is not an absolute")


def test_create_returns_the_outputs_under_the_schemas_names_with_the_secret_secret(provider, control, account):
    webhook_id, outputs = created_webhook(provider, secret="declared-secret-0001")

    assert outputs["payloadUrl"].value == URL and outputs["createdOn"].value and outputs["secret"].is_secret
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [webhook_id]


def test_a_diff_reports_each_changed_property_in_detail(provider):
    webhook_id, outputs = created_webhook(provider)
    news = {**outputs, "payloadUrl": pulumi_value("https://shop.example.com/v2")}

    diff = run(provider.diff(DiffRequest(WEBHOOK_URN, webhook_id, outputs, news, [])))

    assert diff.changes is True and diff.diffs == ["payloadUrl"] and diff.replaces == []
    assert diff.detailed_diff["payloadUrl"].kind is PropertyDiffKind.UPDATE


def test_a_subscription_to_another_event_is_a_replacement(provider):
    webhook_id, _ = created_webhook(provider)
    declared = values(webhookId=webhook_id, event="pos.payment.completed")
    checked = run(provider.check(CheckRequest(SUBSCRIPTION_URN, {}, declared, b"")))
    assert checked.inputs is not None
    made = run(provider.create(CreateRequest(SUBSCRIPTION_URN, checked.inputs, 60, False)))
    news = {**made.properties, "event": pulumi_value("pos.payment.failed")}

    diff = run(provider.diff(DiffRequest(SUBSCRIPTION_URN, str(made.resource_id), made.properties, news, [])))

    assert diff.replaces == ["event"] and diff.detailed_diff["event"].kind is PropertyDiffKind.UPDATE_REPLACE


def test_a_subscription_of_a_webhook_not_made_yet_is_checked_with_its_id_unknown(provider):
    declared = {"webhookId": PropertyValue(ENGINE_UNKNOWN), "event": pulumi_value("pos.payment.completed")}

    checked = run(provider.check(CheckRequest(SUBSCRIPTION_URN, {}, declared, b"")))

    assert not checked.failures and checked.inputs is not None
    assert checked.inputs["webhookId"].value == ENGINE_UNKNOWN


def test_an_import_reads_the_live_webhook_without_its_secret_in_the_inputs(provider, outofband):
    live = outofband.create_webhook(URL, "clicked-together-secret-01")

    read = run(provider.read(ReadRequest(WEBHOOK_URN, live["id"], {}, {})))

    assert read.resource_id == live["id"] and "secret" not in read.inputs
    assert read.inputs["payloadUrl"].value == URL and read.properties["secret"].is_secret


def test_a_recorded_webhook_deleted_outside_reads_as_gone(provider, outofband):
    webhook_id, outputs = created_webhook(provider)
    outofband.delete_webhook(webhook_id)

    assert run(provider.read(ReadRequest(WEBHOOK_URN, webhook_id, outputs, {}))).resource_id == ""


def test_update_and_delete_reach_the_account(provider, new_provider, control, account):
    webhook_id, outputs = created_webhook(provider)
    news = {**outputs, "isActive": pulumi_value(False)}
    provider = new_provider()  # the next deployment: a create and a delete never share one

    updated = run(provider.update(UpdateRequest(WEBHOOK_URN, webhook_id, outputs, news, 60, [], False)))
    assert updated.properties["isActive"].value is False
    run(provider.delete(DeleteRequest(WEBHOOK_URN, webhook_id, updated.properties, 60)))

    assert control.live_webhooks(account.client_id) == []


def test_an_error_of_the_rules_is_a_provider_failure_in_the_schemas_words(provider):
    missing = "0a1b2c3d-0000-4000-8000-000000000000"

    with pytest.raises(ProviderFailure, match=f"^adoptId {missing}: this account has no such webhook"):
        run(provider.create(CreateRequest(WEBHOOK_URN, values(payloadUrl=URL, adoptId=missing), 60, False)))


def test_an_unknown_type_is_refused_naming_the_ones_offered(provider):
    with pytest.raises(ProviderFailure, match="mypos has no resource type mypos:index:Hook"):
        run(provider.check(CheckRequest("urn:pulumi:s::p::mypos:index:Hook::x", {}, {}, b"")))


def test_the_sdks_error_wrapping_keeps_our_failure_as_its_context():
    """The SDK's servicer re-raises every error with a stack appended; the one-line servicer finds ours behind it."""

    @_raise_with_traceback
    async def rpc(self: object, request: object, context: object) -> None:
        raise ProviderFailure("webhook x: one line")

    with pytest.raises(Exception) as wrapped:
        run(rpc(None, None, None))

    assert "\n" in str(wrapped.value) and str(provider_failure(wrapped.value)) == "webhook x: one line"


# ---- functions and schema -------------------------------------------------------------------------------


def test_get_webhooks_returns_each_webhook_with_its_subscriptions_and_no_secret(provider, outofband):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    outofband.subscribe(hook["id"], "pos.payment.completed", ["90004889"])

    result = run(provider.invoke(InvokeRequest("mypos:index:getWebhooks", {}))).return_value

    [webhook] = result["webhooks"].value
    assert webhook.value["id"].value == hook["id"] and "secret" not in webhook.value
    assert not result["webhooks"].is_secret and not webhook.is_secret
    [subscription] = webhook.value["subscriptions"].value
    assert subscription.value["event"].value == "pos.payment.completed"
    assert [t.value for t in subscription.value["terminalIds"].value] == ["90004889"]


def test_get_events_returns_the_live_catalogue(provider):
    result = run(provider.invoke(InvokeRequest("mypos:index:getEvents", {}))).return_value

    names = {event.value["name"].value for event in result["events"].value}
    assert "pos.payment.completed" in names


def test_the_schema_served_is_the_one_in_the_package(provider):
    assert run(provider.get_schema(GetSchemaRequest(0))).schema == schema.text()
