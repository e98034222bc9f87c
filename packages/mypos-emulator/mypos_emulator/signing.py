"""X-myPOS-Signature: how the emulator serialises and signs a notification body, and what it can say about a
signature it made without showing the secret (its fingerprint, the exact signing input)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def compact_json(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def render_body(payload: Any, body_style: str) -> bytes:
    """The bytes POSTed. `python-default` keeps json.dumps' ", " and ": " (the suspected real quirk)."""
    text = json.dumps(payload) if body_style == "python-default" else compact_json(payload)
    return text.encode("utf-8")


def signed_message(payload: Any, scheme: str, timestamp: int) -> bytes:
    # Always the compact form: with body_style=python-default this differs from the bytes on the wire.
    body = compact_json(payload)
    message = f"{timestamp}.{body}" if scheme == "t.body" else body
    return message.encode("utf-8")


def signature(secret: str, payload: Any, scheme: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), signed_message(payload, scheme, timestamp), hashlib.sha256)
    return digest.hexdigest()


def signature_header(secret: str, payload: Any, scheme: str, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret, payload, scheme, timestamp)}"


# A key check value: names a secret without being a digest of any delivery. mypos_signature.secret_fingerprint
# computes the same (the emulator imports nothing of it: each distribution stands alone); a test holds both
# to one vector.
FINGERPRINT_MESSAGE = b"mypos-webhook-secret-fingerprint"


def secret_fingerprint(secret: str) -> str:
    """8 hex digits of HMAC-SHA256(secret, a fixed message): which secret signed, never the secret."""
    return hmac.new(secret.encode("utf-8"), FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:8]


def body_form(sent: bytes, signed: bytes) -> str:
    """The verifier's name (mypos_signature's BodyForm) for how the signed body relates to the bytes sent:
    the same bytes, the sent bytes with ": " and ", " stripped, or the compact re-serialisation."""
    if signed == sent:
        return "raw"
    if signed == sent.replace(b": ", b":").replace(b", ", b","):
        return "whitespace-stripped"
    return "compact"
