"""core/validation.py: the input checks the bad-input table does not reach (the stack program's loader stops
those values first, but a program that declares resources in code sends them as they are)."""

from __future__ import annotations

import pytest

from mypos_provider.core import validation
from mypos_provider.core.values import UNKNOWN


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "payload_url is required"),
        ("   ", "payload_url is required"),
        ("https://shop.example.com:99999/cb", "is not a valid URL"),
        ("https://shop.example.com/cb#part", "must not have a #fragment"),
    ],
)
def test_payload_url_problems_name_the_field(value, expected):
    assert expected in (validation.payload_url_problem(value) or "")


@pytest.mark.parametrize("url", ["https://shop.example.com/cb", "http://127.0.0.1:8080/cb", "http://localhost/cb"])
def test_https_urls_and_http_on_loopback_are_accepted(url):
    assert validation.payload_url_problem(url) is None


def test_a_secret_of_another_type_is_refused_naming_the_type():
    assert validation.secret_problem(12345678) == "secret must be a string, not int"


def test_an_omitted_secret_and_a_32_character_one_are_accepted():
    assert validation.secret_problem(None) is None and validation.secret_problem("x" * 32) is None


def test_is_active_must_be_a_boolean():
    assert validation.is_active_problem(False) is None
    assert validation.is_active_problem("yes") == "is_active must be true or false, not 'yes'"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "webhook_id is required"), ("../x", "is not a myPOS object id")]
)
def test_webhook_id_problems_name_the_field(value, expected):
    assert expected in (validation.webhook_id_problem(value) or "")


def test_an_event_missing_from_a_catalogue_with_no_close_name_gets_no_guess():
    problem = validation.event_problem("refund", ["pos.payment.completed"])

    assert problem == "unknown event 'refund': myPOS offers pos.payment.completed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90004889", "terminal_ids must be a list of terminal ids"),
        ([90004889], 'terminal_ids must contain strings; 90004889 is a int: quote it, e.g. "90004889"'),
    ],
)
def test_terminal_ids_of_the_wrong_shape_are_refused(value, expected):
    assert expected in (validation.terminal_ids_problem(value) or "")


def test_omitted_terminal_ids_mean_every_terminal():
    assert validation.terminal_ids_problem(None) is None


def test_a_value_not_known_yet_is_not_checked():
    assert validation.problems_of({"payload_url": UNKNOWN}, {"payload_url": validation.payload_url_problem}) == []


def test_the_unknown_value_is_one_object_shown_as_unknown():
    assert type(UNKNOWN)() is UNKNOWN and repr(UNKNOWN) == "<unknown>"


def test_a_payload_url_with_credentials_is_refused_without_showing_them(webhooks):
    checked = webhooks.check({}, {"payload_url": "https://user:pw-0001@hooks.example.com/c", "is_active": True})

    [problem] = checked.problems
    assert problem.conceal and problem.field == "payload_url"
    assert "payload_url must not embed credentials" in problem.message and "pw-0001" not in problem.message
    assert "pw-0001" not in webhooks.describe(checked.inputs)
