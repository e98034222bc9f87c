"""The configuration chain: stack config, then environment, then .env; validated before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from mypos_provider.client import ConfigError
from mypos_provider.settings import load_settings

CREDS = {"mypos:clientId": "stack-id", "mypos:clientSecret": "stack-secret"}


def load(stack=None, env=None, dotenv: str | None = None, tmp_path: Path | None = None):
    path = None
    if dotenv is not None and tmp_path is not None:
        path = tmp_path / ".env"
        path.write_text(dotenv)
    return load_settings(stack or {}, environ=env or {}, dotenv_path=path or Path("/nonexistent/.env"))


def test_production_endpoints_are_the_default():
    settings = load(CREDS)

    assert (settings.environment, settings.auth_url, settings.api_url) == (
        "production",
        "https://auth-api.mypos.com",
        "https://webhook-api.mypos.com/v1",
    )


def test_sandbox_selects_the_sandbox_endpoints():
    settings = load({**CREDS, "mypos:environment": "sandbox"})

    assert (settings.auth_url, settings.api_url) == (
        "https://sandbox-auth-api.mypos.com",
        "https://sandbox-webhook-api.mypos.com/v1",
    )


def test_stack_config_wins_over_environment_and_dotenv(tmp_path):
    settings = load(CREDS, {"MYPOS_CLIENT_ID": "env-id"}, "MYPOS_CLIENT_ID=dotenv-id\n", tmp_path)

    assert settings.credentials.client_id == "stack-id"


def test_environment_wins_over_dotenv(tmp_path):
    settings = load(
        {},
        {"MYPOS_CLIENT_ID": "env-id", "MYPOS_CLIENT_SECRET": "env-secret"},
        "MYPOS_CLIENT_ID=dotenv-id\nMYPOS_CLIENT_SECRET=dotenv-secret\n",
        tmp_path,
    )

    assert (settings.credentials.client_id, settings.credentials.client_secret) == ("env-id", "env-secret")


def test_dotenv_alone_can_hold_the_credentials(tmp_path):
    settings = load({}, {}, 'MYPOS_CLIENT_ID=dotenv-id\nMYPOS_CLIENT_SECRET="quoted secret"\n', tmp_path)

    assert (settings.credentials.client_id, settings.credentials.client_secret) == ("dotenv-id", "quoted secret")


def test_missing_credentials_name_all_three_places():
    with pytest.raises(ConfigError) as error:
        load()

    message = str(error.value)
    assert "pulumi config set mypos:clientId" in message and "MYPOS_CLIENT_ID environment variable" in message
    assert ".env" in message and error.value.field == "mypos:clientId"


def test_loopback_http_is_accepted_for_the_emulator():
    settings = load({**CREDS, "mypos:authUrl": "http://127.0.0.1:8787/", "mypos:apiUrl": "http://localhost:8787/v1"})

    assert (settings.auth_url, settings.api_url) == ("http://127.0.0.1:8787", "http://localhost:8787/v1")


def test_an_auth_url_given_with_the_token_path_is_reduced_to_its_base():
    assert (
        load({**CREDS, "mypos:authUrl": "https://auth.example.com/oauth/token"}).auth_url == "https://auth.example.com"
    )


@pytest.mark.parametrize("url", ["http://webhook-api.mypos.com/v1", "http://10.0.0.5/v1", "http://[::2]/v1"])
def test_http_on_a_non_loopback_host_is_refused(url):
    with pytest.raises(ConfigError, match="use https"):
        load({**CREDS, "mypos:apiUrl": url})


def test_credentials_inside_a_url_are_refused():
    with pytest.raises(ConfigError, match="without credentials"):
        load({**CREDS, "mypos:apiUrl": "https://user:pw@webhook-api.mypos.com/v1"})


def test_unknown_key_suggests_the_closest_known_one():
    with pytest.raises(ConfigError, match="did you mean mypos:maxRetries"):
        load({**CREDS, "mypos:maxRetry": "3"})


def test_keys_of_other_namespaces_are_not_ours_to_judge():
    assert (
        load({**CREDS, "aws:region": "eu-west-1", "mypos-webhooks:anything": "x"}).credentials.client_id == "stack-id"
    )


def test_malformed_dotenv_line_is_an_error_naming_the_line(tmp_path):
    with pytest.raises(ConfigError, match="line 2 cannot be parsed"):
        load({}, {}, "MYPOS_CLIENT_ID=x\nbroken 'line\n", tmp_path)


def test_retry_policy_comes_from_the_settings():
    policy = load({**CREDS, "mypos:maxRetries": "2", "mypos:timeout": "2.5", "mypos:requestDeadline": "30"}).retry

    assert (policy.max_retries, policy.timeout, policy.deadline, policy.max_attempts) == (2, 2.5, 30, 3)


def test_settings_repr_hides_the_client_secret():
    assert "stack-secret" not in repr(load(CREDS))
