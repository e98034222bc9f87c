"""The resources' type tokens and property names, defined once: the state records them, a long-term contract.

Dynamic resources: `pulumi.dynamic.Resource` subclasses get the token `pulumi-python:dynamic/<module>:<name>`,
with the core's property names (snake_case). Native resources (`pulumi-resource-mypos`, the schema in
mypos_provider/native/schema.json) are `mypos:index:<name>`, with camelCase names. Everything that reads a
state (the CLI's `list`, `emit`, `recover`, `drift`) knows both through this module.
"""

from types import MappingProxyType

MODULE = "mypos"
WEBHOOK = "Webhook"
SUBSCRIPTION = "Subscription"
WEBHOOK_TYPE = f"pulumi-python:dynamic/{MODULE}:{WEBHOOK}"
SUBSCRIPTION_TYPE = f"pulumi-python:dynamic/{MODULE}:{SUBSCRIPTION}"

PACKAGE = "mypos"  # the native provider's package: `pulumi-resource-mypos`, tokens `mypos:index:*`
NATIVE_WEBHOOK_TYPE = f"{PACKAGE}:index:{WEBHOOK}"
NATIVE_SUBSCRIPTION_TYPE = f"{PACKAGE}:index:{SUBSCRIPTION}"
GET_WEBHOOKS = f"{PACKAGE}:index:getWebhooks"
GET_EVENTS = f"{PACKAGE}:index:getEvents"

# Every token of each kind of object, and the kind ("webhook", "subscription") the core calls it.
KINDS = MappingProxyType(
    {
        WEBHOOK_TYPE: "webhook",
        NATIVE_WEBHOOK_TYPE: "webhook",
        SUBSCRIPTION_TYPE: "subscription",
        NATIVE_SUBSCRIPTION_TYPE: "subscription",
    }
)
NATIVE_TYPES = frozenset({NATIVE_WEBHOOK_TYPE, NATIVE_SUBSCRIPTION_TYPE})

# The core's property name -> the native schema's. Names not listed (the rules' `__` bookkeeping) are kept.
WEBHOOK_PROPERTIES = MappingProxyType(
    {
        "payload_url": "payloadUrl",
        "secret": "secret",
        "is_active": "isActive",
        "adopt_id": "adoptId",
        "created_on": "createdOn",
    }
)
SUBSCRIPTION_PROPERTIES = MappingProxyType(
    {
        "webhook_id": "webhookId",
        "event": "event",
        "event_id": "eventId",
        "terminal_ids": "terminalIds",
        "adopt_id": "adoptId",
    }
)
NATIVE_PROPERTIES = MappingProxyType({"webhook": WEBHOOK_PROPERTIES, "subscription": SUBSCRIPTION_PROPERTIES})


def core_names(kind: str, properties: dict[str, object]) -> dict[str, object]:
    """A native resource's properties under the core's names."""
    back = {schema: core for core, schema in NATIVE_PROPERTIES[kind].items()}
    return {back.get(name, name): value for name, value in properties.items()}


def native_names(kind: str, properties: dict[str, object]) -> dict[str, object]:
    """Properties under the core's names as a native resource records them."""
    forth = NATIVE_PROPERTIES[kind]
    return {forth.get(name, name): value for name, value in properties.items()}
