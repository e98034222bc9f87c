"""The six documented event types, the invented payloads the emulator delivers for them (myPOS documents no
payload, docs/mypos-api.md §6.2), a fixed preview of each, and overrides of a payload's fields."""

from __future__ import annotations

import copy
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from types import MappingProxyType
from typing import Any

DEFAULT_TERMINAL_ID = "90004889"


@dataclass(frozen=True)
class EventType:
    id: str
    com_name: str
    eu_name: str

    def name(self, naming: str) -> str:
        return self.eu_name if naming == "eu" else self.com_name

    @property
    def is_pos(self) -> bool:
        return self.com_name.startswith("pos.")


# UUIDs are the ones in the docs' GET /v1/events example; only the pos.payment names differ by doc host.
EVENT_TYPES: tuple[EventType, ...] = (
    EventType("33bcd9a7-43e4-4c0c-a728-106210056b1a", "pos.payment.completed", "pos.payment.completed"),
    EventType("a96b8eb8-67ca-42b5-ab5f-fdc24011ef72", "pos.payment.failed", "pos.payment.denied"),
    EventType("31028c55-24f9-4cb6-b801-282b906647b9", "pos.payment.cancelled", "pos.payment.reversed"),
    EventType(
        "a81fd693-d897-4f66-9c7c-f92c01460dac",
        "account.out-bank-transfer.initiated",
        "account.out-bank-transfer.initiated",
    ),
    EventType(
        "2261350a-2db1-45a3-b60d-f2fdb0225600",
        "account.out-bank-transfer.failed",
        "account.out-bank-transfer.failed",
    ),
    EventType(
        "f82c6caa-d052-4dd3-9044-5be41b36a466",
        "account.out-bank-transfer.approved",
        "account.out-bank-transfer.approved",
    ),
)

_BY_ID = MappingProxyType({event.id: event for event in EVENT_TYPES})


def event_by_id(event_id: str) -> EventType | None:
    return _BY_ID.get(event_id)


def event_by_name(name: str, naming: str) -> EventType | None:
    """Looks a name up in the active naming only, so a test using the other host's names fails loudly."""
    return next((event for event in EVENT_TYPES if event.name(naming) == name), None)


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


# Where the preview of each event's sample payload (the dashboard's catalogue, `emit --help`) is dated: any
# fixed time would do; the preview's other values come from a generator seeded with the event's id, so it is
# the same on every call and made by the very code that makes the payloads sent.
EXAMPLE_TIME = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _amount(rng: random.Random) -> str:
    return f"{rng.randint(100, 50000) / 100:.2f}"


def _outcome(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]


def _pos_data(event_name: str, terminal_id: str, now: float, rng: random.Random) -> dict[str, Any]:
    return {
        "amount": _amount(rng),
        "auth_code": f"{rng.getrandbits(24):06X}",
        "currency": "EUR",
        "pan": f"4035********{rng.randint(0, 9999):04d}",
        "payment_reference": f"{rng.randint(10**11, 10**12 - 1)}",
        "status": _outcome(event_name),
        "terminal_id": terminal_id,
        "transaction_date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
        "transaction_type": "purchase",
    }


def _transfer_data(event_name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "amount": _amount(rng),
        "beneficiary_iban": f"BG80BNBG9661{rng.randint(0, 9999):04d}******",
        "beneficiary_name": "ACME Supplies Ltd",
        "currency": "EUR",
        "reference": f"Invoice {rng.randint(1000, 9999)}",
        "status": _outcome(event_name),
        "transfer_id": _uuid4(rng),
    }


def build_payload(
    event: EventType, naming: str, terminal_id: str | None, now: float, rng: random.Random | None = None
) -> dict[str, Any]:
    """An invented notification body (myPOS documents none); keys sorted, like every JSON example of the real
    API. Its values are drawn from `rng`, the operating system's randomness unless given."""
    rng = rng or random.SystemRandom()
    name = event.name(naming)
    data = _pos_data(name, terminal_id or DEFAULT_TERMINAL_ID, now, rng) if event.is_pos else _transfer_data(name, rng)
    return {"created_on": http_date(now), "data": data, "event": name, "id": _uuid4(rng)}


def example_payload(event: EventType, naming: str) -> dict[str, Any]:
    """What a sample of `event` looks like: the same on every call, made as every sample is (invented)."""
    return build_payload(event, naming, None, EXAMPLE_TIME, random.Random(event.id))


class OverrideError(ValueError):
    """An override that cannot apply; `path` names the field (``data.amount``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, dict) else "a list"


def field_paths(payload: Any, prefix: str = "") -> list[str]:
    """Every field of a payload as a dotted path, objects included (``data``, ``data.amount``, ...)."""
    if not isinstance(payload, dict):
        return []
    paths: list[str] = []
    for key, value in payload.items():
        path = f"{prefix}{key}"
        paths += [path, *field_paths(value, f"{path}.")]
    return paths


def field_at(payload: Any, path: str) -> Any:
    """The value at a dotted path; OverrideError when the payload has no such field."""
    value = payload
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise OverrideError(path, f"the payload has no field {path}")
        value = value[key]
    return value


def apply_overrides(payload: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `payload` with each field a dotted path names replaced. A path must name a field the payload
    has, and the value must be of the JSON type of the value it replaces (any, where that is null): a sample
    keeps its shape, so a typo cannot add a field nobody asked for."""
    changed = copy.deepcopy(payload)
    for path, value in overrides.items():
        current = field_at(changed, path)
        if current is not None and _json_type(value) != _json_type(current):
            raise OverrideError(path, f"{path} is {_json_type(current)} in the payload, so its value must be one too")
        *parents, last = path.split(".")
        parent = changed
        for key in parents:
            parent = parent[key]
        parent[last] = copy.deepcopy(value)
    return changed


def terminal_id_of(payload: Any) -> str | None:
    """Where a terminal id can sit in an injected payload: data.terminal_id, then top-level terminal_id/tid."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    candidates = [data.get("terminal_id") if isinstance(data, dict) else None]
    candidates += [payload.get("terminal_id"), payload.get("tid")]
    return next((str(value) for value in candidates if value is not None), None)
