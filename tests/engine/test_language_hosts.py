"""The language hosts in .tools/bin through the real CLI, as a scenario per language.

A YAML program (upstream's pulumi-language-yaml), a TypeScript program and a Go program (the project's own
hosts, tools/pulumi/cmd) each go up exporting a plain and a secret config value, preview clean a second
time and are destroyed; `pulumi package gen-sdk` of a small schema (tests/fixtures/hosts/schema.json)
writes a Python, a Node.js and a Go SDK at the schema's version; and each of the project's hosts turns PCL
into a program in its language (what `pulumi import` prints).

Each program's steps run once in the session, in a module-scoped set-up that the pytest-xdist workers
share; the tests then check one behaviour each. The TypeScript program links the one node_modules of
scripts/install-node-sdk; the Go program is built by the host, on Go's shared build cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi import automation as auto
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from harness.engine import PULUMI, TOOLS, Deployment, engine_env, require_engine, workspace_options
from harness.workers import computed_once

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
NODE_MODULES = TOOLS / "node" / "node_modules"
GREETING = "hello from the stack config"
TOKEN = "language-host-secret-7Qx2"
SCHEMA_VERSION = "1.2.3"

# Program fixture -> the language host (runtime) that runs it.
PROGRAMS = {"yaml": "yaml", "typescript": "nodejs", "go": "go"}


def require_host(runtime: str) -> None:
    """Like require_engine: a missing host fails the tests, so a green run means they ran."""
    require_engine()
    if not (TOOLS / "bin" / f"pulumi-language-{runtime}").exists():
        pytest.fail(
            f"the {runtime} language host is missing at .tools/bin/pulumi-language-{runtime}: "
            "run scripts/install-pulumi-cli (scripts/test does it for you)",
            pytrace=False,
        )
    if runtime == "nodejs" and not NODE_MODULES.is_dir():
        pytest.fail(
            "the Node.js SDK is missing at .tools/node/node_modules: run scripts/install-node-sdk "
            "(scripts/test does it for you)",
            pytrace=False,
        )


# ---- a program's life: up, stack output, preview, destroy ------------------------------------------------


def project_of(program: str, directory: Path) -> Path:
    shutil.copytree(FIXTURES / program, directory)
    if program == "typescript":
        (directory / "node_modules").symlink_to(NODE_MODULES)
    return directory


def live_through(program: str, tmp: Path) -> dict[str, Any]:
    """Up, `pulumi stack output`, a second preview and destroy of one program, and what each showed."""
    work_dir = project_of(program, tmp / "project")
    stack = auto.create_stack("test", work_dir=str(work_dir), opts=workspace_options(tmp, work_dir, tmp / "backend"))
    stack.set_all_config({"greeting": auto.ConfigValue(GREETING), "token": auto.ConfigValue(TOKEN, secret=True)})
    deployment = Deployment(stack, work_dir, tmp / "backend", provider_log=tmp / "no-provider.log")

    outputs = deployment.up().outputs
    stack_output = deployment.cli("stack", "output", "--stack", "test")
    return {
        "greeting": outputs["greeting"].value,
        # Only whether it is the config value: the record is a file, and the secret stays out of it.
        "token": {"is_the_config_value": outputs["token"].value == TOKEN, "secret": outputs["token"].secret},
        "stack output masks the token": "[secret]" in stack_output and TOKEN not in stack_output,
        "preview": deployment.preview().change_summary,
        "destroy": deployment.destroy().summary.resource_changes,
        "leaks": deployment.leaked([TOKEN]),
    }


@pytest.fixture(scope="module", params=list(PROGRAMS))
def lifecycle(request, tmp_path_factory) -> dict[str, Any]:
    """One program's life, lived once for the whole session: pytest-xdist spreads the steps over its
    workers, and the first to get here runs it while the others wait for its record."""
    program = request.param
    require_host(PROGRAMS[program])
    return computed_once(
        tmp_path_factory,
        f"language-host-{program}",
        lambda: live_through(program, tmp_path_factory.mktemp(f"host-{program}")),
    )


def test_up_exports_the_plain_config_value(lifecycle):
    assert lifecycle["greeting"] == GREETING


def test_up_exports_the_secret_config_value_as_a_secret(lifecycle):
    assert lifecycle["token"] == {"is_the_config_value": True, "secret": True}


def test_stack_output_masks_the_secret(lifecycle):
    assert lifecycle["stack output masks the token"]


def test_a_second_preview_shows_no_change(lifecycle):
    assert lifecycle["preview"] == {"same": 1}


def test_destroy_deletes_the_stack(lifecycle):
    assert lifecycle["destroy"] == {"delete": 1}


def test_the_secret_is_nowhere_in_plaintext(lifecycle):
    """State files, `pulumi stack export`, everything the CLI printed."""
    assert lifecycle["leaks"] == []


# ---- pulumi package gen-sdk -------------------------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# Language -> where its SDK states the version the engine will ask the provider plugin for.
SDK_VERSION_OF: dict[str, Callable[[Path], str]] = {
    "python": lambda sdk: read_json(sdk / "pulumi_greeter" / "pulumi-plugin.json")["version"],
    "nodejs": lambda sdk: read_json(sdk / "package.json")["pulumi"]["version"],
    "go": lambda sdk: read_json(sdk / "greeter" / "pulumi-plugin.json")["version"],
}


@pytest.fixture(scope="module", params=list(SDK_VERSION_OF))
def generated_sdk(request, tmp_path_factory) -> tuple[str, Path]:
    language = request.param
    require_host(language)
    tmp = tmp_path_factory.mktemp(f"sdk-{language}")
    env = {**os.environ, **engine_env(tmp / "backend"), "PULUMI_HOME": str(tmp / "pulumi-home")}
    subprocess.run(
        [str(PULUMI), "package", "gen-sdk", str(FIXTURES / "schema.json"), "--language", language,
         "--out", str(tmp / "sdk"), "--non-interactive"],
        cwd=tmp, env=env, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return language, tmp / "sdk" / language


def test_gen_sdk_writes_an_sdk_at_the_schema_version(generated_sdk):
    language, sdk = generated_sdk
    assert SDK_VERSION_OF[language](sdk) == SCHEMA_VERSION


# ---- GenerateProgram (what `pulumi import` prints) --------------------------------------------------------

# A program that needs no package schema, so the engine's schema loader is never asked.
PCL = """config greeting "string" {
}
output shout {
  value = "${greeting}!"
}
"""
# Language -> the file its generator writes and the line that exports `shout` there.
EXPORT_IN: dict[str, tuple[str, str]] = {
    "python": ("__main__.py", 'pulumi.export("shout", f"{greeting}!")'),
    "nodejs": ("index.ts", "export const shout = `${greeting}!`;"),
    "go": ("main.go", 'ctx.Export("shout", pulumi.Sprintf("%v!", greeting))'),
}


@pytest.fixture
def language_host(language: str) -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    """The host of `language` serving on its own, as the engine starts it (without an engine to report to)."""
    require_host(language)
    process = subprocess.Popen([str(TOOLS / "bin" / f"pulumi-language-{language}")], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("language", list(EXPORT_IN))
def test_generate_program_turns_pcl_into_the_hosts_language(language, language_host):
    file_name, export_line = EXPORT_IN[language]
    generated = language_host.GenerateProgram(
        # Never dialled: the program uses no package.
        language_pb2.GenerateProgramRequest(source={"main.pp": PCL}, loader_target="127.0.0.1:1", strict=True),
        timeout=60,
    )
    assert export_line in generated.source[file_name].decode()
