"""A new user's first minute in each language, from the release artifacts only (scripts/dist, built once for
the session and served by a local HTTP server standing in for GitHub releases and the registries), through the
real CLI, in a new project outside the repository with a fresh `PULUMI_HOME` and automatic plugin downloads on.

Each program is the README's quick start, read from the README itself, so what the README promises is what
runs here; its first hour follows: an update in place, a refresh of a change by hand, `pulumi import` printing
code in the language, destroy. The TypeScript, Python and Go SDKs name the server as the plugin's download
URL, so the engine fetches the self-contained plugin by itself (no Python on its path, nothing on PATH); YAML
installs it with `pulumi plugin install --server`. Each class is a scenario of its own (emulator, account,
leak scan), so the languages run side by side.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from harness.engine import ROOT, TOOLS
from harness.releases import Release, UserShell, fresh_venv, release
from harness.scenario import Scenario, open_scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

README = ROOT / "README.md"
STACK = "dev"
DECLARED_URL = "https://shop.example.com/mypos/callback"  # the quick starts' webhook
UPDATED_URL = "https://shop.example.com/mypos/callback-v2"
HAND_URL = "https://attacker.example.com/hook"
BY_HAND_URL = "https://shop.example.com/mypos/by-hand"
BY_HAND_SECRET = "made-by-hand-secret-0001-abcdef"
SDK_MODULE = "github.com/mypos-pulumi/mypos-pulumi/sdk/go/mypos"


def quickstart(language: str, file_name: str) -> str:
    """The file the README's quick start of `language` has the user write, exactly as printed there."""
    marker = re.escape(f"<!-- quickstart {language} {file_name} -->")
    found = re.search(marker + r"\n```[a-z]*\n(.*?)```\n", README.read_text(), re.DOTALL)
    assert found, f"README has no quick start file {file_name} for {language}"
    return found.group(1)


@pytest.fixture(scope="class")
def scenario(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    for made in open_scenario(tmp_path_factory.mktemp(f"release-{request.cls.__name__}")):
        made.known_secrets.append(BY_HAND_SECRET)
        yield made


@pytest.fixture(scope="class")
def published(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return release(tmp_path_factory)


@pytest.fixture(scope="class")
def shell(scenario: Scenario) -> UserShell:
    """A new, empty project directory of the user's, outside the repository."""
    project = scenario.directory / "shop"
    project.mkdir()
    made = UserShell(project=project, home=scenario.directory / "user")
    scenario.shells.append(made)
    return made


def stack_settings(shell: UserShell, scenario: Scenario) -> None:
    shell.new_stack(
        STACK,
        auth_url=scenario.emulator.url,
        client_id=scenario.account.client_id,
        client_secret=scenario.account.client_secret,
    )


def warnings_in(output: str) -> list[str]:
    return [line for line in output.splitlines() if "warning" in line.lower()]


def resource_changes(output: str) -> dict[str, int]:
    """The CLI's closing `Resources:` summary (`+ 3 created`, `~ 1 updated`, `2 unchanged`) as counts."""
    summary = output[output.rindex("Resources:") :].split("\n\n", 1)[0]
    found = re.findall(r"^\s+(?:[-+~]\s+)?(\d+) (\w+)$", summary, re.MULTILINE)
    return {kind: int(count) for count, kind in found}


def state_of(shell: UserShell, name: str) -> dict[str, Any]:
    """A resource of the stack as `pulumi stack export` shows it."""
    deployment = json.loads(shell.pulumi("stack", "export"))["deployment"]
    [resource] = [r for r in deployment["resources"] if r["urn"].endswith(f"::{name}")]
    return resource


class FirstHour:
    """A language's first hour: its project set up from the release as the README says (`set_up`, with what
    it checks of the installed package), the first up (the engine downloads the plugin), an update in place,
    a change by hand seen by a refresh, objects made by hand imported (the printed code in the language,
    without the secret), destroy. Only the first and the set-up differ by language."""

    program_file: ClassVar[str]  # the quick start's program
    imported_code: ClassVar[tuple[str, str]]  # what the printed code of the webhook and the subscription holds

    def set_up(self, shell: UserShell, published: Release) -> None:
        raise NotImplementedError

    def test_the_project_is_set_up_from_the_release_as_the_readme_says(
        self, scenario: Scenario, shell: UserShell, published: Release
    ):
        self.set_up(shell, published)

        stack_settings(shell, scenario)

    def test_pulumi_up_downloads_the_plugin_from_the_release_and_deploys_the_webhook(
        self, scenario: Scenario, shell: UserShell, published: Release
    ):
        output = shell.pulumi("up", "--yes")

        [webhook] = scenario.live_webhooks()
        [subscription] = scenario.live_subscriptions()
        assert webhook["payload_url"] == DECLARED_URL and len(webhook["secret"]) == 32, "a secret is generated"
        assert (subscription["webhook_id"], subscription["event"]) == (webhook["id"], "pos.payment.completed")
        assert f"/{published.plugin_tarball.name}" in published.downloads()
        assert (shell.home / "pulumi-home" / "plugins" / f"resource-mypos-v{published.version}").is_dir()
        assert warnings_in(output) == [], "the recommended path prints no warning"
        assert webhook["secret"] not in shell.pulumi("stack", "output", "--json"), "the secret output is a secret"

    def test_an_update_of_the_url_in_the_program_changes_the_webhook_in_place(
        self, scenario: Scenario, shell: UserShell
    ):
        [before] = scenario.live_webhooks()
        program = shell.project / self.program_file
        program.write_text(program.read_text().replace(DECLARED_URL, UPDATED_URL))

        output = shell.pulumi("up", "--yes")

        assert resource_changes(output) == {"updated": 1, "unchanged": 2}
        assert [(w["id"], w["payload_url"]) for w in scenario.live_webhooks()] == [(before["id"], UPDATED_URL)]
        assert warnings_in(output) == []

    def test_refresh_sees_the_url_changed_by_hand(self, scenario: Scenario, shell: UserShell):
        [webhook] = scenario.live_webhooks()
        scenario.outofband.patch_webhook(webhook["id"], payload_url=HAND_URL)

        output = shell.pulumi("refresh", "--yes")

        assert resource_changes(output) == {"updated": 1, "unchanged": 2}
        assert state_of(shell, "orders")["outputs"]["payloadUrl"] == HAND_URL

    def test_pulumi_import_takes_over_objects_made_by_hand_and_prints_their_code_without_the_secret(
        self, scenario: Scenario, shell: UserShell
    ):
        made = scenario.outofband.create_webhook(BY_HAND_URL, BY_HAND_SECRET)
        subscription = scenario.outofband.subscribe(made["id"], "pos.payment.completed")
        wanted = [
            {"type": "mypos:index:Webhook", "name": "byHand", "id": made["id"]},
            {"type": "mypos:index:Subscription", "name": "byHandPaid", "id": subscription["id"]},
        ]
        (shell.home / "import.json").write_text(json.dumps({"resources": wanted}))

        printed = shell.pulumi("import", "--file", str(shell.home / "import.json"), "--yes", "--protect=false")

        for code in self.imported_code:
            assert code in printed, printed
        assert BY_HAND_SECRET not in printed
        assert state_of(shell, "byHandPaid")["outputs"]["webhookId"] == made["id"]

    def test_destroy_deletes_every_object_of_the_stack(self, scenario: Scenario, shell: UserShell):
        output = shell.pulumi("destroy", "--yes")

        assert resource_changes(output) == {"deleted": 5}
        assert scenario.live_webhooks() == [] and scenario.live_subscriptions() == []


class TestTypescriptFromTheNpmPackage(FirstHour):
    program_file = "index.ts"
    imported_code = ('new mypos.Webhook("byHand"', 'new mypos.Subscription("byHandPaid"')

    def set_up(self, shell: UserShell, published: Release) -> None:
        """npm install of the package: built JavaScript and type declarations, no TypeScript sources."""
        # What `pulumi new typescript` writes (@pulumi/pulumi, TypeScript, Node's types), at the versions this
        # machine's npm cache holds; the lock file pins the third-party tree the cache has, which a registry
        # would resolve for a user.
        node_tools = json.loads((ROOT / "tools" / "node" / "package.json").read_text())
        package = {"name": "shop", "main": "index.ts", "dependencies": node_tools["dependencies"]}
        (shell.project / "package.json").write_text(json.dumps(package, indent=2))
        shutil.copy(ROOT / "tools" / "node" / "package-lock.json", shell.project / "package-lock.json")
        (shell.project / "Pulumi.yaml").write_text("name: shop\nruntime: nodejs\n")
        (shell.project / "index.ts").write_text(quickstart("typescript", "index.ts"))

        shell.run("npm", "install", "--offline", "--no-audit", "--no-fund", published.npm_package)

        installed = shell.project / "node_modules" / "@mypos-pulumi" / "mypos"
        assert (installed / "index.js").is_file() and (installed / "index.d.ts").is_file()
        assert [p.name for p in installed.rglob("*.ts") if not p.name.endswith(".d.ts")] == []  # no sources


class TestPythonFromTheSdkWheel(FirstHour):
    program_file = "__main__.py"
    imported_code = ('mypos.Webhook("byHand"', 'mypos.Subscription("byHandPaid"')

    def set_up(self, shell: UserShell, published: Release) -> None:
        """pip install of the SDK wheel into a new virtualenv: the SDK alone, not the whole package."""
        (shell.project / "Pulumi.yaml").write_text(
            "name: shop\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
        )
        (shell.project / "__main__.py").write_text(quickstart("python", "__main__.py"))

        fresh_venv(shell.project / "venv", "pulumi-mypos", release=published)

        assert {"pulumi_mypos", "pulumi"} <= installed_distributions(shell.project / "venv")
        assert "mypos_pulumi" not in installed_distributions(shell.project / "venv")


class TestGoFromTheSdkModule(FirstHour):
    program_file = "main.go"
    imported_code = ('mypos.NewWebhook(ctx, "byHand"', 'mypos.NewSubscription(ctx, "byHandPaid"')

    def set_up(self, shell: UserShell, published: Release) -> None:
        """go get of the SDK module from the release's module proxy."""
        # The module proxy is the release's; everything else comes from Go's module cache, which the set-up
        # filled. sum.golang.org cannot be reached from here, so this module's checksums are not looked up.
        shell.extra_env = {"GOPROXY": published.goproxy, "GOSUMDB": "off", "GOFLAGS": "-mod=mod -buildvcs=false"}
        (shell.project / "Pulumi.yaml").write_text("name: shop\nruntime: go\n")
        (shell.project / "main.go").write_text(quickstart("go", "main.go"))

        evict_from_module_cache(SDK_MODULE, f"v{published.version}")

        shell.run("go", "mod", "init", "shop")
        shell.run("go", "get", f"{SDK_MODULE}@v{published.version}")

        assert f"{SDK_MODULE} v{published.version}" in (shell.project / "go.mod").read_text()


def evict_from_module_cache(module: str, version: str) -> None:
    """Removes one module version from Go's module cache, which the tests share with every Go build here.

    A version in the cache is never fetched again, and each session's release differs from the last (the SDK
    names the session's server as the plugin's download URL; a change to the schema changes it too): without
    this, `go get` would hand the program an earlier session's SDK. Only these tests put this module there:
    the example programs build the SDK from sdk/ through a `replace`."""
    cache = Path(subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip())
    for path in (cache / f"{module}@{version}", cache / "cache" / "download" / module / "@v"):
        if path.exists():
            for directory in [path, *(p for p in path.rglob("*") if p.is_dir())]:
                directory.chmod(0o755)  # the go command leaves its cache read-only
            shutil.rmtree(path)


class TestYamlWithThePluginFromTheRelease(FirstHour):
    program_file = "Pulumi.yaml"
    imported_code = ("type: mypos:Webhook", "type: mypos:Subscription")

    def set_up(self, shell: UserShell, published: Release) -> None:
        """pulumi plugin install from the release's server (YAML has no package manager to name it)."""
        (shell.project / "Pulumi.yaml").write_text(quickstart("yaml", "Pulumi.yaml"))

        shell.pulumi("plugin", "install", "resource", "mypos", published.version, "--server", published.url)


# ---- Python's other entry, and the two distributions of their own --------------------------------------


class TestPythonDynamicResourcesFromThePackageWheel:
    """`pip install mypos-pulumi`, no plugin at all: the dynamic resources."""

    PROGRAM = """
import pulumi
from mypos_provider import Subscription, Webhook

orders = Webhook("orders", payload_url="https://shop.example.com/mypos/callback")
Subscription("orders-paid", webhook_id=orders.id, event="pos.payment.completed", terminal_ids=["90004889"])
pulumi.export("webhook_id", orders.id)
"""

    def test_a_project_with_the_package_from_its_wheel_deploys(
        self, scenario: Scenario, shell: UserShell, published: Release
    ):
        (shell.project / "Pulumi.yaml").write_text(
            "name: shop\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
        )
        (shell.project / "__main__.py").write_text(self.PROGRAM)
        fresh_venv(shell.project / "venv", "mypos-pulumi", release=published)
        stack_settings(shell, scenario)

        shell.pulumi("up", "--yes")

        [webhook] = scenario.live_webhooks()
        [subscription] = scenario.live_subscriptions()
        assert (subscription["webhook_id"], subscription["filter"]) == (webhook["id"], {"tids": ["90004889"]})

    def test_the_package_ran_from_the_virtualenv_not_this_checkout(self, shell: UserShell):
        imported = shell.run("venv/bin/python", "-c", "import mypos_provider; print(mypos_provider.__file__)")

        assert str(ROOT) not in imported and str(shell.project / "venv") in imported

    def test_the_verifier_and_the_emulator_came_with_it_under_both_names(self, shell: UserShell):
        help_text = shell.run("venv/bin/python", "-m", "mypos_provider.emulator", "--help")
        shell.run("venv/bin/python", "-c", "from mypos_provider.signature import verify_signature")

        assert help_text.startswith("usage: python -m mypos_provider.emulator")

    def test_destroy_deletes_what_it_made(self, scenario: Scenario, shell: UserShell):
        shell.pulumi("destroy", "--yes")

        assert scenario.live_webhooks() == []


class TestTheVerifierAndTheEmulatorInstallAlone:
    """A receiver developer's venv: no Pulumi, no gRPC, no protobuf."""

    def test_the_verifier_alone_installs_nothing_else(self, scenario: Scenario, published: Release):
        environment = fresh_venv(scenario.directory / "verifier", "mypos-signature", release=published)

        assert installed_distributions(environment) == {"mypos_signature"}

    def test_the_emulator_alone_installs_nothing_else_and_serves_a_token(self, scenario: Scenario, published: Release):
        environment = fresh_venv(scenario.directory / "emulator", "mypos-emulator", release=published)
        assert installed_distributions(environment) == {"mypos_emulator"}
        emulator = subprocess.Popen(
            [environment / "bin" / "mypos-emulator", "--port", "0", "--quiet"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=scenario.directory,
        )
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().split()[-1]  # the ready line: "... listening on URL"
            token = requests.post(
                f"{url}/oauth/token",
                auth=("DEMOCLIENTID000000000001", "DEMOCLIENTSECRET00000000000000000000000000000001"),
                data={"grant_type": "client_credentials"},
                timeout=10,
            )
        finally:
            emulator.send_signal(signal.SIGTERM)
            emulator.wait(timeout=10)

        assert token.status_code == 200 and token.json()["access_token"]


def installed_distributions(environment: Path) -> set[str]:
    """The distributions in a venv's site-packages, by their normalised names."""
    [site] = (environment / "lib").glob("python3*/site-packages")
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


def test_the_plugin_tarball_holds_a_self_contained_executable_at_its_root(tmp_path, tmp_path_factory):
    published = release(tmp_path_factory)
    shutil.unpack_archive(published.plugin_tarball, tmp_path)
    plugin = tmp_path / "pulumi-resource-mypos"

    schema = subprocess.run(
        [TOOLS / "bin" / "pulumi", "package", "get-schema", plugin],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": "/usr/bin:/bin", "PULUMI_HOME": str(tmp_path / "home")},  # no Python of ours
        check=True,
    ).stdout

    assert os.access(plugin, os.X_OK)
    assert f'"pluginDownloadURL": "{published.url}"' in schema
    assert f'"version": "{published.version}"' in schema
