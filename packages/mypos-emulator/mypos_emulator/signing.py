"""X-myPOS-Signature: how the emulator serialises and signs a notification body."""

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
