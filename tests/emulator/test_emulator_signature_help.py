"""What each recorded attempt says beyond the exchange, for a developer whose receiver refuses or misses it: how
it was signed (scheme, body form, t, the exact signing input, the secret's fingerprint; never the secret), a
one-line hint when the answer points at the signature, whether an attempt without an answer may still have
been processed, and whether the payload was invented. Cross-checked against mypos_signature, the verifier a
receiver uses."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

import pytest

from mypos_signature import secret_fingerprint, verify_signature

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

SECRET = "signature-help-secret-0123456789"
ROTATED = "signature-help-rotated-000000001"
# A value holding ", " and ": ": stripping the spaced body then changes it, so only a re-serialisation verifies.
TRICKY_PAYLOAD = {"id": "evt-help-1", "event": "pos.payment.completed", "data": {"note": "Coffee, large: 2"}}


@pytest.fixture
def hook(api: ApiClient, receiver: Receiver) -> dict[str, Any]:
    created = api.create_webhook(payload_url=receiver.url, secret=SECRET)
    api.subscribe(created["id"])
    return created


def latest_attempt(control: Control) -> dict[str, Any]:
    return control.ok("GET", "/deliveries", params={"limit": "1"})["deliveries"][0]


def emit_once(control: Control, **options: Any) -> dict[str, Any]:
    control.settings(delivery_retry_delays=[])
    control.emit("pos.payment.completed", wait=True, **options)
    return latest_attempt(control)


# How it was signed


@pytest.mark.parametrize("scheme", ["body", "t.body"])
def test_an_attempt_names_the_scheme_it_was_signed_under(control: Control, hook: dict[str, Any], scheme: str) -> None:
    control.settings(signing_scheme=scheme)

    signing = emit_once(control)["signing"]

    assert (signing["scheme"], signing["timestamp_signed"]) == (scheme, scheme == "t.body")


@pytest.mark.parametrize("scheme", ["body", "t.body"])
@pytest.mark.parametrize("body_style", ["compact", "python-default"])
def test_the_signing_input_is_exactly_what_the_sent_signature_is_the_hmac_of(
    control: Control, receiver: Receiver, hook: dict[str, Any], scheme: str, body_style: str
) -> None:
    control.settings(signing_scheme=scheme, body_style=body_style)

    attempt = emit_once(control)

    got = receiver.next()
    digest = hmac.new(SECRET.encode(), attempt["signing"]["signing_input"].encode(), hashlib.sha256).hexdigest()
    assert got.headers["X-myPOS-Signature"] == f"t={attempt['signing']['timestamp']},v1={digest}"


def test_under_t_body_the_signing_input_starts_with_t_and_a_dot(control: Control, hook: dict[str, Any]) -> None:
    control.settings(signing_scheme="t.body")

    signing = emit_once(control)["signing"]

    assert signing["signing_input"].startswith(f"{signing['timestamp']}.{{")


@pytest.mark.parametrize("scheme", ["body", "t.body"])
@pytest.mark.parametrize(
    ("body_style", "payload"),
    [
        ("compact", None),
        ("python-default", None),
        ("python-default", TRICKY_PAYLOAD),
    ],
    ids=["compact", "spaced", "spaced-with-separators-in-a-value"],
)
def test_the_body_form_is_the_one_the_verifier_reports_for_the_bytes_received(
    control: Control,
    receiver: Receiver,
    hook: dict[str, Any],
    scheme: str,
    body_style: str,
    payload: dict[str, Any] | None,
) -> None:
    control.settings(signing_scheme=scheme, body_style=body_style)

    attempt = emit_once(control, **({"payload": payload} if payload else {}))

    got = receiver.next()
    verified = verify_signature(got.body, got.headers, SECRET)
    assert (attempt["signing"]["scheme"], attempt["signing"]["body_form"]) == (verified.scheme, verified.body_form)


def test_the_fingerprint_is_the_verifiers_fingerprint_of_the_secret_that_signed(
    control: Control, hook: dict[str, Any]
) -> None:
    attempt = emit_once(control)

    assert attempt["signing"]["secret_fingerprint"] == secret_fingerprint(SECRET)


def test_after_a_rotation_the_next_attempt_shows_the_new_secrets_fingerprint(
    api: ApiClient, control: Control, hook: dict[str, Any]
) -> None:
    before = emit_once(control)
    api.patch(f"/webhooks/{hook['id']}", data={"secret": ROTATED})

    after = emit_once(control)

    assert before["signing"]["secret_fingerprint"] == secret_fingerprint(SECRET)
    assert after["signing"]["secret_fingerprint"] == secret_fingerprint(ROTATED)


def test_no_attempt_view_holds_the_secret(control: Control, receiver: Receiver, hook: dict[str, Any]) -> None:
    receiver.answer_with(401)
    emit_once(control)

    assert SECRET not in control.call("GET", "/deliveries").text
    assert SECRET not in control.call("GET", "/dashboard").text


# A hint on what to compare when the receiver refused the signature


def test_a_401_brings_a_hint_naming_the_secrets_fingerprint_and_the_signing_input(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    receiver.answer_with(401)

    hint = emit_once(control)["signing"]["hint"]

    assert hint.startswith("401: check the secret first")
    assert secret_fingerprint(SECRET) in hint and "scheme body, body_form raw" in hint
    assert "\n" not in hint


def test_an_answer_naming_a_signature_mismatch_brings_the_hint_whatever_its_status(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    receiver.answer_with(500)
    receiver.answer_body = b"Traceback ...\nmypos_signature.SignatureMismatch: X-myPOS-Signature does not match"

    hint = emit_once(control)["signing"]["hint"]

    assert hint.startswith("your receiver answered SignatureMismatch: check the secret first")


def test_an_answer_naming_a_stale_timestamp_points_at_the_clocks(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    receiver.answer_with(401)
    receiver.answer_body = b'{"error": "StaleTimestamp"}'

    attempt = emit_once(control)

    hint = attempt["signing"]["hint"]
    assert f"refused t={attempt['signing']['timestamp']}" in hint and "clock" in hint


def test_an_answer_naming_a_missing_header_points_at_the_server_passing_it_on(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    receiver.answer_with(400)
    receiver.answer_body = b"MissingSignatureHeader"

    hint = emit_once(control)["signing"]["hint"]

    assert "hands it over unchanged" in hint


@pytest.mark.parametrize("status", [200, 500])
def test_other_answers_bring_no_signature_hint(
    control: Control, receiver: Receiver, hook: dict[str, Any], status: int
) -> None:
    receiver.answer_with(status)

    assert emit_once(control)["signing"]["hint"] is None


# Without an answer: may the receiver have processed it?


def test_an_answer_too_slow_for_the_timeout_may_still_have_been_processed(
    control: Control, receiver: Receiver, hook: dict[str, Any]
) -> None:
    control.settings(delivery_timeout=0.2)
    receiver.delay = 0.6

    attempt = emit_once(control)

    assert (attempt["response_code"], attempt["error"]) == (None, "no answer within 0.2 s")
    assert attempt["request_sent"] is True
    assert "may still have processed it" in attempt["no_answer_hint"]
    assert receiver.next().body == attempt["body"].encode()  # it did arrive, whole


def test_a_refused_connection_cannot_have_been_processed(api: ApiClient, control: Control) -> None:
    created = api.create_webhook(payload_url="http://127.0.0.1:9/closed", secret=SECRET)
    api.subscribe(created["id"])

    attempt = emit_once(control)

    assert attempt["request_sent"] is False
    assert attempt["no_answer_hint"] == "the request never went out whole, so your receiver cannot have acted on it"


def test_an_answered_attempt_has_no_such_hint(control: Control, hook: dict[str, Any]) -> None:
    attempt = emit_once(control)

    assert (attempt["request_sent"], attempt["no_answer_hint"]) == (True, None)


# Invented payloads


def test_an_emitted_event_without_a_payload_is_marked_invented(control: Control, hook: dict[str, Any]) -> None:
    assert emit_once(control)["invented_payload"] is True


def test_a_payload_given_by_the_caller_is_not_marked_invented(control: Control, hook: dict[str, Any]) -> None:
    assert emit_once(control, payload=TRICKY_PAYLOAD)["invented_payload"] is False


def test_a_sample_is_invented_and_so_is_its_resend(control: Control, api: ApiClient, hook: dict[str, Any]) -> None:
    (subscription,) = api.get("/subscriptions").json()["subscriptions"]
    sample = control.ok("POST", "/sample", json={"subscription_id": subscription["id"]})["delivery"]

    again = control.ok("POST", "/resend", json={"attempt_id": sample["id"]})["delivery"]

    assert (sample["invented_payload"], again["invented_payload"]) == (True, True)
