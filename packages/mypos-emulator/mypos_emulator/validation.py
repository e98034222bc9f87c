"""Input checks for the Webhook API. Every failure names the offending field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .errors import validation_error
from .settings import EmulatorSettings

SECRET_MAX_LENGTH = 32  # documented on myPOS's webhook-properties page
_BOOLEAN_SPELLINGS = MappingProxyType(
    {"0": False, "1": True, "true": True, "false": False, "True": True, "False": False}
)


def pagination(query: Mapping[str, str], settings: EmulatorSettings) -> tuple[int, int]:
    page = _whole_number(query, "page", 1, minimum=1, maximum=None)
    size = _whole_number(query, "size", settings.default_page_size, minimum=1, maximum=settings.max_page_size)
    return page, size


def _whole_number(query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None) -> int:
    if name not in query:
        return default
    bounds = f"between {minimum} and {maximum}" if maximum is not None else f"of at least {minimum}"
    message = f"{name} must be a whole number {bounds}"
    try:
        value = int(query[name])
    except ValueError:
        raise validation_error(name, message) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise validation_error(name, message)
    return value


def text_field(fields: Mapping[str, Any], name: str) -> str | None:
    """The field as a string, or None when absent; non-string JSON values are rejected."""
    if name not in fields or fields[name] is None:
        return None
    value = fields[name]
    if not isinstance(value, str):
        raise validation_error(name, f"{name} must be a string")
    return value


def required_text(fields: Mapping[str, Any], name: str) -> str:
    value = text_field(fields, name)
    if value is None or value == "":
        raise validation_error(name, f"{name} is required")
    return value


def payload_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in value):
        raise validation_error("payload_url", "payload_url must be an absolute http(s) URL with a host")
    return value


def secret(value: str) -> str:
    if value == "":
        raise validation_error("secret", "secret must not be empty")
    if len(value) > SECRET_MAX_LENGTH:
        raise validation_error("secret", f"secret must be at most {SECRET_MAX_LENGTH} characters")
    return value


def is_active(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value in _BOOLEAN_SPELLINGS:
        return _BOOLEAN_SPELLINGS[value]
    raise validation_error("is_active", "is_active must be one of 0, 1, true, false")


def subscription_filter(value: Any) -> dict[str, Any] | None:
    """A filter arrives as JSON text (form bodies) or as a JSON value; "" and null clear it."""
    if isinstance(value, str):
        if value.strip() in ("", "null"):
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise validation_error("filter", "filter must be JSON: null or an object with a tids list") from None
    if value is None:
        return None
    tids = value.get("tids") if isinstance(value, dict) else None
    if not isinstance(tids, list) or not all(isinstance(tid, str) for tid in tids):
        raise validation_error("filter", "filter must be null or an object whose tids is a list of strings")
    return value
