"""Fixtures shared by every test: a fresh emulator per test and engine-backed deployments against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("harness")  # the helpers' asserts explain their failures too

from harness.accounts import Account, random_credentials
from harness.emulator import EmulatorControl
from harness.engine import Deployment
from harness.outofband import OutOfBand
from harness.scenario import Scenario, open_scenario
from mypos_emulator import Emulator

pytest_plugins = ["harness.timing", "harness.scenario"]

FULL_SIZE_MARKER = "full_size"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-hooks",
        type=int,
        default=6,
        help="webhooks per fault case of tests/engine/test_faults.py in the default run (default 6; "
        "`-m full_size` runs every case at 30)",
    )


# Longest first: pytest-xdist hands out modules (and scenario classes) in collection order
# (`--no-loadscope-reorder`, pyproject.toml), so the long scenarios start at once on every worker and the
# many short unit and contract tests fill the gaps at the end, instead of one long scenario starting last.
LONGEST_FIRST = (
    "tests/engine/test_faults.py",
    "tests/team/",
    "tests/engine/",
    "tests/browser/",
    "tests/emulator/",
    "tests/unit/",
)


def start_order(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The full-size fault cases run only when asked for by marker (`scripts/test -m full_size`); the rest
    starts longest first (a stable sort: within a group, file order)."""
    items.sort(key=start_order)
    if FULL_SIZE_MARKER in (config.option.markexpr or ""):
        return
    deselected = [item for item in items if item.get_closest_marker(FULL_SIZE_MARKER)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(FULL_SIZE_MARKER)]


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
    """Make deployments of the stack program (or another program) against the test's emulator account: a
    scenario of one test (harness/scenario.py), whose deployments are scanned for secrets in plaintext after
    the test."""
    single = Scenario(tmp_path, emulator, account, EmulatorControl(emulator.url))
    yield single.deploy
    single.assert_no_leaks()


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
