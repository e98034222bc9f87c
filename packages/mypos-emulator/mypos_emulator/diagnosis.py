"""What the dashboard tells a developer about one attempt beyond the exchange itself: how it was signed
(without the secret), and a one-line hint where the answer points at the signature or leaves open whether
the receiver got the request."""

from __future__ import annotations

import re
from typing import Any

from .models import Notification
from .signing import body_form, signed_message

# Failures a receiver built on mypos_signature may name in its answer (a framework's error page, a JSON
# error), most specific first: a SignatureMismatch is a SignatureError too.
SIGNATURE_FAILURES = (
    "StaleTimestamp",
    "MissingSignatureHeader",
    "MalformedSignatureHeader",
    "SignatureMismatch",
    "SignatureError",
)
_TIMESTAMP = re.compile(r"(?:^|,)\s*t=([0-9]{1,15})\s*(?:,|$)")


def signing_view(note: Notification) -> dict[str, Any] | None:
    """How the emulator signed this attempt: the scheme, the body form (in mypos_signature's words), `t`, the
    exact signing input (the secret is the HMAC key, never part of it), the secret's fingerprint, and a hint
    when the receiver refused it. None for attempts recorded by a version that kept none of this."""
    timestamp = _timestamp(note.signature)
    if not note.signing_scheme or timestamp is None:
        return None
    signed_body = signed_message(note.payload, "body", timestamp)
    form = body_form(note.body.encode("utf-8"), signed_body)
    return {
        "scheme": note.signing_scheme,
        "body_form": form,
        "timestamp": timestamp,
        "timestamp_signed": note.signing_scheme == "t.body",
        "signing_input": signed_message(note.payload, note.signing_scheme, timestamp).decode("utf-8"),
        "secret_fingerprint": note.secret_fingerprint,
        "hint": _signature_hint(note, form, timestamp),
    }


def _timestamp(signature: str) -> int | None:
    found = _TIMESTAMP.search(signature)
    return int(found.group(1)) if found else None


def _signature_hint(note: Notification, form: str, timestamp: int) -> str | None:
    """On a 401, or an answer naming a signature failure, what to compare: one line."""
    named = next((name for name in SIGNATURE_FAILURES if name in note.answer), None)
    if note.response_code != 401 and named is None:
        return None
    said = f"your receiver answered {named}" if named else "401"
    if named == "StaleTimestamp":
        return (
            f"{said}: its tolerance refused t={timestamp}, the time this attempt was signed and sent; compare its "
            "clock with this machine's (a Copy as curl replay keeps this t on purpose)"
        )
    if named in ("MissingSignatureHeader", "MalformedSignatureHeader"):
        return f"{said}: X-myPOS-Signature went out as shown above; check that your server hands it over unchanged"
    return (
        f"{said}: check the secret first, its fingerprint must be {note.secret_fingerprint} "
        "(mypos_signature.secret_fingerprint of yours); then the signing input below: "
        f"HMAC-SHA256 as hex, scheme {note.signing_scheme}, body_form {form}"
    )


def no_answer_hint(note: Notification) -> str | None:
    """For an attempt without an answer: whether the receiver may have got (and acted on) it regardless."""
    if note.response_code is not None:
        return None
    if note.request_sent:
        return (
            "the whole request went out before that, so your receiver may still have processed it; "
            "a retry brings the same event id again: deduplicate on it"
        )
    return "the request never went out whole, so your receiver cannot have acted on it"


__all__ = ("SIGNATURE_FAILURES", "no_answer_hint", "signing_view")
