"""Fixtures shared by every test: a fresh emulator per test and engine-backed deployments against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("harness")  # the helpers' asserts explain their failures too (before importing)

from harness.accounts import Account, random_credentials  # noqa: E402
from harness.emulator import EmulatorControl  # noqa: E402
from harness.engine import Deployment, new_deployment  # noqa: E402
from harness.outofband import OutOfBand  # noqa: E402
from harness.scenario import Scenario, open_scenario  # noqa: E402
from mypos_provider.emulator import Emulator  # noqa: E402

pytest_plugins = ["harness.timing", "harness.scenario"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0).start() as emu:
        yield emu


@pytest.fixture
def control(emulator: Emulator) -> EmulatorControl:
    return EmulatorControl(emulator.url)


@pytest.fixture
def account(control: EmulatorControl) -> Account:
    credentials = random_credentials()
    control.add_account(credentials.client_id, credentials.client_secret)
    return credentials


@pytest.fixture
def deploy(tmp_path: Path, emulator: Emulator, account: Account) -> Iterator[Callable[..., Deployment]]:
    """Make a deployment of the stack program (or another program) against the test's emulator account.

    After the test, every deployment it made is scanned for secrets in plaintext (state files, `pulumi stack
    export`, CLI output, provider log): the client secret, every token issued, every webhook secret the
    account ever had. Any hit fails the test."""
    made: list[Deployment] = []

    def make(webhooks: list[dict[str, Any]] | None = None, **kw: Any) -> Deployment:
        deployment = new_deployment(
            tmp_path,
            auth_url=emulator.url,
            client_id=account.client_id,
            client_secret=account.client_secret,
            webhooks=webhooks,
            **kw,
        )
        made.append(deployment)
        return deployment

    yield make
    secrets = [
        account.client_secret,
        *emulator.issued_tokens(),
        *(w["secret"] for w in EmulatorControl(emulator.url).state(account.client_id)["webhooks"]),
    ]
    for deployment in made:
        leaks = deployment.leaked(secrets)
        assert not leaks, f"secrets leaked: {leaks}"


@pytest.fixture
def outofband(emulator: Emulator, account: Account) -> OutOfBand:
    return OutOfBand(emulator.url, account.client_id, account.client_secret)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """Polls `probe` until it returns something truthy; fails the test after `timeout` seconds."""

    def poll(probe: Callable[[], Any], timeout: float = 5, interval: float = 0.02) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout} s")

    return poll


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    """The emulator, account and deployments the steps of one scenario module share (harness/scenario.py)."""
    yield from open_scenario(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
