"""The release as users get it: scripts/dist's artifacts, built once per test session, served by a local HTTP
server that stands in for everything that would serve them after a release (GitHub release assets, npm, PyPI
and a Go module proxy, for our own packages), and a user's shell in a new project outside the repository.

The artifacts are built with MYPOS_PLUGIN_DOWNLOAD_URL pointing at that server, so every SDK tells the engine
to download the plugin from it, as the published ones name GitHub releases. Third-party packages come from
what the set-up scripts cached (scripts/wheelhouse for Python, the npm cache of scripts/install-node-sdk, Go's
module cache): tests never reach a registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.engine import PASSPHRASE, ROOT, TOOLS, backend_url
from harness.workers import computed_once, coordination_dir

WHEELHOUSE = TOOLS / "wheelhouse"
SERVER = Path(__file__).with_name("release_server.py")


def session_pid() -> int:
    """The pytest process that outlives every test of the session: xdist's controller, or pytest itself."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


@dataclass(frozen=True)
class Release:
    """scripts/dist's output and the server of it."""

    dist: Path
    url: str  # http://127.0.0.1:PORT/, the artifacts' plugin download URL
    requests_log: Path
    version: str

    @property
    def plugin_tarball(self) -> Path:
        [tarball] = self.dist.glob(f"pulumi-resource-mypos-v{self.version}-*.tar.gz")
        return tarball

    @property
    def npm_package(self) -> Path:
        return self.dist / f"mypos-pulumi-mypos-{self.version}.tgz"

    @property
    def goproxy(self) -> str:
        return f"{self.url}goproxy"

    def downloads(self) -> list[str]:
        """The path of every GET the server answered, oldest first."""
        return self.requests_log.read_text().splitlines() if self.requests_log.exists() else []


def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The session's release: its server started and scripts/dist run by the first worker that asks."""

    def build() -> dict[str, str]:
        directory = coordination_dir(tmp_path_factory) / "release"
        dist = directory / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        requests_log = directory / "requests.log"
        server = subprocess.Popen(
            [
                sys.executable,
                str(SERVER),
                str(dist),
                "--requests",
                str(requests_log),
                "--parent-pid",
                str(session_pid()),
            ],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # outlives this worker; ends with the session
        )
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/"
        built = subprocess.run(
            [str(ROOT / "scripts" / "dist"), str(dist)],
            env={**os.environ, "MYPOS_PLUGIN_DOWNLOAD_URL": url},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert built.returncode == 0, built.stderr
        return {"dist": str(dist), "url": url, "requests_log": str(requests_log)}

    built = computed_once(tmp_path_factory, "release", build)
    import mypos_provider

    return Release(Path(built["dist"]), built["url"], Path(built["requests_log"]), mypos_provider.__version__)


def fresh_venv(directory: Path, *requirements: str, release: Release) -> Path:
    """A virtualenv in `directory` holding `requirements` (and their dependencies) from the release and the
    wheelhouse only, installed as from an index: no index is reachable, nothing comes from this checkout."""
    if not WHEELHOUSE.is_dir():
        pytest.fail("the wheelhouse is missing at .tools/wheelhouse: run scripts/wheelhouse", pytrace=False)
    venv.create(directory, with_pip=False)  # this venv's pip installs into it (--python): quicker than ensurepip
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(directory / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # bytecode is written as programs import it: only for what they use
            "--no-index",
            "--find-links",
            str(release.dist),
            "--find-links",
            str(WHEELHOUSE),
            *requirements,
        ],
        check=True,
        timeout=600,
    )
    return directory


def typed(command: tuple[str | os.PathLike[str], ...]) -> str:
    """A command as a failure message shows it: the value of `config set --secret KEY VALUE` masked."""
    words = [os.fspath(c) for c in command]
    if "--secret" in words and len(words) > words.index("--secret") + 2:
        words[words.index("--secret") + 2] = "[secret]"
    return " ".join(words)


@dataclass
class UserShell:
    """A new user's terminal in a project directory outside the repository: the pinned Pulumi CLI and
    language hosts on PATH (nothing of this checkout's venv), a PULUMI_HOME of its own, automatic plugin
    acquisition on, a file backend and passphrase secrets. Everything it prints is kept (what was typed is
    not: `pulumi config set --secret` takes the secret on the command line, as the README has it)."""

    project: Path
    home: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        venv_bin = (ROOT / "venv" / "bin").resolve()
        path = [str(TOOLS / "bin")] + [
            p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MYPOS_", "VIRTUAL_ENV"))}
        backend = self.home / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        return {
            **env,
            "PATH": os.pathsep.join(path),
            "PULUMI_HOME": str(self.home / "pulumi-home"),
            "PULUMI_BACKEND_URL": backend_url(backend),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "MYPOS_DOTENV": str(self.home / "no.env"),
            **self.extra_env,
        }

    def run(self, *command: str | os.PathLike[str], check: bool = True, timeout: float = 300) -> str:
        """Runs the command in the project; its output (stdout and stderr together) is returned and kept."""
        done = subprocess.run(
            [os.fspath(c) for c in command],
            cwd=self.project,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        self.outputs.append(done.stdout)
        if check and done.returncode != 0:
            raise AssertionError(f"{typed(command)} exited {done.returncode}:\n{done.stdout}")
        return done.stdout

    def pulumi(self, *args: str, check: bool = True) -> str:
        return self.run(TOOLS / "bin" / "pulumi", *args, "--non-interactive", check=check)

    def new_stack(self, name: str, *, auth_url: str, client_id: str, client_secret: str) -> None:
        """`pulumi stack init` and the provider's four settings, as the README's quick start has them."""
        self.pulumi("stack", "init", name)
        for key, value in (
            ("mypos:authUrl", auth_url),
            ("mypos:apiUrl", auth_url.rstrip("/") + "/v1"),
            ("mypos:clientId", client_id),
        ):
            self.pulumi("config", "set", key, value)
        self.pulumi("config", "set", "--secret", "mypos:clientSecret", client_secret)

    def text(self) -> str:
        return "\n".join(self.outputs)

    def files_text(self) -> str:
        """Every file the tools wrote under the project and the shell's home (state, config, workspaces), but
        the packages they installed (node_modules, the venv, the plugin cache)."""
        installed = {"node_modules", "venv", "plugins"}
        roots: Iterable[Path] = (self.project, self.home)
        return "\n".join(
            p.read_text(errors="replace")
            for root in roots
            for p in root.rglob("*")
            if p.is_file() and not installed.intersection(p.parts)
        )

    def leaked(self, secrets: Iterable[str]) -> list[str]:
        """Where any of the secrets appears in plaintext: what the shell printed, or a file the tools wrote."""
        places = {"the shell's output": self.text(), "files the tools wrote": self.files_text()}
        return [
            f"{name} contains {secret[:4]}..."
            for secret in secrets
            if secret
            for name, text in places.items()
            if secret in text
        ]
