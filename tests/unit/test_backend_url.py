"""cli/backend.py: PULUMI_BACKEND_URL mistakes are named with their fix, and its password never printed."""

from __future__ import annotations

import pytest

from mypos_provider.cli.backend import backend_problem, missing_backend_hint, redact_url

PASSWORD = "s3cr/t?p#ss"


def problem(url: str) -> str | None:
    return backend_problem({"PULUMI_BACKEND_URL": url})


def test_an_unset_or_well_formed_backend_url_is_fine():
    assert backend_problem({}) is None
    assert problem("postgres://pulumi:pw@db.example.com:5432/pulumi?sslmode=require") is None
    assert problem("file:///tmp/state") is None and problem("s3://bucket/state") is None


@pytest.mark.parametrize("scheme", ["postgresql", "pgsql"])
def test_a_misspelled_postgres_scheme_names_the_right_one(scheme: str):
    text = problem(f"{scheme}://pulumi:pw@db:5432/pulumi")

    assert text is not None and f"starts with {scheme}://" in text and "spelled postgres://" in text


@pytest.mark.parametrize("character", ["/", "?", "#"])
def test_an_unescaped_character_in_the_password_says_to_percent_encode_it(character: str):
    text = problem(f"postgres://pulumi:pa{character}ss@db:5432/pulumi")

    assert text is not None and "percent-encode them" in text and "PGPASSWORD" in text


def test_an_unknown_scheme_is_named_without_the_password():
    text = problem("mysql://pulumi:hunter22@db/pulumi")

    assert text is not None and "hunter22" not in text and "postgres://" in text


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://pulumi:{PASSWORD}@db:5432/pulumi",  # malformed: the CLI echoes it
        "postgres://pulumi:s3cr%2Ft%3Fp%23ss@db:5432/pulumi",  # well formed, percent-encoded
        f"postgres://pulumi@db:5432/pulumi?password={PASSWORD.replace('#', '%23')}",
    ],
)
def test_every_spelling_of_the_password_is_scrubbed_from_relayed_text(url: str):
    echoed = f'error: unable to open state database "{url}": bad URL; password {PASSWORD} rejected'

    scrubbed = redact_url(echoed, url)

    assert PASSWORD not in scrubbed and "s3cr%2Ft" not in scrubbed and "****" in scrubbed


def test_the_missing_demo_backend_hint_only_comes_without_a_backend_url():
    error = "error: stat /p/.pulumi-state: no such file or directory"

    assert "PULUMI_BACKEND_URL" in missing_backend_hint(error, {})
    assert missing_backend_hint(error, {"PULUMI_BACKEND_URL": "postgres://db/p"}) == ""
    assert missing_backend_hint("error: something else", {}) == ""
