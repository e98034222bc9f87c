"""Scenarios of the native provider (`pulumi-resource-mypos`) through the real CLI, one per class, on the YAML
program of examples/ (a webhook with two subscriptions), the plugin from this checkout's venv (each language's
first hour from the release's packages is tests/engine/test_releases.py's):

- the product's commands on a stack of native resources: deploy, drift (by the schema's names), list's
  ready-to-paste `pulumi import` commands and the code they print pasted into the program, recover, emit,
  preview-report, and the destroy that the imported (protected) objects hold up until `pulumi state unprotect
  --all`;
- two of the ways the engine finds the plugin: on `PATH` (every scenario above) and through
  `plugins.providers` in Pulumi.yaml (the third, the plugin cache filled from a release, is
  tests/engine/test_releases.py's).

Each class is one scenario (its own emulator, account and leak scan) and one xdist group, so they run side
by side.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from harness.engine import ROOT, TOOLS, Deployment
from harness.scenario import Scenario, open_scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

EXAMPLES = ROOT / "examples"
VENV_BIN = ROOT / "venv" / "bin"
STACK = "test"
DECLARED_URL = "https://shop.example.com/mypos/orders"  # the examples' default `url`
HAND_URL = "https://attacker.example.com/hook"
BY_HAND_URL = "https://shop.example.com/mypos/by-hand"
BY_HAND_SECRET = "made-by-hand-secret-0001-abcdef"
FOUND_ON_PATH = "using pulumi-resource-mypos from $PATH"


def path_without_the_venv() -> str:
    """PATH as the tests got it, minus the virtualenv whose bin holds pulumi-resource-mypos."""
    venv = VENV_BIN.resolve()
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv)


def path_with_the_plugin() -> str:
    return os.pathsep.join([str(TOOLS / "bin"), str(VENV_BIN), path_without_the_venv()])


def yaml_example(base: Path) -> Path:
    """examples/yaml in a directory of its own."""
    project = base / "yaml"
    shutil.copytree(EXAMPLES / "yaml", project)
    return project


def native_deployment(scenario: Scenario, path: str) -> Deployment:
    base = scenario.directory / f"program-{len(scenario.deployments)}"
    return scenario.deploy(project_dir=yaml_example(base), extra_env={"PATH": path})


def pulumi_in(deployment: Deployment, *args: str) -> str:
    """A CLI command run in the project, its output kept with the deployment's (the leak scan reads it)."""
    printed = deployment.cli(*args, "--stack", STACK)
    deployment.output.append(printed)
    return printed


@pytest.fixture(scope="class")
def scenario(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    """One scenario per class here (the conftest's is per module): the classes run on workers of their own."""
    scenario_dir = tmp_path_factory.mktemp(f"native-{request.cls.__name__}")
    for made in open_scenario(scenario_dir):
        made.known_secrets.append(BY_HAND_SECRET)
        yield made


@pytest.fixture(scope="class")
def program(scenario: Scenario) -> Deployment:
    return native_deployment(scenario, path_with_the_plugin())


# ---- the product's commands on a stack of native resources ----------------------------------------------


def mypos_in(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    done = deployment.mypos(*args, "--stack", STACK)
    deployment.output += [done.stdout, done.stderr]
    return done


def paste_into_the_program(project: Path, printed: str) -> None:
    """What a user does with the code `pulumi import` prints for a YAML program: add its resources."""
    code = yaml.safe_load(printed[printed.index("resources:") :].split("\n\n", 1)[0])
    program = yaml.safe_load((project / "Pulumi.yaml").read_text())
    program["resources"].update(code["resources"])
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))


class TestProductCommandsOnANativeStack:
    def test_deploy_creates_what_the_program_declares(self, scenario, program):
        deployed = mypos_in(program, "deploy")

        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr
        assert [w["payload_url"] for w in scenario.live_webhooks()] == [DECLARED_URL]
        assert len(scenario.live_subscriptions()) == 2

    def test_drift_names_a_field_changed_by_hand_by_its_schema_name_and_the_objects_no_stack_manages(
        self, scenario, program
    ):
        [webhook] = scenario.live_webhooks()
        scenario.outofband.patch_webhook(webhook["id"], payload_url=HAND_URL)
        made = scenario.outofband.create_webhook(BY_HAND_URL, BY_HAND_SECRET)
        scenario.outofband.subscribe(made["id"], "pos.payment.completed")

        checked = mypos_in(program, "drift")

        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "| `orders` | Webhook | changed outside Pulumi | `payloadUrl` |" in checked.stdout
        assert f"| webhook | `{made['id']}` | {BY_HAND_URL} |" in checked.stdout
        assert "--format import` prints the `pulumi import` commands" in checked.stdout

    def test_deploy_restores_the_declared_url(self, scenario, program):
        deployed = mypos_in(program, "deploy")

        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr
        assert DECLARED_URL in [w["payload_url"] for w in scenario.live_webhooks()]

    def test_list_prints_an_import_command_per_unmanaged_object_whose_code_pasted_into_the_program_leaves_no_change(
        self, scenario, program
    ):
        listed = mypos_in(program, "list", "--format", "import")
        commands = [line for line in listed.stdout.splitlines() if line.startswith("pulumi import ")]
        [made] = [w for w in scenario.live_webhooks() if w["payload_url"] == BY_HAND_URL]
        assert [c.split()[2] for c in commands] == ["mypos:index:Webhook", "mypos:index:Subscription"]
        assert made["id"] in commands[0]

        for command in commands:
            printed = program.cli(*shlex.split(command)[1:], "--yes")  # the command as printed
            program.output.append(printed)
            assert BY_HAND_SECRET not in printed
            paste_into_the_program(program.work_dir, printed)

        report = mypos_in(program, "preview-report")
        assert "**0 to create, 0 to update, 0 to replace, 0 to delete**; 5 unchanged." in report.stdout

    def test_recover_finds_nothing_to_recover(self, program):
        looked = mypos_in(program, "recover", "--dry-run")

        assert looked.returncode == 0, looked.stdout + looked.stderr
        assert "no pending creates of myPOS objects: nothing to record" in looked.stdout

    def test_emit_delivers_the_event_to_the_stacks_webhooks(self, program):
        emitted = mypos_in(program, "emit", "pos.payment.completed")

        # The example's shop.example.com cannot be reached from here: the delivery is attempted and reported.
        assert f"orders ({DECLARED_URL}): no answer: the host name could not be resolved" in emitted.stdout
        assert f"({BY_HAND_URL}): no answer" in emitted.stdout, "the imported webhook is the stack's too"

    def test_destroy_refuses_the_imported_objects_until_state_unprotect_all_then_deletes_everything(
        self, scenario, program
    ):
        with pytest.raises(auto.CommandError, match=r"cannot be deleted\s+because it is protected"):
            program.destroy()
        assert BY_HAND_URL in [w["payload_url"] for w in scenario.live_webhooks()]

        pulumi_in(program, "state", "unprotect", "--all", "--yes")  # as README says, next to `pulumi import`
        program.destroy()

        assert scenario.live_webhooks() == [] and scenario.live_subscriptions() == []


# ---- how the engine finds the plugin ------------------------------------------------------------------


def plugin_found_without_path(scenario: Scenario) -> Deployment:
    """A YAML program whose engine has no pulumi-resource-mypos on PATH."""
    return native_deployment(scenario, os.pathsep.join([str(TOOLS / "bin"), path_without_the_venv()]))


class TestHowTheEngineFindsThePlugin:
    def test_plugins_providers_in_pulumi_yaml_points_the_engine_at_the_binary(self, scenario):
        deployment = plugin_found_without_path(scenario)
        project = deployment.work_dir / "Pulumi.yaml"
        project.write_text(project.read_text() + f"plugins:\n  providers:\n    - name: mypos\n      path: {VENV_BIN}\n")

        assert deployment.preview().change_summary == {"create": 4}
        assert FOUND_ON_PATH not in deployment.cli_text()
