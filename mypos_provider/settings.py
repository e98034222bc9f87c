"""Configuration and credentials, in one place.

Each setting is looked up, in this order, in the stack config (`mypos:<key>`), the environment
(`MYPOS_<KEY>`) and a `.env` file in the working directory (the Pulumi project directory; `MYPOS_DOTENV`
points elsewhere). Values are validated here, before any request is sent, with messages that name the
setting and the fix. Nothing in this module keeps credentials anywhere but in the returned `Settings`.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dotenv.parser import parse_stream

from .client.errors import ConfigError
from .client.transport import RetryPolicy

if TYPE_CHECKING:
    from .client.api import MyPOSClient

NAMESPACE = "mypos"


@dataclass(frozen=True)
class Endpoints:
    auth_url: str
    api_url: str


ENVIRONMENTS: dict[str, Endpoints] = {
    "production": Endpoints("https://auth-api.mypos.com", "https://webhook-api.mypos.com/v1"),
    "sandbox": Endpoints("https://sandbox-auth-api.mypos.com", "https://sandbox-webhook-api.mypos.com/v1"),
}


@dataclass(frozen=True)
class Settings:
    """Everything needed to talk to one myPOS merchant account."""

    client_id: str
    client_secret: str = field(repr=False)
    environment: str
    auth_url: str
    api_url: str
    policy: RetryPolicy = RetryPolicy()

    def client(self) -> MyPOSClient:
        """The process-wide client for these settings (one token, one connection pool)."""
        from .client.registry import shared_client

        return shared_client(self)


@dataclass(frozen=True)
class _Key:
    name: str  # camelCase, as in `pulumi config set mypos:<name>`
    env: str
    description: str

    @property
    def config_key(self) -> str:
        return f"{NAMESPACE}:{self.name}"

    def where(self) -> str:
        return f"`pulumi config set {self.config_key}`, the {self.env} environment variable, or {self.env} in .env"


CLIENT_ID = _Key("clientId", "MYPOS_CLIENT_ID", "client id of the myPOS API credentials")
CLIENT_SECRET = _Key("clientSecret", "MYPOS_CLIENT_SECRET", "client secret of the myPOS API credentials")
ENVIRONMENT = _Key("environment", "MYPOS_ENVIRONMENT", "production or sandbox")
AUTH_URL = _Key("authUrl", "MYPOS_AUTH_URL", "override of the Auth API base URL")
API_URL = _Key("apiUrl", "MYPOS_API_URL", "override of the Webhook API base URL (ending in /v1)")
TIMEOUT = _Key("timeout", "MYPOS_TIMEOUT", "seconds one request attempt may wait for an answer")
MAX_RETRIES = _Key("maxRetries", "MYPOS_MAX_RETRIES", "retries of one request after its first attempt")
DEADLINE = _Key("requestDeadline", "MYPOS_REQUEST_DEADLINE", "seconds after which a failing request stops retrying")
PROVIDER_KEYS = (CLIENT_ID, CLIENT_SECRET, ENVIRONMENT, AUTH_URL, API_URL, TIMEOUT, MAX_RETRIES, DEADLINE)
# Keys read by the stack program, not by the provider; known, so that they are not reported as typos.
PROGRAM_KEYS = ("webhooks",)
KNOWN_KEYS = tuple(k.name for k in PROVIDER_KEYS) + PROGRAM_KEYS


class _Sources:
    """Stack config, then environment, then .env: the first that has a value wins."""

    def __init__(self, stack_config: Mapping[str, Any], environ: Mapping[str, str], dotenv: Mapping[str, str]):
        self._stack = stack_config
        self._environ = environ
        self._dotenv = dotenv

    def get(self, key: _Key) -> tuple[str | None, str]:
        for value, origin in (
            (self._stack.get(key.config_key), key.config_key),
            (self._environ.get(key.env), key.env),
            (self._dotenv.get(key.env), f"{key.env} in .env"),
        ):
            if value is not None and str(value).strip() != "":
                return str(value).strip(), origin
        return None, ""


def load_settings(
    stack_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> Settings:
    """Resolve and validate the settings, or raise ConfigError naming the setting and the fix."""
    environ = os.environ if environ is None else environ
    stack_config = stack_config or {}
    _reject_unknown_keys(stack_config)
    sources = _Sources(stack_config, environ, read_dotenv(_dotenv_file(environ, dotenv_path)))

    client_id = _required(sources, CLIENT_ID)
    client_secret = _required(sources, CLIENT_SECRET)
    environment = _environment(sources)
    defaults = ENVIRONMENTS[environment]
    auth_url = _url(sources, AUTH_URL, defaults.auth_url, strip_suffix="/oauth/token")
    api_url = _url(sources, API_URL, defaults.api_url)
    policy = RetryPolicy(
        timeout=_number(sources, TIMEOUT, float, RetryPolicy.timeout, minimum=0.1, maximum=300),
        max_retries=_number(sources, MAX_RETRIES, int, RetryPolicy.max_retries, minimum=0, maximum=10),
        deadline=_number(sources, DEADLINE, float, RetryPolicy.deadline, minimum=1, maximum=3600),
    )
    return Settings(client_id, client_secret, environment, auth_url, api_url, policy)


def read_dotenv(path: Path | None) -> dict[str, str]:
    """Parse a .env file strictly: a line python-dotenv cannot parse is an error, not silently skipped."""
    if path is None or not path.is_file():
        return {}
    values: dict[str, str] = {}
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise ConfigError(
                    f"{path} line {binding.original.line} cannot be parsed: write it as KEY=value "
                    "(quote values that contain spaces or #), or remove it",
                    field=".env",
                )
            if binding.key is not None and binding.value is not None:
                values[binding.key] = binding.value
    return values


def _dotenv_file(environ: Mapping[str, str], explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    return Path(environ.get("MYPOS_DOTENV") or Path.cwd() / ".env")


def _reject_unknown_keys(stack_config: Mapping[str, Any]) -> None:
    for full_key in stack_config:
        namespace, _, name = str(full_key).partition(":")
        if namespace != NAMESPACE or name in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(name, KNOWN_KEYS, n=1, cutoff=0.6) or [
            k for k in KNOWN_KEYS if k.lower() == name.lower()
        ]
        hint = f"did you mean {NAMESPACE}:{close[0]}? " if close else ""
        raise ConfigError(
            f"unknown config key {full_key}: {hint}remove it with `pulumi config rm {full_key}`; known keys: "
            + ", ".join(f"{NAMESPACE}:{k}" for k in KNOWN_KEYS),
            field=str(full_key),
        )


def _required(sources: _Sources, key: _Key) -> str:
    value, _ = sources.get(key)
    if value is None:
        secret_flag = " --secret" if key is CLIENT_SECRET else ""
        raise ConfigError(
            f"{key.config_key} is not set: set the {key.description} with "
            f"`pulumi config set{secret_flag} {key.config_key} <value>`, the {key.env} environment variable, "
            f"or {key.env}=<value> in a .env file",
            field=key.config_key,
        )
    return value


def _environment(sources: _Sources) -> str:
    value, origin = sources.get(ENVIRONMENT)
    if value is None:
        return "production"
    if value.lower() not in ENVIRONMENTS:
        raise ConfigError(
            f"{origin} is {value!r}: use production or sandbox (to target the emulator, "
            f"set {AUTH_URL.config_key} and {API_URL.config_key} instead)",
            field=ENVIRONMENT.config_key,
        )
    return value.lower()


def _url(sources: _Sources, key: _Key, default: str, *, strip_suffix: str = "") -> str:
    value, origin = sources.get(key)
    if value is None:
        return default
    check_service_url(value, origin)
    value = value.rstrip("/")
    if strip_suffix and value.endswith(strip_suffix):
        value = value[: -len(strip_suffix)]
    return value


def check_service_url(value: str, origin: str) -> None:
    """https everywhere, except on loopback addresses (the emulator); no credentials, query or fragment."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{origin} is {value!r}, not an absolute http(s) URL: use e.g. https://host/path", field=origin
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{origin} must be a plain base URL without credentials, query or fragment", field=origin)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{origin} uses http on {parts.hostname}: credentials would travel in clear; use https "
            "(http is accepted only for loopback addresses such as the local emulator)",
            field=origin,
        )


def is_loopback(hostname: str) -> bool:
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def _number(
    sources: _Sources,
    key: _Key,
    kind: Callable[[str], float | int],
    default: Any,
    *,
    minimum: float,
    maximum: float,
) -> Any:
    value, origin = sources.get(key)
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        word = "a whole number" if kind is int else "a number"
        raise ConfigError(
            f"{origin} is {value!r}: use {word} from {minimum:g} to {maximum:g} ({key.description})",
            field=key.config_key,
        )
    return number
