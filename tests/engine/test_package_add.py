"""`pulumi package add <the plugin>` in new projects outside the repository, through the real CLI and the
project's language hosts (their Link, as upstream's hosts have it): in a Python, a TypeScript and a Go project
it generates the SDK, links it into the project's dependencies and prints the import to write; a program that
starts with exactly that printed import deploys a webhook to the emulator. The TypeScript program then reads
`getWebhooks()`, whose count and ids are no secret, and a webhook's secret through `Webhook.get`, which is.

Go needs one step more, as with upstream's Go host: the printed import alone fails the next preview with Go's
own message naming `go get <module>` (Link adds a `replace` line, not a `require`), and after that command the
program deploys. YAML programs need no SDK, and the YAML host here (upstream's pulumi-language-yaml v1.25.0)
answers Link as not implemented, which a step pins.

The plugin given to `package add` is the release's self-contained executable (scripts/dist, built once per
session, harness/releases.py), so the SDK it generates names the release's server as the plugin's download URL,
and the engine downloads the plugin from there at `up` (automatic plugin acquisition on, nothing on PATH): the
printed next step is all a user needs. Nothing else is downloaded: pip installs from scripts/wheelhouse (standing
in for PyPI), npm works offline from the lock file of scripts/install-node-sdk, Go from the module cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from pulumi import automation as auto

from harness.engine import PULUMI, ROOT, TOOLS, Deployment, engine_env
from harness.releases import WHEELHOUSE, Release, release
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

NODE = TOOLS / "node"
GO_SDK_MODULE = "github.com/mypos-pulumi/mypos-pulumi/sdk/go"


def payload_url(language: str) -> str:
    return f"https://shop.example.com/mypos/{language}"


def user_path() -> str:
    """The CLI and hosts first, then the rest of PATH but this checkout's venv (no plugin on PATH)."""
    venv_bin = (ROOT / "venv" / "bin").resolve()
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin]
    return os.pathsep.join([str(TOOLS / "bin"), *rest])


def user_env(**extra: str) -> dict[str, str]:
    """A user's environment: PATH as above, and the engine downloads a plugin it lacks."""
    return {"PATH": user_path(), "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false", **extra}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return release(tmp_path_factory)


@pytest.fixture(scope="module")
def plugin(scenario: Scenario, published: Release) -> Path:
    """What `pulumi package add` is given: the release's plugin executable, unpacked."""
    directory = scenario.directory / "plugin"
    shutil.unpack_archive(published.plugin_tarball, directory)
    return directory / "pulumi-resource-mypos"


def next_step(printed: str) -> str:
    """The code `pulumi package add` tells the user to write: the indented block after "... code with:"."""
    match = re.search(r"code with:\n\n((?:  .*\n)+)", printed)
    assert match, printed
    return textwrap.dedent(match.group(1))


def package_add(deployment: Deployment, plugin: Path) -> str:
    printed = deployment.cli("package", "add", str(plugin))
    deployment.output.append(printed)
    return printed


@pytest.fixture(scope="module")
def printed_imports() -> dict[str, str]:
    """Per language, the import `pulumi package add` printed, for the step that writes the program."""
    return {}


def deploys_the_webhook(scenario: Scenario, deployment: Deployment, language: str) -> None:
    outcome = deployment.up()

    [webhook] = [w for w in scenario.live_webhooks() if w["payload_url"] == payload_url(language)]
    assert outcome.outputs["webhookId"].value == webhook["id"]


# ---- Python ------------------------------------------------------------------------------------------------

PYTHON_PROGRAM = """import pulumi

hook = pulumi_mypos.Webhook("orders", payload_url="{url}")
pulumi.export("webhookId", hook.id)
"""


def new_python_project(directory: Path) -> Path:
    """As `pulumi new python` writes it: the pip toolchain, a virtualenv (made by the first install)."""
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(
        "name: shop-webhooks\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
    )
    (directory / "requirements.txt").write_text("pulumi>=3.0.0,<4.0.0\n")
    (directory / "__main__.py").write_text("import pulumi\n")
    return directory


@pytest.fixture(scope="module")
def python_project(scenario: Scenario) -> Deployment:
    env = user_env(
        PULUMI_PYTHON_CMD=str(ROOT / "venv" / "bin" / "python"),  # the wheelhouse's Python version
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
    )
    return scenario.deploy(project_dir=new_python_project(scenario.directory / "python"), extra_env=env)


def test_package_add_in_a_python_project_installs_the_sdk_and_prints_its_import(
    python_project, plugin, printed_imports
):
    printed = package_add(python_project, plugin)

    printed_imports["python"] = next_step(printed)
    assert printed_imports["python"] == "import pulumi_mypos as pulumi_mypos\n"
    assert "sdks/mypos" in (python_project.work_dir / "requirements.txt").read_text().splitlines()
    assert "packages:\n  mypos: mypos@0.1.0" in (python_project.work_dir / "Pulumi.yaml").read_text()


def test_the_python_program_that_starts_with_the_printed_import_deploys_a_webhook(
    scenario, python_project, printed_imports
):
    program = printed_imports["python"] + PYTHON_PROGRAM.format(url=payload_url("python"))
    (python_project.work_dir / "__main__.py").write_text(program)

    deploys_the_webhook(scenario, python_project, "python")


# ---- TypeScript --------------------------------------------------------------------------------------------

TYPESCRIPT_PROGRAM = """import * as pulumi from "@pulumi/pulumi";

const hook = new mypos.Webhook("orders", {{ payloadUrl: "{url}" }});
export const webhookId = hook.id;
"""

TSCONFIG = """{
    "compilerOptions": {
        "strict": true, "outDir": "bin", "target": "es2020", "module": "commonjs", "moduleResolution": "node",
        "sourceMap": true, "experimentalDecorators": true, "forceConsistentCasingInFileNames": true
    },
    "files": ["index.ts"]
}
"""


def new_typescript_project(directory: Path) -> Path:
    """As `pulumi new typescript` leaves it after its `npm install`, on the versions scripts/install-node-sdk
    pins: its package.json and lock file, and its node_modules as hard links where it can (instant; npm
    replaces files instead of writing into them, and the one file it rewrites, the hidden lock file, is a
    copy)."""
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(
        "name: shop-webhooks\nruntime:\n  name: nodejs\n  options:\n    packagemanager: npm\n"
    )
    (directory / "tsconfig.json").write_text(TSCONFIG)
    (directory / "index.ts").write_text('import * as pulumi from "@pulumi/pulumi";\n')
    shutil.copy(ROOT / "tools" / "node" / "package.json", directory / "package.json")
    shutil.copy(NODE / "package-lock.json", directory / "package-lock.json")
    shutil.copytree(NODE / "node_modules", directory / "node_modules", symlinks=True, copy_function=link_or_copy)
    hidden_lock = directory / "node_modules" / ".package-lock.json"
    hidden_lock.unlink()
    shutil.copy(NODE / "node_modules" / ".package-lock.json", hidden_lock)
    return directory


def link_or_copy(source: str, destination: str) -> None:
    """A hard link, or a copy where the two paths are on different file systems."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@pytest.fixture(scope="module")
def typescript_project(scenario: Scenario) -> Deployment:
    env = user_env(npm_config_offline="true")
    return scenario.deploy(project_dir=new_typescript_project(scenario.directory / "typescript"), extra_env=env)


def test_package_add_in_a_typescript_project_installs_the_sdk_and_prints_its_import(
    typescript_project, plugin, printed_imports
):
    printed = package_add(typescript_project, plugin)

    printed_imports["typescript"] = next_step(printed)
    assert printed_imports["typescript"] == 'import * as mypos from "@mypos-pulumi/mypos";\n'
    assert (typescript_project.work_dir / "node_modules" / "@mypos-pulumi" / "mypos" / "bin" / "index.js").exists()


def test_the_typescript_program_that_starts_with_the_printed_import_deploys_a_webhook(
    scenario, typescript_project, printed_imports
):
    program = printed_imports["typescript"] + TYPESCRIPT_PROGRAM.format(url=payload_url("typescript"))
    (typescript_project.work_dir / "index.ts").write_text(program)

    deploys_the_webhook(scenario, typescript_project, "typescript")


LOOKUPS = """
const live = mypos.getWebhooksOutput();
export const webhookCount = live.webhooks.apply(webhooks => webhooks.length);
export const webhookIds = live.webhooks.apply(webhooks => webhooks.map(w => w.id));
export const readSecret = mypos.Webhook.get("read", hook.id).secret;
"""


def test_get_webhooks_gives_the_count_and_ids_in_plain_view_and_webhook_get_the_secret_as_a_secret(
    scenario, typescript_project
):
    program = typescript_project.work_dir / "index.ts"
    program.write_text(program.read_text() + LOOKUPS)

    outputs = typescript_project.up().outputs

    live = scenario.live_webhooks()
    assert (outputs["webhookCount"].value, outputs["webhookCount"].secret) == (len(live), False)
    assert (sorted(outputs["webhookIds"].value), outputs["webhookIds"].secret) == (sorted(w["id"] for w in live), False)
    [hook] = [w for w in live if w["payload_url"] == payload_url("typescript")]
    assert (outputs["readSecret"].value, outputs["readSecret"].secret) == (hook["secret"], True)


# ---- Go ----------------------------------------------------------------------------------------------------

GO_PROGRAM = """
import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

func main() {{
	pulumi.Run(func(ctx *pulumi.Context) error {{
		hook, err := mypos.NewWebhook(ctx, "orders", &mypos.WebhookArgs{{PayloadUrl: pulumi.String("{url}")}})
		if err != nil {{
			return err
		}}
		ctx.Export("webhookId", hook.ID())
		return nil
	}})
}}
"""


def new_go_project(directory: Path) -> Path:
    """As `pulumi new go` writes it, on the Go SDK release the generated SDK uses (tools/sdk/go's go.mod under
    another module name, and its go.sum), so every module is in the cache scripts/prebuild-go-programs filled."""
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: shop-webhooks\nruntime: go\n")
    sdk_module = (ROOT / "tools" / "sdk" / "go" / "go.mod").read_text().splitlines(True)
    (directory / "go.mod").write_text("module shop\n" + "".join(line for line in sdk_module if "mypos" not in line))
    shutil.copy(ROOT / "tools" / "sdk" / "go" / "go.sum", directory / "go.sum")
    (directory / "main.go").write_text(
        'package main\n\nimport "github.com/pulumi/pulumi/sdk/v3/go/pulumi"\n\n'
        "func main() { pulumi.Run(func(*pulumi.Context) error { return nil }) }\n"
    )
    return directory


@pytest.fixture(scope="module")
def go_project(scenario: Scenario) -> Deployment:
    env = user_env(GOPROXY="off")
    return scenario.deploy(project_dir=new_go_project(scenario.directory / "go"), extra_env=env)


def test_package_add_in_a_go_project_replaces_the_sdk_module_and_prints_its_import(go_project, plugin, printed_imports):
    printed = package_add(go_project, plugin)

    printed_imports["go"] = next_step(printed)
    assert printed_imports["go"] == f'import (\n  "{GO_SDK_MODULE}/mypos"\n)\n'
    assert f"replace {GO_SDK_MODULE} => ./sdks/mypos" in (go_project.work_dir / "go.mod").read_text()


def test_the_go_program_with_the_printed_import_fails_its_preview_naming_the_go_get_to_run(go_project, printed_imports):
    program = "package main\n\n" + printed_imports["go"] + GO_PROGRAM.format(url=payload_url("go"))
    (go_project.work_dir / "main.go").write_text(program)

    with pytest.raises(auto.CommandError) as failed:
        go_project.preview()

    assert f"is replaced but not required; to add it:\n\tgo get {GO_SDK_MODULE}" in str(failed.value)


def test_after_that_go_get_the_go_program_deploys_a_webhook(scenario, go_project):
    got = subprocess.run(
        ["go", "get", GO_SDK_MODULE], cwd=go_project.work_dir, env=go_project.cli_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr

    deploys_the_webhook(scenario, go_project, "go")


# ---- YAML --------------------------------------------------------------------------------------------------


def test_the_yaml_host_answers_link_as_not_implemented(scenario, plugin):
    project = scenario.directory / "yaml"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: shop-webhooks\nruntime: yaml\n")
    env = {**os.environ, **engine_env(scenario.directory / "yaml-backend"), "PATH": user_path(),
           "PULUMI_HOME": str(scenario.directory / "yaml-pulumi-home")}  # fmt: skip

    added = subprocess.run(
        [str(PULUMI), "package", "add", str(plugin), "--non-interactive"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert added.returncode != 0
    assert "error: linking package: method Link not implemented" in added.stderr
