"""Verify the ``X-myPOS-Signature`` header on webhook callbacks (standard library only).

myPOS signs every callback with HMAC-SHA256, keyed with the webhook's ``secret``, and sends
``X-myPOS-Signature: t=<unix seconds>,v1=<hex digest>`` (docs/mypos-api.md §8.1). What exactly is
signed is not settled: myPOS's pages describe two different messages, and the byte-level input is
unknown (§8.2 to §8.4). Until a real callback pins it down, :func:`verify_signature` accepts every
documented reading and reports which one matched:

* scheme ``"body"`` (variant A): HMAC over the body alone;
* scheme ``"t.body"`` (variant B): HMAC over ``f"{t}.{body}"``, as in Stripe's scheme;

each computed over four forms of the body:

* ``"raw"``: the bytes as received;
* ``"whitespace-stripped"``: the raw bytes with ``": "`` -> ``":"`` and ``", "`` -> ``","``, which
  is what the PHP sample in the docs does (the quotes there are PHP string delimiters);
* ``"compact"``: the parsed JSON re-serialised with ``(",", ":")`` separators, key order kept,
  non-ASCII escaped as ``\\uXXXX``;
* ``"compact-unicode"``: the same with non-ASCII characters left as UTF-8.

The stripped form exists because the sender seems to POST ``json.dumps`` default output (with
spaces) while signing the compact form (§8.4). Stripping also removes ", " inside string values,
which the compact re-serialisation does not, so both are tried.

Leniency has a price: several different byte strings verify under one signature. So the result
carries ``signed_body``, the one form the signature covers, and a receiver must parse, deduplicate
and act on those bytes, never on the received ones (§8.5).

``secret`` may be a sequence of secrets, so a receiver can accept the old and the new one while a
rotation rolls out; the result says which one matched by its position, never by its value.

The result also says what it proved about time. Under ``"t.body"`` the HMAC covers ``t``
(``timestamp_signed`` is True), so a ``tolerance`` bounds how old a replayed delivery can be. Under
``"body"`` (variant A, the reading of the later docs and the emulator's default) ``t`` is *not*
signed: anyone holding one genuine delivery can send it again with a fresh ``t``, and a tolerance
cannot tell. Such a delivery is still accepted, with ``timestamp_signed`` False (refusing it would
refuse every genuine delivery under that reading), and ``replay_protection`` says so in a sentence
fit for a log. What protects against replays under both readings is deduplication on signed data:
the event id inside ``signed_body``, kept for myPOS's 3-day retry window (docs/mypos-api.md §7.4).

:func:`secret_fingerprint` names a secret without showing it (the emulator's dashboard shows the
fingerprint of the secret each delivery was signed with), so a receiver can log which secrets it
holds and compare.

The module is framework-neutral: it takes the raw body bytes and anything with an ``items()``
method that yields header names and values (a ``dict``, ``http.client.HTTPMessage``, Flask,
Django and Starlette header objects).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "BodyForm",
    "HeaderSource",
    "MalformedSignatureHeader",
    "MissingSignatureHeader",
    "Scheme",
    "SignatureError",
    "SignatureMismatch",
    "StaleTimestamp",
    "VerifiedSignature",
    "check_tolerance",
    "secret_fingerprint",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-myPOS-Signature"
EVENT_HEADER = "X-myPOS-Event"

Scheme = Literal["body", "t.body"]
BodyForm = Literal["raw", "whitespace-stripped", "compact", "compact-unicode"]

SCHEMES: tuple[Scheme, ...] = ("body", "t.body")
# Order matters only when two forms are byte-identical (an already compact body): the earliest,
# least transformed form is reported.
BODY_FORMS: tuple[BodyForm, ...] = ("raw", "whitespace-stripped", "compact", "compact-unicode")

# The message a secret's fingerprint is the HMAC of: a key check value, which names the key without being
# a digest of any delivery. mypos_emulator (which imports nothing of this package) uses the same message.
_FINGERPRINT_MESSAGE = b"mypos-webhook-secret-fingerprint"
_FINGERPRINT_HEX_DIGITS = 8  # enough to tell a receiver's few secrets apart

_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # whole seconds; the bound keeps int() cheap
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class HeaderSource(Protocol):
    """Anything whose ``items()`` yields ``(name, value)`` pairs: a Mapping or an HTTP message."""

    def items(self) -> Iterable[tuple[Any, Any]]: ...


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that matched: under which reading of the docs, with which secret, over which bytes.

    ``secret_index`` is the position of the matching secret in the sequence given to
    :func:`verify_signature` (0 for a single secret). ``signed_body`` is the body as the signature
    covers it: the received bytes for ``body_form="raw"``, else the re-formed bytes that matched.
    Parse and act on ``signed_body``: it is the same for every re-spaced or re-escaped copy of one
    delivery, and says exactly what myPOS signed. (It is left out of ``repr`` and of equality, which
    stay what they were before it existed.)

    ``timestamp_signed`` says whether the matched reading signs ``t`` (only ``"t.body"`` does).
    ``tolerance`` is the tolerance that was enforced on ``t`` (None: none was). With a tolerance and an
    unsigned ``t`` the delivery is accepted all the same: the tolerance then refuses only a replay that
    kept its original header, not one re-stamped with a fresh ``t``. ``replay_protection`` says in one
    line what does protect this delivery against a replay: deduplication on the event id in
    ``signed_body``, which a receiver needs under either reading.
    """

    timestamp: int
    scheme: Scheme
    body_form: BodyForm
    secret_index: int = 0
    signed_body: bytes = field(default=b"", repr=False, compare=False)
    tolerance: float | None = field(default=None, compare=False)

    @property
    def timestamp_signed(self) -> bool:
        """True when the HMAC covers ``t`` (scheme ``"t.body"``); False when ``t`` is only a claim (``"body"``)."""
        return self.scheme == "t.body"

    @property
    def replay_protection(self) -> str:
        """One line on what stops a replay of this delivery, for a receiver's log (no secret, no digest)."""
        dedupe = "deduplication on the event id in signed_body (kept for myPOS's 3-day retry window)"
        if not self.timestamp_signed:
            unsigned = f"t is not signed under scheme {self.scheme!r}, so anyone can re-stamp a captured delivery"
            if self.tolerance is not None:
                return f"{unsigned} and the {self.tolerance:g} s tolerance cannot stop a replay: only {dedupe} does"
            return f"{unsigned}: only {dedupe} stops a replay"
        if self.tolerance is not None:
            return (
                f"t is signed and within the {self.tolerance:g} s tolerance, so no older replay gets through;"
                f" within it, and for myPOS's own retries, {dedupe} is what drops repeats"
            )
        return f"t is signed but no tolerance is set: only {dedupe} stops a replay"


class SignatureError(ValueError):
    """The callback is not provably from myPOS. Messages never include the secret or a digest."""


class MissingSignatureHeader(SignatureError):
    """The request has no ``X-myPOS-Signature`` header."""


class MalformedSignatureHeader(SignatureError):
    """The header is present but is not ``t=<integer>,v1=<64 hex chars>``."""


class StaleTimestamp(SignatureError):
    """The signature is genuine, but ``t`` lies further from now than the tolerance allows.

    ``timestamp_signed`` False means ``t`` is not covered by the signature (scheme ``"body"``): the body is
    authentic, but ``t`` is only what the request claims.
    """

    def __init__(self, timestamp: int, now: float, tolerance: float, *, timestamp_signed: bool = True) -> None:
        unsigned = "" if timestamp_signed else " (t is not covered by the signature under scheme 'body')"
        super().__init__(
            f"signature timestamp {timestamp} is {abs(now - timestamp):.0f}s from now,"
            f" more than the {tolerance:g}s tolerance{unsigned}"
        )
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance
        self.timestamp_signed = timestamp_signed


class SignatureMismatch(SignatureError):
    """No ``v1`` value equals any digest computed with the given secret(s)."""


@dataclass(frozen=True)
class _ParsedHeader:
    timestamp_text: str  # signed as sent, so leading zeros or the like cannot break variant B
    timestamp: int
    signatures: tuple[bytes, ...]  # lowercase hex, ASCII


@dataclass(frozen=True)
class _Match:
    secret_index: int
    scheme: Scheme
    body_form: BodyForm
    signed_body: bytes


def verify_signature(
    body: bytes,
    headers: Mapping[str, str] | HeaderSource,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = None,
    now: float | None = None,
) -> VerifiedSignature:
    """Check a callback's ``X-myPOS-Signature`` against ``secret`` and report what matched.

    Call it with the raw request body before parsing or acting on it, then parse and act on the
    result's ``signed_body``. The header name is matched case-insensitively. Every ``v1`` value in
    the header is tried (others such as ``v0`` are ignored, as the docs ask); any of them may match.
    All candidate digests are computed and compared in constant time, so timing does not reveal
    which one came close.

    ``secret`` is the webhook's secret, or a sequence of secrets that are all accepted (the old and
    the new one during a rotation); ``secret_index`` in the result says which one matched.

    ``tolerance`` (seconds) rejects signatures whose ``t`` is further than that from ``now``
    (default: the current time). It is off by default on purpose: myPOS documents no tolerance,
    retries a failed delivery for up to 3 days, and does not say whether ``t`` is regenerated
    on each retry (docs/mypos-api.md §7.3, §8.3), so a tolerance could reject genuine retries. Set
    it if you know better, for example after seeing that retries carry a fresh ``t``. The signature
    is checked first, so :class:`StaleTimestamp` always means an authentic but old (or replayed)
    delivery.

    A tolerance protects only a signed ``t``. When the matched reading is ``"body"``, ``t`` is not
    covered by the HMAC: the delivery is accepted (with a tolerance, only if ``t`` as sent is within it)
    and the result says ``timestamp_signed=False``; a replay re-stamped with a fresh ``t`` would pass
    the same way. It is not refused because under that reading every genuine delivery looks like this.
    Deduplicate on the event id in ``signed_body`` (docs/mypos-api.md §7.4): that stops replays under
    both readings, and ``replay_protection`` says which defence applies to each delivery.

    Raises :class:`MissingSignatureHeader`, :class:`MalformedSignatureHeader`,
    :class:`SignatureMismatch` or :class:`StaleTimestamp`, all subclasses of
    :class:`SignatureError` (a ``ValueError``). Raises ``TypeError``/``ValueError`` for misuse:
    a ``str`` body, a ``bytes`` secret, no secret or an empty one, a tolerance that is not a finite
    number of seconds of at least 0 (see :func:`check_tolerance`).
    """
    _require_bytes(body)
    keys = _secret_keys(secret)
    tolerance = check_tolerance(tolerance)

    header_value = _find_header(headers, SIGNATURE_HEADER)
    if header_value is None:
        raise MissingSignatureHeader(f"the request has no {SIGNATURE_HEADER} header")
    parsed = _parse_header(header_value)

    matched = _match(keys, parsed, bytes(body))
    if matched is None:
        raise SignatureMismatch(
            f"{SIGNATURE_HEADER} does not match the body under any supported scheme"
            " (wrong secret, altered body, or an unknown signing scheme)"
        )

    verified = VerifiedSignature(
        timestamp=parsed.timestamp,
        scheme=matched.scheme,
        body_form=matched.body_form,
        secret_index=matched.secret_index,
        signed_body=matched.signed_body,
        tolerance=tolerance,
    )
    if tolerance is not None:
        current = time.time() if now is None else now
        if abs(current - parsed.timestamp) > tolerance:
            raise StaleTimestamp(parsed.timestamp, current, tolerance, timestamp_signed=verified.timestamp_signed)
    return verified


def check_tolerance(tolerance: float | None) -> float | None:
    """Return ``tolerance`` if it is None or a finite number of seconds of at least 0; else raise ValueError.

    NaN compares false with everything, so a NaN tolerance would silently accept any timestamp;
    infinity means the same as None, and a negative window accepts nothing. Each is refused with a
    one-line message that says what to pass instead.
    """
    fix = "give a finite number of seconds (0 or more), or None to turn the timestamp check off"
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise ValueError(f"tolerance must be a number of seconds, not a {type(tolerance).__name__}: {fix}")
    if isinstance(tolerance, float) and math.isnan(tolerance):  # an int is always finite (and may be huge)
        raise ValueError(f"tolerance is NaN: {fix}")
    if isinstance(tolerance, float) and math.isinf(tolerance):
        raise ValueError(f"tolerance is infinite: {fix}")
    if tolerance < 0:
        raise ValueError(f"tolerance is negative: {fix}")
    return tolerance


def secret_fingerprint(secret: str) -> str:
    """A short name for ``secret`` that does not show it: 8 hex digits of HMAC-SHA256(secret, a fixed message).

    The emulator's dashboard shows the fingerprint of the secret each delivery was signed with; a
    receiver that logs the fingerprints of the secrets it holds can tell at a glance whether it has the
    right one. Like any value derived from a secret, it lets someone who sees it test guesses of a weak
    secret: show it only where the secret itself may be seen, and use long random secrets.
    """
    digest = hmac.new(_secret_key(secret), _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()
    return digest[:_FINGERPRINT_HEX_DIGITS]


def sign(body: bytes, secret: str, *, timestamp: int, scheme: str = "body") -> str:
    """Return an ``X-myPOS-Signature`` value for ``body`` as sent, e.g. ``t=1700000000,v1=ab12...``.

    ``scheme`` is ``"body"`` (variant A, the default) or ``"t.body"`` (variant B). The body is
    signed byte for byte; to reproduce the suspected whitespace quirk, sign the compact JSON
    and send a spaced one.
    """
    _require_bytes(body)
    key = _secret_key(secret)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative integer number of seconds")
    digest = _digest(key, _signed_message(scheme, str(timestamp), body))
    return f"t={timestamp},v1={digest.decode('ascii')}"


def _require_bytes(body: object) -> None:
    # A decoded str has already lost the exact bytes that were signed.
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be the raw request bytes, not {type(body).__name__}")


def _secret_key(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        # An empty key would make every signature forgeable by anyone who guesses that.
        raise ValueError("secret must be a non-empty string")
    return secret.encode("utf-8")


def _secret_keys(secret: str | Sequence[str]) -> tuple[bytes, ...]:
    if isinstance(secret, str):
        return (_secret_key(secret),)
    if isinstance(secret, (bytes, bytearray, memoryview)):
        # Iterating bytes yields numbers; a bytes secret is a caller bug, not a list of secrets.
        raise TypeError("secret must be a str or a sequence of str, not bytes: decode it first")
    keys = tuple(_secret_key(item) for item in secret)
    if not keys:
        raise ValueError("no secret given: pass the webhook's secret, or a list of the secrets to accept")
    return keys


def _find_header(headers: Mapping[str, str] | HeaderSource, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if _as_text(key).lower() == wanted:
            return _as_text(value)
    return None


def _as_text(value: object) -> str:
    # Some frameworks hand over raw header bytes; HTTP headers are Latin-1 on the wire.
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _parse_header(value: str) -> _ParsedHeader:
    timestamps: set[str] = set()
    signatures: list[bytes] = []
    for item in value.split(","):
        key, separator, item_value = item.partition("=")
        if not separator:
            continue  # stray text is ignored, like unknown keys
        key, item_value = key.strip().lower(), item_value.strip()
        if key == "t":
            timestamps.add(item_value)
        elif key == "v1":
            signatures.append(_parse_v1(item_value))

    if not timestamps:
        raise MalformedSignatureHeader(f"{SIGNATURE_HEADER} has no t= timestamp")
    if len(timestamps) > 1:
        raise MalformedSignatureHeader(f"{SIGNATURE_HEADER} has conflicting t= timestamps")
    timestamp_text = timestamps.pop()
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise MalformedSignatureHeader(f"{SIGNATURE_HEADER} t= is not a UNIX timestamp in whole seconds")
    if not signatures:
        raise MalformedSignatureHeader(f"{SIGNATURE_HEADER} has no v1= signature")
    return _ParsedHeader(timestamp_text, int(timestamp_text), tuple(signatures))


def _parse_v1(value: str) -> bytes:
    if not _SHA256_HEX.fullmatch(value):
        raise MalformedSignatureHeader(f"{SIGNATURE_HEADER} v1= is not a 64-character hex SHA-256 digest")
    return value.lower().encode("ascii")


def _match(keys: tuple[bytes, ...], parsed: _ParsedHeader, body: bytes) -> _Match | None:
    # Compute and compare everything before choosing, so the time taken does not depend on
    # which candidate (if any) matched, how close a forged value came, or which secret it was.
    candidates = _candidate_bodies(body)
    outcomes: list[tuple[_Match, bool]] = []
    for secret_index, key in enumerate(keys):
        for body_form, message in candidates.items():
            for scheme in SCHEMES:
                digest = _digest(key, _signed_message(scheme, parsed.timestamp_text, message))
                matched = False
                for received in parsed.signatures:
                    matched |= hmac.compare_digest(digest, received)
                outcomes.append((_Match(secret_index, scheme, body_form, message), matched))
    return next((candidate for candidate, matched in outcomes if matched), None)


def _candidate_bodies(body: bytes) -> dict[BodyForm, bytes]:
    candidates: dict[BodyForm, bytes] = {
        "raw": body,
        "whitespace-stripped": body.replace(b": ", b":").replace(b", ", b","),
    }
    parsed = _parse_json(body)
    if parsed is not _NOT_JSON:
        candidates["compact"] = _compact_json(parsed, ensure_ascii=True)
        candidates["compact-unicode"] = _compact_json(parsed, ensure_ascii=False)
    return candidates


_NOT_JSON = object()


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)  # dicts keep the sender's key order
    except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeDecodeError
        return _NOT_JSON


def _compact_json(value: Any, *, ensure_ascii: bool) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii).encode("utf-8")


def _signed_message(scheme: str, timestamp_text: str, body: bytes) -> bytes:
    if scheme == "t.body":
        return timestamp_text.encode("ascii") + b"." + body
    return body


def _digest(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode("ascii")
