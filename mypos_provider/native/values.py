"""Pulumi's property values and the core's, in both directions, with the schema's names.

The core speaks plain Python values under snake_case names, with `UNKNOWN` for a value not known yet; the
engine sends `PropertyValue`s (numbers as floats, secrets and computed values marked) under the schema's
camelCase names (mypos_provider/tokens.py). Secrets stay secrets on the way back: every property named in
`secret_names` is returned wrapped, so the state keeps it encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from .. import tokens
from ..core.values import UNKNOWN

SECRET_NAMES = frozenset({"secret"})


def to_core(kind: str, properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return tokens.core_names(kind, {name: core_value(value) for name, value in properties.items()})


def core_value(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed) or inner == ENGINE_UNKNOWN:  # the engine may spell "not known yet" either way
        return UNKNOWN
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)  # the engine's numbers are floats; the core's stamps and counts are whole numbers
    if isinstance(inner, tuple):
        return [core_value(item) for item in inner]
    if isinstance(inner, Mapping):
        return {key: core_value(item) for key, item in inner.items()}
    return inner


def to_pulumi(kind: str, values: Mapping[str, Any]) -> dict[str, PropertyValue]:
    """The core's values as properties of `kind`; None is left out (an optional property not set)."""
    named = tokens.native_names(kind, dict(values))
    return {
        name: pulumi_value(value, secret=name in SECRET_NAMES) for name, value in named.items() if value is not None
    }


def pulumi_value(value: Any, *, secret: bool = False) -> PropertyValue:
    if value is UNKNOWN:
        # The SDK cannot marshal its own `Computed` (pulumi 3.272; docs/pulumi-native-providers.md §1, and
        # tests/unit/test_native_provider.py watches for a fix); the engine reads its "unknown" string the same.
        converted = PropertyValue(ENGINE_UNKNOWN)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        converted = PropertyValue(value)
    elif isinstance(value, int | float):
        converted = PropertyValue(float(value))
    elif isinstance(value, list | tuple):
        converted = PropertyValue([pulumi_value(item) for item in value])
    elif isinstance(value, Mapping):
        converted = PropertyValue({key: pulumi_value(item, secret=key in SECRET_NAMES) for key, item in value.items()})
    else:
        raise TypeError(f"no property value for {type(value).__name__}")
    return converted.with_secret(True) if secret else converted
