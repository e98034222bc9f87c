"""Scenarios: both shells run every operation the engine sends at once, and the connection check that runs beside
the first operations still stops a wrong configuration before anything is made, as the CLI shows it.

One class per shell (its own emulator, account and leak scan): the dynamic resources, run by the SDK's
dynamic-provider host (which serves four calls at once unless resources/host.py widens it), and the native
plugin `pulumi-resource-mypos`. Each `up --parallel 8` of eight webhooks holds every webhook create at the
emulator (a `slow` fault rule) until all eight are there at once: with the host's four threads, four would
wait for ever and the step fails after its timeout. The gate's rules (what waits for the token, what for the
catalogue, what a create made before a failed check) are proven in tests/unit/test_operations.py; these steps
prove the wiring, and what the user sees.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from pulumi import automation as auto

from harness.engine import ROOT, Deployment, Outcome, copy_project
from harness.scenario import Scenario, open_scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

N = 8
PARALLEL = 8
URL = "https://shop.example.com/mypos/parallel"
HOLD_CREATES = [{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 50}]
# Creates are held at the emulator for as long as the step needs: far below this read timeout.
PATIENT = {"mypos:timeout": "60"}

DYNAMIC = f"""
import pulumi
from mypos_provider import Webhook

for i in range({N}):
    Webhook(f"h{{i}}", payload_url=f"{URL}/{{i}}", secret=pulumi.Output.secret(f"parallel-secret-{{i:02}}"))
"""
NATIVE = f"""
import pulumi

for i in range({N}):
    secret = pulumi.Output.secret(f"parallel-secret-{{i:02}}")
    pulumi.CustomResource("mypos:index:Webhook", f"h{{i}}", {{"payloadUrl": f"{URL}/{{i}}", "secret": secret}})
"""
PLUGIN = f"plugins:\n  providers:\n    - name: mypos\n      path: {ROOT / 'venv' / 'bin'}\n"


def failed(run: Callable[[], Any]) -> str:
    with pytest.raises(auto.errors.CommandError) as failure:
        run()
    return str(failure.value)


def error_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]


@pytest.fixture(scope="class")
def scenario(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    yield from open_scenario(tmp_path_factory.mktemp(f"concurrency-{request.cls.__name__}"))


class ShellSteps:
    """The steps for one shell; a subclass names its program."""

    program: ClassVar[str]
    plugin: ClassVar[str]

    def deployment(self, scenario: Scenario, config: dict[str, str] | None = None) -> Deployment:
        """A new stack of this shell's program (a project of its own), with `config` added."""
        project = copy_project(scenario.directory / f"project-{len(scenario.deployments)}", program=self.program)
        (project / "Pulumi.yaml").write_text((project / "Pulumi.yaml").read_text() + self.plugin)
        deployment = scenario.deploy(project_dir=project)
        for key, value in (config or {}).items():
            deployment.set_config(key, value, secret=key == "mypos:clientSecret")
        return deployment

    def live_urls(self, scenario: Scenario) -> list[str]:
        return sorted(w["payload_url"] for w in scenario.live_webhooks())

    def test_a_wrong_client_secret_fails_the_first_preview_in_one_line_naming_the_setting(self, scenario):
        stack = self.deployment(scenario, {"mypos:clientSecret": "not-the-right-secret"})
        scenario.control.clear_requests()

        text = failed(stack.preview)

        errors = [line for line in error_lines(text) if "client credentials" in line]
        assert len(errors) == 1 and "mypos:clientSecret" in errors[0], text
        assert "Traceback" not in text and "not-the-right-secret" not in text
        assert [(r["method"], r["path"]) for r in scenario.control.requests()] == [("POST", "/oauth/token")]

    def test_an_up_whose_catalogue_read_fails_creates_nothing(self, scenario):
        stack = self.deployment(scenario, {"mypos:maxRetries": "0"})
        scenario.emulator.set_faults([{"method": "GET", "path": "/v1/events", "kind": "status", "status": 503}])
        try:
            text = failed(lambda: stack.up(parallel=PARALLEL))
        finally:
            scenario.emulator.clear_faults()

        full = [line for line in error_lines(text) if "list events failed" in line]
        assert len(full) == 1 and "mypos:maxRetries" in full[0], text
        assert self.live_urls(scenario) == []

    def test_every_create_of_an_up_is_in_flight_at_once(self, scenario, wait_until):
        stack = self.deployment(scenario, PATIENT)
        scenario.emulator.set_faults(HOLD_CREATES)
        outcome: list[Outcome | BaseException] = []

        def up() -> None:
            try:
                outcome.append(stack.up(parallel=PARALLEL))
            except BaseException as error:  # noqa: BLE001 (shown by the assertion below)
                outcome.append(error)

        running = threading.Thread(target=up)
        running.start()
        try:
            with contextlib.suppress(AssertionError):  # what was held by then is the finding
                wait_until(lambda: scenario.emulator.faults()[0]["fired"] == N or outcome, timeout=45)
            held = scenario.emulator.faults()[0]["fired"]
        finally:
            scenario.emulator.clear_faults()  # releases what is held
            running.join(timeout=60)

        assert held == N, f"{held} of {N} creates reached myPOS at once"
        assert isinstance(outcome[0], Outcome), outcome
        assert "does not fit this pulumi SDK" not in stack.cli_text()  # the host's shape checks passed
        assert self.live_urls(scenario) == sorted(f"{URL}/{i}" for i in range(N))


class TestDynamicShell(ShellSteps):
    program = DYNAMIC
    plugin = ""  # the SDK's dynamic-provider host


class TestNativeShell(ShellSteps):
    program = NATIVE
    plugin = PLUGIN  # venv/bin/pulumi-resource-mypos, named in Pulumi.yaml
