"""Merchant accounts of the emulator with credentials unique to a test."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Account:
    client_id: str
    client_secret: str


def random_credentials() -> Account:
    """The shape of real myPOS credentials: 24 and 48 alphanumeric characters."""
    return Account(
        "".join(secrets.choice(ALPHABET) for _ in range(24)), "".join(secrets.choice(ALPHABET) for _ in range(48))
    )
