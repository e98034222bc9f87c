"""The configuration chain: stack config, then environment, then .env; validated before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from mypos_provider.client import AuthenticationError, ConfigError
from mypos_provider.settings import load_settings, project_dotenv

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


# ---- where .env comes from, and what an empty variable means --------------------------------------------


def test_dotenv_is_read_from_the_project_directory_above_the_working_directory(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\n")
    (tmp_path / ".env").write_text("MYPOS_CLIENT_ID=project-id\nMYPOS_CLIENT_SECRET=project-secret\n")
    (tmp_path / "sub").mkdir()

    assert project_dotenv({}, start=tmp_path / "sub") == tmp_path / ".env"


def test_a_dotenv_outside_any_pulumi_project_is_never_read(tmp_path):
    (tmp_path / ".env").write_text("MYPOS_AUTH_URL=https://attacker.example.net\n")

    assert project_dotenv({}, start=tmp_path) is None


def test_mypos_dotenv_names_the_file_to_read(tmp_path):
    assert project_dotenv({"MYPOS_DOTENV": str(tmp_path / "x.env")}, start=tmp_path) == tmp_path / "x.env"


def test_an_empty_environment_variable_overrides_the_dotenv_value(tmp_path):
    settings = load(CREDS, {"MYPOS_AUTH_URL": ""}, "MYPOS_AUTH_URL=https://attacker.example.net\n", tmp_path)

    assert settings.auth_url == "https://auth-api.mypos.com"


def test_settings_remember_where_each_value_came_from(tmp_path):
    settings = load({}, {"MYPOS_CLIENT_ID": "env-id"}, "MYPOS_CLIENT_SECRET=dotenv-secret\n", tmp_path)

    assert settings.origins["clientId"] == "MYPOS_CLIENT_ID"
    assert settings.origins["clientSecret"] == f"MYPOS_CLIENT_SECRET in {tmp_path / '.env'}"


# ---- malformed URLs are one line, not a traceback ---------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://[::1", "https://auth.example.com:65536", "https://auth.example.com:abc", "http://[::1]:99999/v1"]
)
def test_a_malformed_url_setting_is_one_config_error_naming_it(url):
    with pytest.raises(ConfigError) as error:
        load({**CREDS, "mypos:authUrl": url})

    assert str(error.value).startswith(f"mypos:authUrl is {url!r}, which is not a valid URL")
    assert "\n" not in str(error.value)


def test_the_proxy_and_ca_bundle_settings_reach_the_transport(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")

    settings = load({**CREDS, "mypos:proxy": "http://proxy.internal:3128", "mypos:caBundle": str(bundle)})

    assert (settings.transport.proxy, settings.transport.ca_bundle) == ("http://proxy.internal:3128", str(bundle))


def test_a_ca_bundle_that_is_not_a_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="mypos:caBundle is .* not a readable file"):
        load({**CREDS, "mypos:caBundle": str(tmp_path / "missing.pem")})


# ---- advice on refused credentials ----------------------------------------------------------------------

REFUSED = AuthenticationError("requesting a token", 401, "the Auth API rejected the client credentials")


def test_refused_credentials_are_advised_against_the_environment_whose_auth_api_refused_them():
    advice = load({**CREDS, "mypos:environment": "sandbox"}).advice(REFUSED)

    assert advice == "check mypos:clientId and mypos:clientSecret, and that they belong to the sandbox environment"


def test_refused_credentials_with_an_overridden_auth_url_name_that_url_not_the_environment():
    advice = load(CREDS, env={"MYPOS_AUTH_URL": "http://127.0.0.1:8787"}).advice(REFUSED)

    assert advice == (
        "check mypos:clientId and mypos:clientSecret, and that they belong to the Auth API at "
        "http://127.0.0.1:8787, which mypos:authUrl (set by MYPOS_AUTH_URL) names"
    )
    assert "production" not in advice
