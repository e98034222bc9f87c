"""Running the Pulumi CLI for the commands: the binary, a captured or streamed run, and its errors in full.

Every command of this package reads and writes stacks only through the `pulumi` CLI, so whatever backend the
project uses (a file, PostgreSQL, Pulumi Cloud) works as it does for `pulumi` itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from .backend import backend_problem, missing_backend_hint, redact
from .errors import CliError

LOCKED_MARKER = "the stack is currently locked"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def pulumi_binary(cwd: Path | None = None) -> str:
    """The `pulumi` on PATH, else the project's pinned build in .tools/bin."""
    binary = shutil.which("pulumi") or str((cwd or Path.cwd()) / ".tools" / "bin" / "pulumi")
    if not Path(binary).exists():
        raise CliError("the pulumi CLI is needed: put it on PATH (scripts/install-pulumi-cli builds the pinned one)")
    return binary


def check_backend() -> None:
    """Refuse, naming the fix, a PULUMI_BACKEND_URL the CLI would misread."""
    if problem := backend_problem(os.environ):
        raise CliError(problem)


def run_pulumi(*args: str, stdin: str | None = None, cwd: Path | None = None) -> Outcome:
    """`pulumi ARGS --non-interactive`, its output captured; the backend's password scrubbed from its errors."""
    check_backend()
    done = subprocess.run(
        [pulumi_binary(cwd), *args, "--non-interactive"],
        capture_output=True,
        text=True,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        cwd=cwd,
    )
    return Outcome(done.returncode, done.stdout, redact(done.stderr, os.environ))


def stream_pulumi(args: Sequence[str], out: TextIO) -> tuple[int, list[str]]:
    """`pulumi ARGS` with its output going to ours as it comes; its last lines are kept for diagnosis.

    The CLI runs in a session of its own, and each SIGINT or SIGTERM this process gets is passed on to it
    once: a terminal's Ctrl-C then reaches it once, not twice (twice means "stop now" to Pulumi, which leaves
    pending operations), and a second Ctrl-C still does what Pulumi says it does."""
    check_backend()
    tail: list[str] = []
    with (
        subprocess.Popen(
            [pulumi_binary(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        ) as process,
        SignalsPassedOn(process),
    ):
        assert process.stdout is not None
        for line in process.stdout:
            line = redact(line, os.environ)
            out.write(line)
            out.flush()
            tail = [*tail[-49:], line]
    return process.returncode, tail


class SignalsPassedOn:
    """While a command runs the CLI: SIGINT and SIGTERM go to the CLI, once each, instead of ending us."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._saved[signum] = signal.signal(signum, self._pass_on)

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)

    def _pass_on(self, signum: int, _frame: FrameType | None) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signum)


def parse_json(outcome: Outcome, command: str) -> dict[str, Any]:
    """The JSON a `--json` command printed, or CliError carrying the CLI's whole error."""
    try:
        parsed = json.loads(outcome.stdout)
    except json.JSONDecodeError as error:
        raise CliError(f"`pulumi {command}` failed: {error_text(outcome.stderr) or 'no JSON output'}") from error
    if not isinstance(parsed, dict):
        raise CliError(f"`pulumi {command}` printed unexpected JSON")
    return parsed


def error_text(stderr: str) -> str:
    """What the CLI said went wrong, whole: from its first `error:` line on (several lines when it lists
    several errors), else its last line."""
    lines = [line.rstrip() for line in redact(stderr, os.environ).strip().splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("error:")), None)
    text = (lines[-1].strip() if lines else "") if first is None else "\n".join(lines[first:]).strip()
    return text + missing_backend_hint(text, os.environ)
