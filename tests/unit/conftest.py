"""Fixtures of the unit tier: the core's rules against the in-process emulator, over real HTTP, without the engine.

A `DeploymentContext` here is what one provider process holds for one deployment: its own client (one token),
a fast retry policy (faults cost milliseconds, not seconds) and a `CollectingReporter` that keeps every warning
and note the rules give. `new_context()` starts the next deployment against the same account.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.accounts import Account
from harness.outofband import OutOfBand
from harness.retry import FAST_RETRY
from mypos_emulator import Emulator
from mypos_provider.client import Credentials, MyPOSClient, RetryPolicy
from mypos_provider.core.context import DeploymentContext
from mypos_provider.core.subscriptions import SubscriptionRules
from mypos_provider.core.values import CollectingReporter
from mypos_provider.core.webhooks import WebhookRules

FAST = FAST_RETRY
AN_HOUR = 3600


@pytest.fixture
def no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """For what reads the environment and a .env (a provider process): nothing of the developer's machine."""
    for name in [n for n in os.environ if n.startswith("MYPOS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MYPOS_DOTENV", str(tmp_path / "no.env"))


@pytest.fixture
def stack_config(emulator: Emulator, account: Account) -> dict[str, str]:
    """The stack config of a provider process deploying to the test's account."""
    endpoints = {"authUrl": emulator.auth_url, "apiUrl": emulator.api_url}
    credentials = {"clientId": account.client_id, "clientSecret": account.client_secret}
    return {f"mypos:{key}": value for key, value in (endpoints | credentials).items()}


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return FAST


@pytest.fixture
def connect(emulator: Emulator, account: Account) -> Callable[..., MyPOSClient]:
    """A new client of the test's account (its own session and token), on `on` (default: the test's emulator)."""

    def make(on: Emulator | None = None, *, retry: RetryPolicy = FAST) -> MyPOSClient:
        target = on or emulator
        return MyPOSClient.connect(
            api_url=target.api_url,
            auth_url=target.auth_url,
            credentials=Credentials(account.client_id, account.client_secret),
            retry=retry,
        )

    return make


@pytest.fixture
def new_context(connect: Callable[..., MyPOSClient]) -> Callable[..., DeploymentContext]:
    """The context of a new deployment (a new provider process) of the test's account."""

    def make(on: Emulator | None = None) -> DeploymentContext:
        return DeploymentContext(connect(on), CollectingReporter())

    return make


@pytest.fixture
def context(new_context: Callable[..., DeploymentContext]) -> DeploymentContext:
    return new_context()


@pytest.fixture
def reporter(context: DeploymentContext) -> CollectingReporter:
    assert isinstance(context.reporter, CollectingReporter)
    return context.reporter


@pytest.fixture
def webhooks(context: DeploymentContext) -> WebhookRules:
    return WebhookRules(context)


@pytest.fixture
def subscriptions(context: DeploymentContext) -> SubscriptionRules:
    return SubscriptionRules(context)


@pytest.fixture
def aged_emulator(tmp_path: Path, account: Account) -> Iterator[Callable[..., tuple[Emulator, Any]]]:
    """An emulator whose account holds objects made an hour ago, as another stack (or an earlier run) left them.

    `make(populate)` runs `populate(outofband)` against a first emulator with a state file, shifts every
    creation time in that file an hour back, and serves the file from a second emulator: the API then reports
    those objects as an hour old, with no test waiting for time to pass."""
    started: list[Emulator] = []

    def make(populate: Callable[[OutOfBand], Any]) -> tuple[Emulator, Any]:
        state = tmp_path / "aged-state.json"
        accounts = {account.client_id: account.client_secret}
        with Emulator(port=0, accounts=accounts, state_file=state) as first:
            made = populate(OutOfBand(first.url, account.client_id, account.client_secret))
        document = json.loads(state.read_text())
        for saved in document["accounts"].values():
            for obj in saved["webhooks"] + saved["subscriptions"]:
                obj["created_on"] -= AN_HOUR
        state.write_text(json.dumps(document))
        emulator = Emulator(port=0, accounts=accounts, state_file=state).start()
        started.append(emulator)
        return emulator, made

    yield make
    for emulator in started:
        emulator.stop()
