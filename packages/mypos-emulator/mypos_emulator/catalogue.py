"""The six documented event types and the invented payloads the emulator delivers for them."""

from __future__ import annotations

import random
import secrets
import time
import uuid
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


def _amount() -> str:
    return f"{random.randint(100, 50000) / 100:.2f}"


def _outcome(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]


def _pos_data(event_name: str, terminal_id: str, now: float) -> dict[str, Any]:
    return {
        "amount": _amount(),
        "auth_code": secrets.token_hex(3).upper(),
        "currency": "EUR",
        "pan": f"4035********{random.randint(0, 9999):04d}",
        "payment_reference": f"{random.randint(10**11, 10**12 - 1)}",
        "status": _outcome(event_name),
        "terminal_id": terminal_id,
        "transaction_date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
        "transaction_type": "purchase",
    }


def _transfer_data(event_name: str) -> dict[str, Any]:
    return {
        "amount": _amount(),
        "beneficiary_iban": f"BG80BNBG9661{random.randint(0, 9999):04d}******",
        "beneficiary_name": "ACME Supplies Ltd",
        "currency": "EUR",
        "reference": f"Invoice {random.randint(1000, 9999)}",
        "status": _outcome(event_name),
        "transfer_id": str(uuid.uuid4()),
    }


def build_payload(event: EventType, naming: str, terminal_id: str | None, now: float) -> dict[str, Any]:
    """An invented notification body; keys sorted, like every JSON example of the real API."""
    name = event.name(naming)
    data = _pos_data(name, terminal_id or DEFAULT_TERMINAL_ID, now) if event.is_pos else _transfer_data(name)
    return {"created_on": http_date(now), "data": data, "event": name, "id": str(uuid.uuid4())}


def terminal_id_of(payload: Any) -> str | None:
    """Where a terminal id can sit in an injected payload: data.terminal_id, then top-level terminal_id/tid."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    candidates = [data.get("terminal_id") if isinstance(data, dict) else None]
    candidates += [payload.get("terminal_id"), payload.get("tid")]
    return next((str(value) for value in candidates if value is not None), None)
