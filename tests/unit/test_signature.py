"""Unit tests for mypos_signature, pinned to fixed vectors.

The expected digests were computed once with hmac/hashlib (variant A and B of VECTOR_BODY were
cross-checked with `openssl dgst -sha256 -hmac`) and pasted here, so a change to what gets
signed cannot silently change both sides of a test.
"""

from __future__ import annotations

import http.client
import io
from typing import Any

import pytest

from mypos_signature import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    MalformedSignatureHeader,
    MissingSignatureHeader,
    SignatureError,
    SignatureMismatch,
    StaleTimestamp,
    VerifiedSignature,
    check_tolerance,
    secret_fingerprint,
    sign,
    verify_signature,
)

SECRET = "whsec_test_3f9a"
TIMESTAMP = 1700000000

# Variant A / B: a compact body, signed as sent.
VECTOR_BODY = b'{"id":"evt_1","event":"pos.payment.completed","amount":12.5}'
VECTOR_BODY_HEX = "f303d6a5e27979f014c46ef6237f220fb2cca54741e08c47e594262259ab5412"
VECTOR_T_BODY_HEX = "134c05d9ad2a0c749f078f2d551deff2b09cedfe346c3be74533b01b7431dbc2"

# Whitespace quirk: sent with ", " and ": ", signed over
# b'{"id":"evt_2","event":"pos.payment.completed","amount":10}'.
QUIRK_SENT = b'{"id": "evt_2", "event": "pos.payment.completed", "amount": 10}'
QUIRK_COMPACT_HEX = "399e364b81f334a506fa33439b41741dc28e24f3cc8661325f758f43e4a06ad2"

# A string value containing ", ": naive stripping would corrupt it. Signed over
# b'{"id":"evt_3","description":"Coffee, large"}'.
COMMA_SENT = b'{"id": "evt_3", "description": "Coffee, large"}'
COMMA_COMPACT_HEX = "acd0b9ad4f34564b359cb13839371ab9fb756c3c032a0649436accb2d7e4b576"

# Non-ASCII left unescaped by the sender. Signed over '{"id":"evt_4","merchant":"Café, Sofia"}'
# encoded as UTF-8.
UNICODE_SENT = '{"id": "evt_4", "merchant": "Café, Sofia"}'.encode()
UNICODE_COMPACT_HEX = "df4604f160a483f90495811e9bda954456f9516670d886498cf251f530733638"


OLD_SECRET, NEW_SECRET = "whsec_old_1111", "whsec_new_2222"


def signature_headers(v1: str, t: int = TIMESTAMP) -> dict[str, str]:
    return {SIGNATURE_HEADER: f"t={t},v1={v1}"}


def test_header_names_are_the_documented_ones() -> None:
    assert (SIGNATURE_HEADER, EVENT_HEADER) == ("X-myPOS-Signature", "X-myPOS-Event")


def test_variant_a_body_only_verifies_and_is_reported() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)
    assert result == VerifiedSignature(timestamp=TIMESTAMP, scheme="body", body_form="raw")


def test_variant_b_timestamp_dot_body_verifies_and_is_reported() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_T_BODY_HEX), SECRET)
    assert result == VerifiedSignature(timestamp=TIMESTAMP, scheme="t.body", body_form="raw")


def test_spaced_body_signed_compact_verifies_as_whitespace_stripped() -> None:
    result = verify_signature(QUIRK_SENT, signature_headers(QUIRK_COMPACT_HEX), SECRET)
    assert (result.scheme, result.body_form) == ("body", "whitespace-stripped")


def test_comma_space_inside_a_string_value_verifies_through_compact_reserialisation() -> None:
    result = verify_signature(COMMA_SENT, signature_headers(COMMA_COMPACT_HEX), SECRET)
    assert (result.scheme, result.body_form) == ("body", "compact")


def test_unescaped_non_ascii_verifies_through_compact_unicode_reserialisation() -> None:
    result = verify_signature(UNICODE_SENT, signature_headers(UNICODE_COMPACT_HEX), SECRET)
    assert (result.scheme, result.body_form) == ("body", "compact-unicode")


def test_variant_b_over_the_compact_form_is_reported_with_both_parts() -> None:
    header = sign(
        b'{"id":"evt_2","event":"pos.payment.completed","amount":10}', SECRET, timestamp=TIMESTAMP, scheme="t.body"
    )
    result = verify_signature(QUIRK_SENT, {SIGNATURE_HEADER: header}, SECRET)
    assert (result.scheme, result.body_form) == ("t.body", "whitespace-stripped")


def test_tampered_body_is_a_mismatch() -> None:
    tampered = VECTOR_BODY.replace(b"12.5", b"1250")
    with pytest.raises(SignatureMismatch):
        verify_signature(tampered, signature_headers(VECTOR_BODY_HEX), SECRET)


def test_wrong_secret_is_a_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), "whsec_other")


def test_variant_b_with_a_different_timestamp_is_a_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_T_BODY_HEX, t=TIMESTAMP + 1), SECRET)


def test_stale_timestamp_is_rejected_when_a_tolerance_is_set() -> None:
    with pytest.raises(StaleTimestamp):
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP + 301)


def test_future_timestamp_beyond_tolerance_is_rejected() -> None:
    with pytest.raises(StaleTimestamp):
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP - 301)


def test_timestamp_within_tolerance_verifies() -> None:
    result = verify_signature(
        VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP + 300
    )
    assert result.timestamp == TIMESTAMP


def test_stale_timestamp_verifies_when_no_tolerance_is_set() -> None:
    three_days_later = TIMESTAMP + 3 * 24 * 3600
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, now=three_days_later)
    assert result.scheme == "body"


def test_forged_signature_with_stale_timestamp_reports_mismatch_not_staleness() -> None:
    with pytest.raises(SignatureMismatch):
        verify_signature(VECTOR_BODY, signature_headers("0" * 64), SECRET, tolerance=300, now=TIMESTAMP + 10_000)


# ---- what a verified signature proves about t --------------------------------------------------------


def test_a_signature_over_the_body_alone_says_its_timestamp_is_not_signed() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)

    assert (result.scheme, result.timestamp_signed) == ("body", False)


def test_a_signature_over_t_and_the_body_says_its_timestamp_is_signed() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_T_BODY_HEX), SECRET)

    assert (result.scheme, result.timestamp_signed) == ("t.body", True)


def test_a_tolerance_over_an_unsigned_t_passes_a_restamped_replay_with_the_flag_down() -> None:
    # The delivery is 319 s old; the replayer re-stamps t with the time it sends it again. Under "body" the
    # HMAC does not cover t, so the verifier cannot tell, and says so instead of claiming freshness.
    replayed_at = TIMESTAMP + 319
    restamped = signature_headers(VECTOR_BODY_HEX, t=replayed_at)

    result = verify_signature(VECTOR_BODY, restamped, SECRET, tolerance=300, now=replayed_at)

    assert (result.timestamp_signed, result.tolerance) == (False, 300)
    assert "tolerance cannot stop a replay" in result.replay_protection
    assert "event id in signed_body" in result.replay_protection


def test_a_tolerance_over_a_signed_t_refuses_the_same_restamped_replay() -> None:
    replayed_at = TIMESTAMP + 319
    restamped = signature_headers(VECTOR_T_BODY_HEX, t=replayed_at)

    with pytest.raises(SignatureMismatch):
        verify_signature(VECTOR_BODY, restamped, SECRET, tolerance=300, now=replayed_at)


def test_a_tolerance_over_an_unsigned_t_still_refuses_a_replay_that_kept_its_header() -> None:
    with pytest.raises(StaleTimestamp) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP + 319)

    assert raised.value.timestamp_signed is False
    assert "not covered by the signature" in str(raised.value)


def test_a_stale_signed_t_says_it_was_signed() -> None:
    with pytest.raises(StaleTimestamp) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_T_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP + 319)

    assert raised.value.timestamp_signed is True
    assert "not covered" not in str(raised.value)


def test_a_signed_t_within_the_tolerance_names_the_tolerance_and_dedupe_as_its_protection() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_T_BODY_HEX), SECRET, tolerance=300, now=TIMESTAMP)

    assert result.replay_protection.startswith("t is signed and within the 300 s tolerance")
    assert "event id in signed_body" in result.replay_protection


@pytest.mark.parametrize("v1", [VECTOR_BODY_HEX, VECTOR_T_BODY_HEX])
def test_without_a_tolerance_dedupe_is_named_as_the_only_replay_protection(v1: str) -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(v1), SECRET)

    assert result.tolerance is None
    assert "only deduplication on the event id in signed_body" in result.replay_protection


def test_the_result_records_the_tolerance_it_enforced_without_changing_equality() -> None:
    checked = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=5, now=TIMESTAMP)

    assert checked.tolerance == 5
    assert checked == verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)


# ---- a secret's fingerprint ------------------------------------------------------------------------


def test_a_secret_fingerprint_is_the_start_of_an_hmac_of_a_fixed_message() -> None:
    # printf 'mypos-webhook-secret-fingerprint' | openssl dgst -sha256 -hmac 'whsec_test_3f9a'
    assert secret_fingerprint(SECRET) == "719e5fcf"


def test_different_secrets_have_different_fingerprints_that_contain_neither() -> None:
    first, second = secret_fingerprint(OLD_SECRET), secret_fingerprint(NEW_SECRET)

    assert first != second
    assert OLD_SECRET not in first and NEW_SECRET not in second


def test_an_empty_secret_has_no_fingerprint() -> None:
    with pytest.raises(ValueError):
        secret_fingerprint("")


def test_missing_header_raises_missing_signature_header() -> None:
    with pytest.raises(MissingSignatureHeader):
        verify_signature(VECTOR_BODY, {"Content-Type": "application/json"}, SECRET)


@pytest.mark.parametrize(
    "header_value",
    [
        pytest.param(f"v1={VECTOR_BODY_HEX}", id="no-t"),
        pytest.param(f"t=yesterday,v1={VECTOR_BODY_HEX}", id="non-numeric-t"),
        pytest.param(f"t=1700000000.5,v1={VECTOR_BODY_HEX}", id="fractional-t"),
        pytest.param(f"t=-1700000000,v1={VECTOR_BODY_HEX}", id="negative-t"),
        pytest.param(f"t={TIMESTAMP}", id="no-v1"),
        pytest.param(f"t={TIMESTAMP},v1=" + "z" * 64, id="non-hex-v1"),
        pytest.param(f"t={TIMESTAMP},v1={VECTOR_BODY_HEX[:-2]}", id="short-v1"),
        pytest.param(f"t={TIMESTAMP},v1=", id="empty-v1"),
        pytest.param(f"t={TIMESTAMP},t={TIMESTAMP + 1},v1={VECTOR_BODY_HEX}", id="two-t"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
    ],
)
def test_malformed_header_raises_malformed_signature_header(header_value: str) -> None:
    with pytest.raises(MalformedSignatureHeader):
        verify_signature(VECTOR_BODY, {SIGNATURE_HEADER: header_value}, SECRET)


def test_header_name_is_matched_case_insensitively_in_a_plain_dict() -> None:
    headers = {"x-mypos-signature": f"t={TIMESTAMP},v1={VECTOR_BODY_HEX}"}
    assert verify_signature(VECTOR_BODY, headers, SECRET).scheme == "body"


def test_header_is_found_in_an_http_message() -> None:
    raw = f"X-MYPOS-SIGNATURE: t={TIMESTAMP},v1={VECTOR_BODY_HEX}\r\n\r\n".encode("latin-1")
    message = http.client.parse_headers(io.BytesIO(raw))
    assert verify_signature(VECTOR_BODY, message, SECRET).scheme == "body"


def test_spaces_around_items_are_tolerated() -> None:
    headers = {SIGNATURE_HEADER: f" t = {TIMESTAMP} , v1 = {VECTOR_BODY_HEX} "}
    assert verify_signature(VECTOR_BODY, headers, SECRET).scheme == "body"


def test_uppercase_hex_is_accepted() -> None:
    headers = signature_headers(VECTOR_BODY_HEX.upper())
    assert verify_signature(VECTOR_BODY, headers, SECRET).scheme == "body"


def test_unknown_keys_and_other_versions_are_ignored() -> None:
    headers = {SIGNATURE_HEADER: f"t={TIMESTAMP},v0=zzz,v1={VECTOR_BODY_HEX},v2={'0' * 64},x=y"}
    assert verify_signature(VECTOR_BODY, headers, SECRET).scheme == "body"


def test_older_version_alone_does_not_verify() -> None:
    headers = {SIGNATURE_HEADER: f"t={TIMESTAMP},v0={VECTOR_BODY_HEX}"}
    with pytest.raises(MalformedSignatureHeader):
        verify_signature(VECTOR_BODY, headers, SECRET)


def test_any_of_several_v1_values_may_match() -> None:
    headers = {SIGNATURE_HEADER: f"t={TIMESTAMP},v1={'0' * 64},v1={VECTOR_BODY_HEX}"}
    assert verify_signature(VECTOR_BODY, headers, SECRET).scheme == "body"


def test_sign_produces_the_documented_header_shape() -> None:
    assert sign(VECTOR_BODY, SECRET, timestamp=TIMESTAMP) == f"t={TIMESTAMP},v1={VECTOR_BODY_HEX}"


def test_sign_with_timestamp_scheme_matches_the_variant_b_vector() -> None:
    header = sign(VECTOR_BODY, SECRET, timestamp=TIMESTAMP, scheme="t.body")
    assert header == f"t={TIMESTAMP},v1={VECTOR_T_BODY_HEX}"


@pytest.mark.parametrize("scheme", ["body", "t.body"])
def test_sign_round_trips_through_verify_signature(scheme: str) -> None:
    body = b'{"id":"evt_9","note":"r\xc3\xa9sum\xc3\xa9"}'
    header = sign(body, "s3cr\u00e9t", timestamp=1234567890, scheme=scheme)
    result = verify_signature(body, {SIGNATURE_HEADER: header}, "s3cr\u00e9t")
    assert (result.timestamp, result.scheme, result.body_form) == (1234567890, scheme, "raw")


def test_sign_rejects_an_unknown_scheme() -> None:
    with pytest.raises(ValueError):
        sign(VECTOR_BODY, SECRET, timestamp=TIMESTAMP, scheme="hmac")


def test_non_json_body_still_verifies_on_raw_bytes() -> None:
    body = b"not json, at all"
    header = sign(body, SECRET, timestamp=TIMESTAMP)
    assert verify_signature(body, {SIGNATURE_HEADER: header}, SECRET).body_form == "raw"


def test_str_body_is_refused_because_the_signed_bytes_are_lost() -> None:
    text_body: Any = VECTOR_BODY.decode()  # Any: the point is to bypass the type hint
    with pytest.raises(TypeError):
        verify_signature(text_body, signature_headers(VECTOR_BODY_HEX), SECRET)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), "")
    assert not isinstance(raised.value, SignatureError)


def test_verified_signature_is_immutable() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)
    with pytest.raises(AttributeError):
        result.scheme = "t.body"  # type: ignore[misc]


def test_every_failure_is_a_value_error() -> None:
    for failure in (MissingSignatureHeader, MalformedSignatureHeader, StaleTimestamp, SignatureMismatch):
        assert issubclass(failure, SignatureError) and issubclass(failure, ValueError)


@pytest.mark.parametrize(
    ("body", "headers", "kwargs"),
    [
        pytest.param(VECTOR_BODY, {}, {}, id="missing"),
        pytest.param(VECTOR_BODY, {SIGNATURE_HEADER: "t=x,v1=y"}, {}, id="malformed"),
        pytest.param(b"{}", signature_headers(VECTOR_BODY_HEX), {}, id="mismatch"),
        pytest.param(
            VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), {"tolerance": 1, "now": TIMESTAMP + 99}, id="stale"
        ),
    ],
)
def test_error_messages_contain_neither_the_secret_nor_the_expected_digest(
    body: bytes, headers: dict[str, str], kwargs: dict[str, float]
) -> None:
    with pytest.raises(SignatureError) as raised:
        verify_signature(body, headers, SECRET, **kwargs)
    expected_digest_for_empty_object = sign(b"{}", SECRET, timestamp=TIMESTAMP).split("v1=")[1]
    message = str(raised.value)
    assert SECRET not in message
    assert VECTOR_BODY_HEX not in message
    assert expected_digest_for_empty_object not in message


# ---- timestamp tolerance: only a real number of seconds, or None ------------------------------------


@pytest.mark.parametrize(
    ("tolerance", "named"),
    [
        pytest.param(float("nan"), "NaN", id="nan"),
        pytest.param(float("inf"), "infinite", id="inf"),
        pytest.param(-1.0, "negative", id="negative"),
        pytest.param(-(10**400), "negative", id="huge-negative-int"),
        pytest.param(True, "bool", id="bool"),
    ],
)
def test_meaningless_tolerance_is_refused_with_one_line_naming_it(tolerance: float, named: str) -> None:
    with pytest.raises(ValueError) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=tolerance)
    message = str(raised.value)
    assert not isinstance(raised.value, SignatureError)
    assert "tolerance" in message and named in message and "None" in message
    assert "\n" not in message


def test_nan_tolerance_never_lets_a_stale_signature_through() -> None:
    # NaN compares false with everything, so a lenient check would silently turn the tolerance off.
    with pytest.raises(ValueError):
        verify_signature(
            VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=float("nan"), now=TIMESTAMP + 10**6
        )


def test_zero_tolerance_accepts_a_signature_made_this_second() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET, tolerance=0, now=TIMESTAMP)
    assert result.timestamp == TIMESTAMP


@pytest.mark.parametrize("tolerance", [None, 0, 300, 2.5, 10**400])
def test_check_tolerance_returns_a_meaningful_tolerance_unchanged(tolerance: float | None) -> None:
    assert check_tolerance(tolerance) == tolerance


# ---- the bytes that were signed ---------------------------------------------------------------------


def test_signed_body_of_a_raw_match_is_the_received_bytes() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)
    assert result.signed_body == VECTOR_BODY


def test_signed_body_of_a_whitespace_stripped_match_is_the_stripped_bytes() -> None:
    result = verify_signature(QUIRK_SENT, signature_headers(QUIRK_COMPACT_HEX), SECRET)
    assert result.signed_body == b'{"id":"evt_2","event":"pos.payment.completed","amount":10}'


def test_signed_body_of_a_compact_match_is_the_compact_serialisation() -> None:
    result = verify_signature(COMMA_SENT, signature_headers(COMMA_COMPACT_HEX), SECRET)
    assert result.signed_body == b'{"id":"evt_3","description":"Coffee, large"}'


def test_signed_body_of_a_compact_unicode_match_keeps_the_utf8_characters() -> None:
    result = verify_signature(UNICODE_SENT, signature_headers(UNICODE_COMPACT_HEX), SECRET)
    assert result.signed_body == '{"id":"evt_4","merchant":"Café, Sofia"}'.encode()


def test_a_respaced_copy_verifies_with_the_same_signed_body_as_the_original() -> None:
    original = b'{"amount":3,"currency":"EUR"}'
    header = {SIGNATURE_HEADER: sign(original, SECRET, timestamp=TIMESTAMP)}
    respaced = b'{"amount": 3, "currency": "EUR"}'
    assert (
        verify_signature(respaced, header, SECRET).signed_body == verify_signature(original, header, SECRET).signed_body
    )


def test_signed_body_of_a_variant_b_match_excludes_the_timestamp() -> None:
    header = {SIGNATURE_HEADER: sign(VECTOR_BODY, SECRET, timestamp=TIMESTAMP, scheme="t.body")}
    assert verify_signature(VECTOR_BODY, header, SECRET).signed_body == VECTOR_BODY


def test_signed_body_is_left_out_of_the_repr() -> None:
    result = verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET)
    assert "evt_1" not in repr(result)


# ---- several secrets (rotation) ---------------------------------------------------------------------


def test_a_single_secret_is_reported_as_index_zero() -> None:
    assert verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), SECRET).secret_index == 0


@pytest.mark.parametrize(("signing_secret", "index"), [(OLD_SECRET, 0), (NEW_SECRET, 1)])
def test_any_of_several_secrets_verifies_and_its_position_is_reported(signing_secret: str, index: int) -> None:
    header = {SIGNATURE_HEADER: sign(VECTOR_BODY, signing_secret, timestamp=TIMESTAMP)}
    result = verify_signature(VECTOR_BODY, header, [OLD_SECRET, NEW_SECRET])
    assert (result.secret_index, result.scheme, result.body_form) == (index, "body", "raw")


def test_a_tuple_of_secrets_is_accepted_like_a_list() -> None:
    header = {SIGNATURE_HEADER: sign(VECTOR_BODY, NEW_SECRET, timestamp=TIMESTAMP)}
    assert verify_signature(VECTOR_BODY, header, (OLD_SECRET, NEW_SECRET)).secret_index == 1


def test_a_secret_dropped_from_the_list_no_longer_verifies() -> None:
    header = {SIGNATURE_HEADER: sign(VECTOR_BODY, OLD_SECRET, timestamp=TIMESTAMP)}
    with pytest.raises(SignatureMismatch):
        verify_signature(VECTOR_BODY, header, [NEW_SECRET])


def test_a_mismatch_under_several_secrets_names_none_of_them() -> None:
    with pytest.raises(SignatureMismatch) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), [OLD_SECRET, NEW_SECRET])
    assert OLD_SECRET not in str(raised.value) and NEW_SECRET not in str(raised.value)


def test_the_result_holds_no_secret() -> None:
    header = {SIGNATURE_HEADER: sign(VECTOR_BODY, NEW_SECRET, timestamp=TIMESTAMP)}
    result = verify_signature(VECTOR_BODY, header, [OLD_SECRET, NEW_SECRET])
    assert NEW_SECRET not in repr(result) and NEW_SECRET.encode() not in result.signed_body


@pytest.mark.parametrize(
    "secrets",
    [pytest.param([], id="empty-list"), pytest.param([NEW_SECRET, ""], id="an-empty-secret")],
)
def test_no_secret_or_an_empty_one_in_the_list_is_refused(secrets: list[str]) -> None:
    with pytest.raises(ValueError) as raised:
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), secrets)
    assert not isinstance(raised.value, SignatureError)


def test_a_bytes_secret_is_refused_rather_than_read_as_a_list_of_numbers() -> None:
    secret: Any = SECRET.encode()  # Any: the point is to bypass the type hint
    with pytest.raises(TypeError):
        verify_signature(VECTOR_BODY, signature_headers(VECTOR_BODY_HEX), secret)
