"""Engineers of a team: working copies of one Pulumi project sharing stacks in one state backend.

Each member has a project directory of their own (their clone), their own PULUMI_HOME, and runs the real
`pulumi` CLI and `python -m mypos_provider` as processes, the way a person or a CI job does. Stack config
files travel between working copies only through `pull_from` (standing in for git).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from harness.engine import PULUMI, TOOLS, copy_project, kill_processes_in, require_engine

# A program declared in code, so one source serves every stack: only stack config differs between them.
# Version 2 is "the change under review": one webhook updated, one subscription replaced (its event
# changes), one created, one deleted.
PROGRAM_TEMPLATE = """
import pulumi
from mypos_provider import Subscription, Webhook

shop = pulumi.Config("shop")
base = shop.require("baseUrl")
VERSION = {version}

orders = Webhook("orders", payload_url=f"{{base}}/orders" + ("-v2" if VERSION >= 2 else ""))
treasury = Webhook("treasury", payload_url=f"{{base}}/treasury", secret=shop.require_secret("treasurySecret"))
Subscription(
    "orders-payment",
    webhook_id=orders.id,
    event="pos.payment.failed" if VERSION >= 2 else "pos.payment.completed",
)
if VERSION >= 2:
    Subscription(
        "orders-cancelled", webhook_id=orders.id, event="pos.payment.cancelled", terminal_ids=["90004889"]
    )
else:
    Subscription("treasury-failed", webhook_id=treasury.id, event="account.out-bank-transfer.failed")
{extra}
pulumi.export("ordersId", orders.id)
pulumi.export("treasuryId", treasury.id)
pulumi.export("treasurySecret", treasury.secret)
"""


def program(version: int, *, extra_webhooks: int = 0) -> str:
    """The test program at a version, optionally with more webhooks (to make a deployment last longer)."""
    extra = "\n".join(f'Webhook("extra-{i:02}", payload_url=f"{{base}}/extra/{i:02}")' for i in range(extra_webhooks))
    return PROGRAM_TEMPLATE.format(version=version, extra=extra)


@dataclass(frozen=True)
class StackSecrets:
    """What a stack's encrypted config holds, and the passphrase of its secrets provider."""

    passphrase: str
    client_id: str
    client_secret: str
    treasury_secret: str


@dataclass
class Run:
    command: list[str]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class TeamMember:
    """One engineer (or CI job) with a working copy of the project."""

    name: str
    work_dir: Path
    home: Path
    backend_url: str
    passphrases: dict[str, str]
    provider_log: Path
    transcript: list[str] = field(default_factory=list)

    @classmethod
    def join(cls, name: str, base: Path, backend_url: str, passphrases: dict[str, str], version: int = 1) -> TeamMember:
        require_engine()
        work_dir = copy_project(base / name, program=program(version))
        return cls(name, work_dir, base / f"{name}-home", backend_url, passphrases, base / f"{name}-provider.log")

    # ---- environment --------------------------------------------------------------------------------

    def env(self, stack: str | None = None) -> dict[str, str]:
        url, password = without_password(self.backend_url)
        env = {
            **os.environ,
            "PULUMI_BACKEND_URL": url,  # docs/team.md: the password in PGPASSWORD, never in a file the CLI writes
            "PULUMI_HOME": str(self.home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PATH": f"{TOOLS / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MYPOS_LOG_FILE": str(self.provider_log),
            "MYPOS_DOTENV": str(self.work_dir / "no.env"),  # no .env of the developer's machine
        }
        for key in ("PULUMI_CONFIG_PASSPHRASE", "MYPOS_CLIENT_ID", "MYPOS_CLIENT_SECRET", "PGPASSWORD"):
            env.pop(key, None)
        if password:
            env["PGPASSWORD"] = password
        if stack is not None:
            env["PULUMI_CONFIG_PASSPHRASE"] = self.passphrases[stack]
        return env

    # ---- commands -----------------------------------------------------------------------------------

    def pulumi(self, *args: str, stack: str, check: bool = True, stdin: str | None = None) -> Run:
        return self.run(
            [str(PULUMI), *args, "--stack", stack, "--non-interactive"], stack=stack, check=check, stdin=stdin
        )

    def mypos(self, command: str, *args: str, stack: str, check: bool = False) -> Run:
        """`python -m mypos_provider COMMAND --stack STACK ...` in the working copy, as CI or an engineer runs it."""
        return self.run(
            [sys.executable, "-m", "mypos_provider", command, "--stack", stack, *args], stack=stack, check=check
        )

    def follow(self, advice: str, *, stack: str) -> Run:
        """Run a command line exactly as a command printed it (between backquotes), the way a person pastes it."""
        return self.run(["bash", "-c", advice], stack=stack, check=False)

    def start_following(self, advice: str, *, stack: str) -> Background:
        """`follow`, in the background, in a process group of its own."""
        return Background(self.start(["bash", "-c", advice], stack), self.transcript)

    def run(self, command: list[str], *, stack: str, check: bool, stdin: str | None = None) -> Run:
        done = subprocess.run(
            command,
            cwd=self.work_dir,
            env=self.env(stack),
            capture_output=True,
            text=True,
            timeout=600,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        self.transcript += [done.stdout, done.stderr]
        run = Run(command, done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command[:3])}... failed ({done.returncode}): {run.output[-3000:]}")
        return run

    def start_up(self, stack: str) -> subprocess.Popen[str]:
        """`pulumi up` in the background, in a process group of its own (so it can be killed like a CI job)."""
        return self.start([str(PULUMI), "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack], stack)

    def start_mypos(self, command: str, *args: str, stack: str) -> Background:
        """`python -m mypos_provider COMMAND --stack STACK ...` in the background, in a process group of its own
        (what a terminal or a CI runner signals), its output read line by line as it comes."""
        process = self.start([sys.executable, "-m", "mypos_provider", command, "--stack", stack, *args], stack)
        return Background(process, self.transcript)

    def start(self, command: list[str], stack: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            command,
            cwd=self.work_dir,
            env=self.env(stack),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def finish(self, process: subprocess.Popen[str]) -> Run:
        stdout, _ = process.communicate(timeout=600)
        self.transcript.append(stdout)
        return Run([str(a) for a in process.args], process.returncode, stdout, "")  # type: ignore[union-attr]

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL the CLI and everything it started, like a lost CI runner."""
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        kill_processes_in(self.work_dir)  # plugins run in process groups of their own

    # ---- stacks and working copies ------------------------------------------------------------------

    def create_stack(self, stack: str, secrets: StackSecrets, config: Mapping[str, str]) -> None:
        self.pulumi("stack", "init", "--secrets-provider", "passphrase", stack=stack)
        for key, value in config.items():
            self.pulumi("config", "set", key, value, stack=stack)
        self.pulumi("config", "set", "mypos:clientId", secrets.client_id, stack=stack)
        self.pulumi("config", "set", "--secret", "mypos:clientSecret", stack=stack, stdin=secrets.client_secret)
        self.pulumi("config", "set", "--secret", "shop:treasurySecret", stack=stack, stdin=secrets.treasury_secret)

    def pull_from(self, other: TeamMember) -> None:
        """What `git pull` does for the project: the other's program and stack files."""
        shutil.copy(other.work_dir / "__main__.py", self.work_dir / "__main__.py")
        for config_file in (other.work_dir / "stacks").glob("Pulumi.*.yaml"):
            shutil.copy(config_file, self.work_dir / "stacks" / config_file.name)

    def set_program(self, version: int, **kw: Any) -> None:
        (self.work_dir / "__main__.py").write_text(program(version, **kw))

    def resources(self, stack: str, type_name: str) -> list[dict[str, Any]]:
        exported = json.loads(self.pulumi("stack", "export", stack=stack).stdout)
        return [r for r in exported["deployment"].get("resources") or [] if r["type"].endswith(type_name)]

    def ids(self, stack: str) -> dict[str, str]:
        """Resource name -> myPOS id of the stack's webhooks and subscriptions, from its state."""
        return {r["urn"].rsplit("::", 1)[-1]: r["id"] for r in self.resources(stack, "") if "mypos:" in r["type"]}

    def log_text(self) -> str:
        return self.provider_log.read_text(errors="replace") if self.provider_log.exists() else ""

    def home_text(self) -> str:
        """Every file the CLI wrote into PULUMI_HOME (workspaces, credentials, plugins' records)."""
        files = [p for p in self.home.rglob("*") if p.is_file() and p.stat().st_size < 1_000_000]
        return "\n".join(p.read_text(errors="replace") for p in files if "plugins" not in p.parts)


def without_password(url: str) -> tuple[str, str | None]:
    """A postgres:// URL without its password, and the password (for PGPASSWORD)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    netloc = f"{parts.username}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), unquote(parts.password)


class Background:
    """A command running in its own process group; `lines` grows as it prints (kept in the transcript too)."""

    def __init__(self, process: subprocess.Popen[str], transcript: list[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._transcript = transcript
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def signal_group(self, signum: int) -> None:
        """What a terminal's Ctrl-C (SIGINT) or a CI runner's kill does: the signal to the whole group."""
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float = 300) -> Run:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=30)
        self._transcript.append(self.output)
        return Run([str(a) for a in self.process.args], code, self.output, "")  # type: ignore[union-attr]


def processes_in(directory: os.PathLike[str]) -> list[int]:
    target = os.path.realpath(directory)
    found = []
    for proc in os.listdir("/proc"):
        if not proc.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{proc}/cwd") == target:
                found.append(int(proc))
        except OSError:
            pass
    return found
