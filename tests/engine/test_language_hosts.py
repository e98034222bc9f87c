"""The language hosts in .tools/bin, beyond running programs: `pulumi package gen-sdk` of a small schema
(tests/fixtures/hosts/schema.json) writes a Python, a Node.js and a Go SDK at the schema's version, and each of
the project's hosts turns PCL into a program in its language (what `pulumi import` prints).

Programs in YAML (upstream's pulumi-language-yaml), Python, TypeScript and Go (the project's own hosts,
tools/pulumi/cmd) run through the real CLI in tests/engine/test_releases.py: each README quick start goes up,
updates, refreshes, imports and is destroyed there."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from harness.engine import PULUMI, TOOLS, engine_env, require_engine

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
NODE_MODULES = TOOLS / "node" / "node_modules"
SCHEMA_VERSION = "1.2.3"


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


# ---- About (what the engine asks for every update's metadata) ----------------------------------------------


@pytest.mark.parametrize("language", ["python"])
def test_about_names_the_python_interpreter_and_its_version(language, language_host, tmp_path):
    program = language_pb2.ProgramInfo(root_directory=str(tmp_path), program_directory=str(tmp_path), entry_point=".")

    answer = language_host.About(language_pb2.AboutRequest(info=program), timeout=30)

    assert Path(answer.executable).name.startswith("python"), answer.executable
    assert re.fullmatch(r"3\.\d+\.\d+", answer.version), answer.version
