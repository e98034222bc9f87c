"""Engine scenarios: one emulator, one account and one deployment (or a few) per test module, whose tests are
the scenario's steps, run in file order, each named after the behaviour it proves.

A step starts from the state the step before it left, so a scenario pays for one project, one `PULUMI_HOME`,
one stack and one `stack export` secret scan, however many steps it has. A module opts in with
`pytestmark = [pytest.mark.engine, pytest.mark.scenario]`; a module of several scenarios makes each a class
with a class-scoped `scenario` fixture. Its steps stay on one xdist worker, in order, because the suite runs
with `--dist loadscope` (pyproject.toml: a module, or a class, is sent whole to one worker); the plugin below
skips the steps after one that failed (they would fail for its reason, and hide it).

At the end of the module, every deployment the scenario made is scanned once for secrets in plaintext (state
files, `pulumi stack export`, CLI output, provider log): the client secret, every token issued and every
webhook secret the account ever had. A hit fails the scenario's last step's teardown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.accounts import Account, random_credentials
from harness.emulator import EmulatorControl
from harness.engine import Deployment, new_deployment
from harness.outofband import OutOfBand
from harness.releases import UserShell
from mypos_emulator import Emulator

MARKER = "scenario"


@dataclass
class Scenario:
    """What a scenario's steps share: the emulator, the account, and the deployments made on it."""

    directory: Path
    emulator: Emulator
    account: Account
    control: EmulatorControl
    deployments: list[Deployment] = field(default_factory=list)
    shells: list[UserShell] = field(default_factory=list)  # users' terminals outside the Automation API
    known_secrets: list[str] = field(default_factory=list)

    @property
    def outofband(self) -> OutOfBand:
        """Someone clicking in the merchant's web account (a fresh token each time: tokens may expire)."""
        return OutOfBand(self.emulator.url, self.account.client_id, self.account.client_secret)

    def deploy(self, webhooks: list[Mapping[str, Any]] | None = None, **kw: Any) -> Deployment:
        """A stack of its own project directory (or of `project_dir`) on the scenario's account."""
        directory = self.directory / f"deployment-{len(self.deployments)}"
        directory.mkdir()
        deployment = new_deployment(
            directory,
            auth_url=self.emulator.url,
            client_id=self.account.client_id,
            client_secret=self.account.client_secret,
            webhooks=webhooks,
            **kw,
        )
        self.deployments.append(deployment)
        return deployment

    def deployed(self, webhooks: list[Mapping[str, Any]] | None = None, **kw: Any) -> Deployment:
        """`deploy`, then its first `up`: where most scenarios start."""
        deployment = self.deploy(webhooks, **kw)
        deployment.up()
        return deployment

    def live_webhooks(self) -> list[dict[str, Any]]:
        return self.control.live_webhooks(self.account.client_id)

    def live_subscriptions(self) -> list[dict[str, Any]]:
        return self.control.live_subscriptions(self.account.client_id)

    def secrets(self) -> list[str]:
        """Every secret the scenario knows of: credentials, tokens, every webhook secret the account had."""
        webhooks = self.control.state(self.account.client_id)["webhooks"]
        return [
            self.account.client_secret,
            *self.emulator.issued_tokens(),
            *(w["secret"] for w in webhooks),
            *self.known_secrets,
        ]

    def assert_no_leaks(self) -> None:
        secrets = self.secrets()
        leaks = [leak for deployment in self.deployments for leak in deployment.leaked(secrets)]
        leaks += [leak for shell in self.shells for leak in shell.leaked(secrets)]
        assert not leaks, f"secrets leaked: {leaks}"


def open_scenario(directory: Path) -> Iterator[Scenario]:
    """A scenario on a fresh emulator and account; scans its deployments for leaks when it ends."""
    with Emulator(port=0).start() as emulator:
        account = random_credentials()
        control = EmulatorControl(emulator.url)
        control.add_account(account.client_id, account.client_secret)
        scenario = Scenario(directory, emulator, account, control)
        yield scenario
        scenario.assert_no_leaks()


# ---- the plugin: one worker per scenario, steps in order, nothing after a failed step ------------------


class ScenarioSteps:
    """Remembers, per scenario module, the first step that failed, so the steps after it are skipped."""

    def __init__(self) -> None:
        self.failed_step: dict[str, str] = {}

    @staticmethod
    def scenario_of(item: pytest.Item) -> str | None:
        """The module, or the class in a module of several scenarios: everything before the step's name."""
        return item.nodeid.rsplit("::", 1)[0] if item.get_closest_marker(MARKER) else None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
        report: pytest.TestReport = yield
        scenario = self.scenario_of(item)
        if scenario and report.failed and call.when in ("setup", "call"):
            self.failed_step.setdefault(scenario, item.name)
        return report

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        scenario = self.scenario_of(item)
        if scenario in self.failed_step:
            pytest.skip(f"an earlier step of this scenario failed: {self.failed_step[scenario]}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: the module's tests are the ordered steps of one engine scenario (harness/scenario.py)"
    )
    config.pluginmanager.register(ScenarioSteps(), "scenario-steps")
