"""Keeping secrets out of every text that leaves the client.

A server (or a proxy in front of it) may echo a request in its error answer, in any field and in the
encoding the request used: a webhook secret form-encoded (`+`, `%2F`, `%26`), the client credentials as
the base64 of `id:secret` from the Basic header, the bearer token. `SecretRedactor` knows every secret in
play for one client and removes each in each of those spellings.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; no secret this package handles is that short.
_MIN_LENGTH = 4


def spellings(secret: str) -> set[str]:
    """The forms a secret takes on the wire: plain, URL- and form-encoded, JSON-escaped, base64."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret, safe="/"),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
    }
    return {form for form in forms if len(form) >= _MIN_LENGTH}


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The value of the Basic header for these credentials: a secret of its own, since it decodes to both."""
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


class SecretRedactor:
    """The secrets in play for one client; thread-safe, since a shell runs many calls at once."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        forms = set().union(*(spellings(secret) for secret in secrets if secret))
        with self._lock:
            self._forms |= forms

    def redact(self, text: str, *extra: str | None) -> str:
        with self._lock:
            forms = set(self._forms)
        forms |= set().union(*(spellings(secret) for secret in extra if secret))
        # Longest first, so a secret that contains another is removed whole.
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        return text
