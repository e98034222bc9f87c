"""Drive the real Pulumi engine (Automation API) on a temporary project, backend and PULUMI_HOME."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
PULUMI = TOOLS / "bin" / "pulumi"
PASSPHRASE = "engine-test-passphrase"


def backend_url(directory: Path) -> str:
    """A file backend in `directory`, opened with the same options as the project's own backend."""
    project_url = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["backend"]["url"]
    query = urlsplit(project_url).query
    return f"file://{directory}" + (f"?{query}" if query else "")


def require_engine() -> None:
    """Engine-backed tests fail, never skip, without the CLI: a green run must mean they ran."""
    if not PULUMI.exists():
        pytest.fail(
            "the Pulumi CLI is missing at .tools/bin/pulumi: run scripts/install-pulumi-cli "
            "(scripts/test does it for you)",
            pytrace=False,
        )


def copy_project(destination: Path, *, program: str | None = None) -> Path:
    """The repository's Pulumi project (or another program) in a directory of its own."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", destination / "Pulumi.yaml")
    if program is None:
        shutil.copy(ROOT / "__main__.py", destination / "__main__.py")
    else:
        (destination / "__main__.py").write_text(program)
    (destination / "stacks").mkdir(exist_ok=True)
    # Pulumi.yaml names ./venv; point it at the repository's venv, where the package is installed.
    (destination / "venv").symlink_to(ROOT / "venv")
    return destination


class Outcome:
    """What an up, refresh or destroy left: what it printed, and the stack's outputs and the operation's
    summary, read from the stack when first asked for (`recorded()` reads both at once)."""

    def __init__(self, stack: auto.Stack, stdout: str) -> None:
        self.stack = stack
        self.stdout = stdout

    @cached_property
    def outputs(self) -> auto.OutputMap:
        return self.stack.outputs()

    @cached_property
    def summary(self) -> auto.UpdateSummary:
        summary = self.stack.info()
        assert summary is not None, "the stack has no history"
        return summary

    def recorded(self) -> Outcome:
        """This outcome with its outputs and summary read now, for a step that reads them after others ran."""
        _ = self.outputs, self.summary
        return self


@dataclass
class Deployment:
    """One stack of a temporary project, with everything it printed and logged kept for inspection."""

    stack: auto.Stack
    work_dir: Path
    backend_dir: Path
    provider_log: Path
    output: list[str] = field(default_factory=list)

    # ---- operations (every line the CLI prints is kept) ---------------------------------------------

    def up(
        self,
        *,
        target: list[str] | None = None,
        replace: list[str] | None = None,
        expect_no_changes: bool = False,
        parallel: int | None = None,
    ) -> Outcome:
        flags = [f"--target={urn}" for urn in target or []] + [f"--replace={urn}" for urn in replace or []]
        flags += ["--expect-no-changes"] if expect_no_changes else []
        return self._operation("up", *flags, parallel=parallel)

    def preview(self, **kw: Any) -> auto.PreviewResult:
        return self.stack.preview(on_output=self.output.append, color="never", **kw)

    def refresh(self, *, parallel: int | None = None) -> Outcome:
        return self._operation("refresh", parallel=parallel)

    def destroy(self, *, parallel: int | None = None) -> Outcome:
        return self._operation("destroy", parallel=parallel)

    def _operation(self, command: str, *flags: str, parallel: int | None = None) -> Outcome:
        """`pulumi COMMAND --yes --skip-preview` as the Automation API runs it (same CLI, environment and
        CommandError on failure), without the three CLI calls it makes after every operation to read the
        outputs and the summary: Outcome reads those only when a test asks."""
        args = [command, "--yes", "--skip-preview", *flags, "--color", "never", "--exec-kind", "auto.local"]
        args += [f"--parallel={parallel}"] if parallel is not None else []
        done = self.stack._run_pulumi_cmd_sync(args, self.output.append)  # noqa: SLF001 - the SDK is pinned
        return Outcome(self.stack, done.stdout)

    def set_webhooks(self, webhooks: list[Mapping[str, Any]]) -> None:
        # Through stdin: a thousand webhooks are more than one command-line argument may hold.
        secret = ["--secret"] if any("secret" in w for w in webhooks) else ["--plaintext"]
        self.cli("config", "set", *secret, "mypos:webhooks", "--stack", self.stack.name, stdin=json.dumps(webhooks))

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        self.stack.set_config(key, auto.ConfigValue(value, secret=secret))

    # ---- what an attacker could read ----------------------------------------------------------------

    def state_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.backend_dir.rglob("*") if p.is_file())

    def export_text(self) -> str:
        """`pulumi stack export` as a user runs it (the Automation API's export adds --show-secrets)."""
        return self.cli("stack", "export", "--stack", self.stack.name)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        env = {**os.environ, **self.stack.workspace.env_vars, "PULUMI_HOME": str(self.stack.workspace.pulumi_home)}
        done = subprocess.run(
            [str(PULUMI), *args, "--non-interactive"],
            cwd=self.work_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            input=stdin,
        )
        if done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def cli_env(self) -> dict[str, str]:
        """The environment a user's shell has in this project: the stack's backend, passphrase and CLI (the
        workspace's PATH, engine_env's or the deployment's own)."""
        return {**os.environ, **self.stack.workspace.env_vars, "PULUMI_HOME": str(self.stack.workspace.pulumi_home)}

    def mypos(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m mypos_provider ARGS` run in the project, as a user would; never raises on failure."""
        return subprocess.run(
            [sys.executable, "-m", "mypos_provider", *args],
            cwd=self.work_dir,
            env=self.cli_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def log_text(self) -> str:
        return self.provider_log.read_text(errors="replace") if self.provider_log.exists() else ""

    def cli_text(self) -> str:
        return "\n".join(self.output)

    def leaked(self, secrets: Iterable[str]) -> list[str]:
        """Where any of the secrets appears in plaintext: state files, stack export, CLI output, provider log."""
        places = {
            "state files": self.state_text(),
            "stack export": self.export_text(),
            "CLI output": self.cli_text(),
            "provider log": self.log_text(),
        }
        return [
            f"{name} contains {secret[:4]}..."
            for secret in secrets
            if secret
            for name, text in places.items()
            if secret in text
        ]

    def resources(self, type_name: str) -> list[dict[str, Any]]:
        deployment = self.stack.export_stack().deployment
        return [r for r in deployment.get("resources", []) if r["type"].endswith(type_name)]


def new_deployment(
    tmp_path: Path,
    *,
    auth_url: str,
    client_id: str,
    client_secret: str,
    webhooks: list[Mapping[str, Any]] | None = None,
    program: str | None = None,
    stack_name: str = "test",
    extra_env: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> Deployment:
    require_engine()
    work_dir = project_dir or copy_project(tmp_path / "project", program=program)
    backend = tmp_path / "backend"
    provider_log = tmp_path / "provider.log"
    env = {
        "MYPOS_LOG_FILE": str(provider_log),
        # No ambient credentials or .env of the developer's machine may leak into a test.
        "MYPOS_DOTENV": str(tmp_path / "no.env"),
        **(extra_env or {}),
    }
    options = workspace_options(tmp_path, work_dir, backend, env)
    stack = auto.create_stack(stack_name, work_dir=str(work_dir), opts=options)
    deployment = Deployment(stack, work_dir, backend, provider_log)
    config = {
        "mypos:authUrl": auto.ConfigValue(auth_url),
        "mypos:apiUrl": auto.ConfigValue(auth_url.rstrip("/") + "/v1"),
        "mypos:clientId": auto.ConfigValue(client_id),
        "mypos:clientSecret": auto.ConfigValue(client_secret, secret=True),
    }
    stack.set_all_config(config)  # one CLI call instead of one per key
    if webhooks is not None:
        deployment.set_webhooks(webhooks)
    return deployment


def engine_env(backend: Path) -> dict[str, str]:
    """What the tests give the CLI besides PULUMI_HOME: a file backend in `backend` (created), passphrase
    secrets, the pinned CLI and hosts first on PATH, and neither update checks nor plugin downloads."""
    backend.mkdir(exist_ok=True)
    return {
        "PULUMI_BACKEND_URL": backend_url(backend),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": f"{TOOLS / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def workspace_options(
    tmp_path: Path, work_dir: Path, backend: Path, extra_env: Mapping[str, str] | None = None
) -> auto.LocalWorkspaceOptions:
    """A workspace on the pinned CLI (engine_env) with a PULUMI_HOME of its own in `tmp_path`."""
    return auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        pulumi_home=str(tmp_path / "pulumi-home"),
        env_vars={**engine_env(backend), **(extra_env or {})},
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(TOOLS)),
    )


def kill_processes_in(directory: os.PathLike[str]) -> None:
    """SIGKILL every process whose working directory is the project's (the engine's plugins)."""
    target = os.path.realpath(directory)
    for proc in os.listdir("/proc"):
        if not proc.isdigit() or int(proc) == os.getpid():
            continue
        try:
            if os.path.realpath(f"/proc/{proc}/cwd") == target:
                os.kill(int(proc), signal.SIGKILL)
        except OSError:
            pass
