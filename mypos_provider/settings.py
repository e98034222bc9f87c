"""Configuration and credentials, in one place.

Each setting is looked up, in this order, in the stack config (`mypos:<key>`), the environment
(`MYPOS_<KEY>`) and a `.env` file of the Pulumi project (the directory holding Pulumi.yaml, found from
the working directory upwards; `MYPOS_DOTENV` names another file). A value set at one level, even empty,
hides the levels below it: an empty `MYPOS_AUTH_URL=` in the environment means "the default endpoint",
whatever `.env` says. Values are validated here, before any request is sent, with messages that name the
setting and the fix. `Settings.advice()` turns a client error into the setting to check, naming where its
value came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, urlsplit

from dotenv.parser import parse_stream

from .client import (
    ConfigError,
    Credentials,
    Culprit,
    MyPOSClient,
    MyPOSError,
    RetryPolicy,
    TransportOptions,
    is_loopback,
)
from .client.api import DEFAULT_CONCURRENCY
from .spelling import closest

NAMESPACE = "mypos"
DOTENV_ENV = "MYPOS_DOTENV"
PROJECT_FILE = "Pulumi.yaml"
DEBUG_ENV = "MYPOS_DEBUG"
LOG_FILE_ENV = "MYPOS_LOG_FILE"
LOG_LEVEL_ENV = "MYPOS_LOG_LEVEL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The emulator's control token (docs/emulator.md), which `emit` sends to a guarded emulator on loopback.
EMULATOR_CONTROL_TOKEN_ENV = "MYPOS_EMULATOR_CONTROL_TOKEN"


@dataclass(frozen=True)
class Endpoints:
    auth_url: str
    api_url: str


ENVIRONMENTS: Mapping[str, Endpoints] = MappingProxyType(
    {
        "production": Endpoints("https://auth-api.mypos.com", "https://webhook-api.mypos.com/v1"),
        "sandbox": Endpoints("https://sandbox-auth-api.mypos.com", "https://sandbox-webhook-api.mypos.com/v1"),
    }
)


@dataclass(frozen=True)
class _Key:
    name: str  # camelCase, as in `pulumi config set mypos:<name>`
    env: str
    description: str
    secret: bool = False

    @property
    def config_key(self) -> str:
        return f"{NAMESPACE}:{self.name}"


CLIENT_ID = _Key("clientId", "MYPOS_CLIENT_ID", "client id of the myPOS API credentials")
CLIENT_SECRET = _Key("clientSecret", "MYPOS_CLIENT_SECRET", "client secret of the myPOS API credentials", True)
ENVIRONMENT = _Key("environment", "MYPOS_ENVIRONMENT", "production or sandbox")
AUTH_URL = _Key("authUrl", "MYPOS_AUTH_URL", "override of the Auth API base URL")
API_URL = _Key("apiUrl", "MYPOS_API_URL", "override of the Webhook API base URL (ending in /v1)")
TIMEOUT = _Key("timeout", "MYPOS_TIMEOUT", "seconds one request attempt may wait for an answer")
MAX_RETRIES = _Key("maxRetries", "MYPOS_MAX_RETRIES", "retries of one request after its first attempt")
DEADLINE = _Key("requestDeadline", "MYPOS_REQUEST_DEADLINE", "seconds after which a failing request stops retrying")
PROXY = _Key("proxy", "MYPOS_PROXY", "an http(s) proxy for both endpoints")
CA_BUNDLE = _Key("caBundle", "MYPOS_CA_BUNDLE", "a PEM file of CA certificates to trust instead of the default ones")
PROVIDER_KEYS = (
    CLIENT_ID,
    CLIENT_SECRET,
    ENVIRONMENT,
    AUTH_URL,
    API_URL,
    TIMEOUT,
    MAX_RETRIES,
    DEADLINE,
    PROXY,
    CA_BUNDLE,
)
# Keys read by the stack program, not by the provider; known, so that they are not reported as typos.
PROGRAM_KEYS = ("webhooks",)
KNOWN_KEYS = tuple(k.name for k in PROVIDER_KEYS) + PROGRAM_KEYS


@dataclass(frozen=True)
class Settings:
    """Everything needed to talk to one myPOS merchant account, and where each value came from."""

    credentials: Credentials
    environment: str
    auth_url: str
    api_url: str
    retry: RetryPolicy = RetryPolicy()
    transport: TransportOptions = TransportOptions()
    # setting name -> where its value was found: "mypos:clientId", "MYPOS_CLIENT_ID", "/path/.env" (or default)
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def connect(self, *, concurrency: int = DEFAULT_CONCURRENCY) -> MyPOSClient:
        """A new client for these settings (its own session and token), for `concurrency` requests at once."""
        return MyPOSClient.connect(
            api_url=self.api_url,
            auth_url=self.auth_url,
            credentials=self.credentials,
            retry=self.retry,
            transport=self.transport,
            concurrency=concurrency,
        )

    def advice(self, error: MyPOSError) -> str | None:
        """What to check for this error, naming the settings and where their values came from."""
        culprit = error.culprit
        if culprit is Culprit.CREDENTIALS:
            return (
                f"check {self._origin(CLIENT_ID)} and {self._origin(CLIENT_SECRET)}, and that they belong to "
                f"{self._credentials_issuer()}"
            )
        if culprit is Culprit.AUTH_ENDPOINT:
            return f"check {self._origin(AUTH_URL)} ({self.auth_url}){self._network_hint()}"
        if culprit is Culprit.API_ENDPOINT:
            return f"check {self._origin(API_URL)} ({self.api_url}){self._network_hint()}"
        if culprit is Culprit.RETRY_BUDGET:
            return f"try again later, or raise {MAX_RETRIES.config_key} / {TIMEOUT.config_key}"
        return None

    def explain(self, error: MyPOSError) -> str:
        """The error in one line with the advice that fits it."""
        advice = self.advice(error)
        return f"{error}: {advice}" if advice else str(error)

    def _origin(self, key: _Key) -> str:
        origin = self.origins.get(key.name)
        if origin is None or origin == key.config_key:
            return key.config_key
        return f"{key.config_key} (set by {origin})"

    def _credentials_issuer(self) -> str:
        """Whom the credentials must come from: the environment's Auth API, or the one mypos:authUrl names
        instead (an emulator, a proxy), which the environment then no longer decides."""
        if self.auth_url == ENVIRONMENTS[self.environment].auth_url:
            return f"the {self.environment} environment"
        return f"the Auth API at {self.auth_url}, which {self._origin(AUTH_URL)} names"

    def _network_hint(self) -> str:
        extra = [self._origin(k) for k in (PROXY, CA_BUNDLE) if k.name in self.origins]
        return ", the network" + (" and " + ", ".join(extra) if extra else "")


@dataclass(frozen=True)
class Diagnostics:
    """What the provider and the CLI say about themselves: full tracebacks, and a log file of their own."""

    debug: bool = False  # tracebacks instead of one-line errors
    log_file: Path | None = None  # the provider's log; nothing is logged without one
    log_level: str = "DEBUG"


def load_diagnostics(environ: Mapping[str, str] | None = None) -> Diagnostics:
    """MYPOS_DEBUG, MYPOS_LOG_FILE and MYPOS_LOG_LEVEL, or ConfigError naming the variable and the fix."""
    environ = os.environ if environ is None else environ
    level = (environ.get(LOG_LEVEL_ENV) or "DEBUG").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"{LOG_LEVEL_ENV} is {environ.get(LOG_LEVEL_ENV)!r}: use one of {', '.join(LOG_LEVELS)}, or unset it",
            field=LOG_LEVEL_ENV,
        )
    log_file = (environ.get(LOG_FILE_ENV) or "").strip()
    return Diagnostics(bool(environ.get(DEBUG_ENV)), Path(log_file) if log_file else None, level)


def emulator_control_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The emulator's control token from MYPOS_EMULATOR_CONTROL_TOKEN, if set."""
    environ = os.environ if environ is None else environ
    return (environ.get(EMULATOR_CONTROL_TOKEN_ENV) or "").strip() or None


class _Sources:
    """Stack config, then environment, then .env: the first level where a key is set wins, even if empty."""

    def __init__(
        self,
        stack_config: Mapping[str, Any],
        environ: Mapping[str, str],
        dotenv: Mapping[str, str],
        dotenv_file: Path | None,
    ) -> None:
        self._levels = (
            (stack_config, lambda key: key.config_key, lambda key: key.config_key),
            (environ, lambda key: key.env, lambda key: key.env),
            (dotenv, lambda key: key.env, lambda key: f"{key.env} in {dotenv_file}"),
        )
        self.origins: dict[str, str] = {}

    def get(self, key: _Key) -> tuple[str | None, str]:
        for values, name_of, origin_of in self._levels:
            name = name_of(key)
            if name in values and values[name] is not None:
                text = str(values[name]).strip()
                self.origins[key.name] = origin_of(key)
                return (text or None), origin_of(key)
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
    dotenv_file = dotenv_path if dotenv_path is not None else project_dotenv(environ)
    sources = _Sources(stack_config, environ, read_dotenv(dotenv_file), dotenv_file)

    credentials = Credentials(_required(sources, CLIENT_ID), _required(sources, CLIENT_SECRET))
    environment = _environment(sources)
    defaults = ENVIRONMENTS[environment]
    auth_url = _url(sources, AUTH_URL, defaults.auth_url, strip_suffix="/oauth/token")
    api_url = _url(sources, API_URL, defaults.api_url)
    retry = RetryPolicy(
        timeout=_number(sources, TIMEOUT, float, RetryPolicy.timeout, minimum=0.1, maximum=300),
        max_retries=_number(sources, MAX_RETRIES, int, RetryPolicy.max_retries, minimum=0, maximum=10),
        deadline=_number(sources, DEADLINE, float, RetryPolicy.deadline, minimum=1, maximum=3600),
    )
    transport = TransportOptions(proxy=_proxy(sources), ca_bundle=_ca_bundle(sources))
    return Settings(credentials, environment, auth_url, api_url, retry, transport, dict(sources.origins))


def project_dotenv(environ: Mapping[str, str], start: Path | None = None) -> Path | None:
    """The .env file to read: MYPOS_DOTENV, else the one beside the nearest Pulumi.yaml; never any other."""
    explicit = environ.get(DOTENV_ENV)
    if explicit:
        return Path(explicit)
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate / ".env"
    return None


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


def _reject_unknown_keys(stack_config: Mapping[str, Any]) -> None:
    for full_key in stack_config:
        namespace, _, name = str(full_key).partition(":")
        if namespace != NAMESPACE or name in KNOWN_KEYS:
            continue
        hint = f"did you mean {NAMESPACE}:{close[0]}? " if (close := closest(name, KNOWN_KEYS)) else ""
        raise ConfigError(
            f"unknown config key {full_key}: {hint}remove it with `pulumi config rm {full_key}`; known keys: "
            + ", ".join(f"{NAMESPACE}:{k}" for k in KNOWN_KEYS),
            field=str(full_key),
        )


def _required(sources: _Sources, key: _Key) -> str:
    value, _ = sources.get(key)
    if value is None:
        secret_flag = " --secret" if key.secret else ""
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


def parse_url(value: str, origin: str) -> SplitResult:
    """urlsplit, with every malformed spelling (a bad IPv6 literal, a port out of range) as one ConfigError."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (validates the port)
    except ValueError as problem:
        raise ConfigError(f"{origin} is {value!r}, which is not a valid URL ({problem})", field=origin) from None
    return parts


def check_service_url(value: str, origin: str) -> None:
    """https everywhere, except on loopback addresses (the emulator); no credentials, query or fragment."""
    parts = parse_url(value, origin)
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


def _proxy(sources: _Sources) -> str | None:
    value, origin = sources.get(PROXY)
    if value is None:
        return None
    parts = parse_url(value, origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{origin} is {value!r}: give the proxy as http://host:port", field=PROXY.config_key)
    return value


def _ca_bundle(sources: _Sources) -> str | None:
    value, origin = sources.get(CA_BUNDLE)
    if value is None:
        return None
    if not Path(value).is_file():
        raise ConfigError(
            f"{origin} is {value!r}, which is not a readable file of PEM certificates", field=CA_BUNDLE.config_key
        )
    return value


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
    if number is None or not minimum <= number <= maximum:  # NaN fails both comparisons
        word = "a whole number" if kind is int else "a number"
        raise ConfigError(
            f"{origin} is {value!r}: use {word} from {minimum:g} to {maximum:g} ({key.description})",
            field=key.config_key,
        )
    return number
