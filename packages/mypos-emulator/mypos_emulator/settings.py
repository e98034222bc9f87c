"""Every fact the myPOS docs leave unknown (docs/mypos-api.md §10), as one runtime-changeable settings object."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

EVENT_NAMINGS = ("com", "eu")
SIGNING_SCHEMES = ("body", "t.body")
BODY_STYLES = ("compact", "python-default")
CREATED_ON_FORMATS = ("http-date", "unix")
CREATE_STATUSES = (200, 201)
DELETE_STATUSES = (200, 204)
RETRIES_AFTER_RESEND = ("continue", "stop")


class SettingsError(ValueError):
    """A bad setting name or value; `field` names the setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _number(name: str, value: Any, *, minimum: float, inclusive: bool) -> float:
    # bool is an int subclass, but `latency: true` is a caller bug, not 1 second.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise SettingsError(name, f"{name} must be a number")
    too_small = value < minimum if inclusive else value <= minimum
    if too_small:
        relation = "at least" if inclusive else "greater than"
        raise SettingsError(name, f"{name} must be {relation} {minimum:g}")
    return value


def _positive(name: str, value: Any) -> float:
    return _number(name, value, minimum=0, inclusive=False)


def _non_negative(name: str, value: Any) -> float:
    return _number(name, value, minimum=0, inclusive=True)


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(name, f"{name} must be true or false")
    return value


def _one_of(choices: tuple[Any, ...]) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or value not in choices:
            listed = ", ".join(repr(choice) for choice in choices)
            raise SettingsError(name, f"{name} must be one of {listed}")
        return value

    return check


def _page_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(name, f"{name} must be a whole number of at least 1")
    return value


def _delays(name: str, value: Any) -> list[float]:
    if not isinstance(value, (list, tuple)):
        raise SettingsError(name, f"{name} must be a list of seconds")
    return [_non_negative(name, delay) for delay in value]


_VALIDATORS: Mapping[str, Callable[[str, Any], Any]] = MappingProxyType(
    {
        "token_lifetime": _positive,
        "latency": _non_negative,
        "event_naming": _one_of(EVENT_NAMINGS),
        "signing_scheme": _one_of(SIGNING_SCHEMES),
        "body_style": _one_of(BODY_STYLES),
        "require_scope": _boolean,
        "wrap_single_objects": _boolean,
        "create_status": _one_of(CREATE_STATUSES),
        "delete_status": _one_of(DELETE_STATUSES),
        "created_on_format": _one_of(CREATED_ON_FORMATS),
        "delivery_retry_delays": _delays,
        "delivery_timeout": _positive,
        "default_page_size": _page_size,
        "max_page_size": _page_size,
        "allow_duplicate_subscriptions": _boolean,
        "retries_after_resend": _one_of(RETRIES_AFTER_RESEND),
    }
)


@dataclass
class EmulatorSettings:
    """Configurable unknowns of the myPOS APIs. See docs/emulator.md for why each default."""

    token_lifetime: float = 3600
    latency: float = 0.0
    event_naming: str = "com"
    signing_scheme: str = "body"
    body_style: str = "compact"
    require_scope: bool = False
    wrap_single_objects: bool = True
    create_status: int = 200
    delete_status: int = 200
    created_on_format: str = "http-date"
    # Stands for myPOS's 3-day retry window on a compressed clock.
    delivery_retry_delays: list[float] = field(default_factory=lambda: [0.2, 0.5, 1.0])
    delivery_timeout: float = 5.0
    default_page_size: int = 20
    max_page_size: int = 100
    allow_duplicate_subscriptions: bool = True
    # A successful resend leaves a retry that is due in place ("continue") or cancels it ("stop"). myPOS has no
    # resend; continuing keeps the at-least-once duplicate a receiver must handle anyway (docs/emulator.md).
    retries_after_resend: str = "continue"

    def __post_init__(self) -> None:
        for name, check in _VALIDATORS.items():
            setattr(self, name, check(name, getattr(self, name)))
        if self.default_page_size > self.max_page_size:
            raise SettingsError("default_page_size", "default_page_size must not exceed max_page_size")

    def to_dict(self) -> dict[str, Any]:
        answer = dataclasses.asdict(self)
        answer["delivery_retry_delays"] = list(self.delivery_retry_delays)
        return answer

    def updated(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        """A validated copy with `changes` applied; unknown names raise SettingsError."""
        unknown = sorted(set(changes) - set(_VALIDATORS))
        if unknown:
            raise SettingsError(unknown[0], f"unknown setting(s): {', '.join(unknown)}")
        merged = {**self.to_dict(), **changes}
        return EmulatorSettings(**merged)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmulatorSettings:
        return cls().updated(data)

    @property
    def token_expires_in(self) -> int:
        # OAuth's expires_in is a whole number of seconds; never claim 0 for a live token.
        return max(1, math.ceil(self.token_lifetime))

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(_VALIDATORS)
