"""Running the Pulumi CLI for the commands: the binary, a captured or streamed run, and its errors in full.

Every command of this package reads and writes stacks only through the `pulumi` CLI, so whatever backend the
project uses (a file, PostgreSQL, Pulumi Cloud) works as it does for `pulumi` itself.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


@dataclass
class Streamed:
    """How a streamed run of the CLI ended."""

    code: int
    tail: list[str]  # its last lines, for diagnosis
    held: str | None = None  # what it printed but we held back: it ended before it started (a lock's refusal)
    backend_down_since: float | None = None  # monotonic time of its first "failed to save snapshot", if any
    stopped: bool = False  # we stopped it: the state backend kept failing
    collected: list[str] = field(default_factory=list)  # every line holding the `collect` marker


# What the DIY backend prints when it cannot write a checkpoint (the database stopped answering). Pulumi keeps
# trying, about half a minute per write, for minutes; nothing a deployment does after that is recorded.
BACKEND_FAILURE = "failed to save snapshot"
BACKEND_DOWN_GRACE = 10.0  # seconds after the first failed checkpoint before the deployment is stopped


def stream_pulumi(
    args: Sequence[str], out: TextIO, *, hold_until: str | None = None, collect: str | None = None
) -> Streamed:
    """`pulumi ARGS` with its output going to ours as it comes; its last lines are kept for diagnosis.

    `hold_until`: lines are held back until one contains it (the engine started); a run that ends before
    that (Pulumi refusing a locked stack) prints nothing, and what it said comes back in `held`.

    A run whose state backend fails to save a checkpoint for `BACKEND_DOWN_GRACE` seconds is stopped (the CLI
    killed, as a lost runner would be): Pulumi would otherwise retry every checkpoint for minutes, recording
    nothing, and end with a lock it cannot release either way.

    The CLI runs in a session of its own, and each SIGINT or SIGTERM this process gets is passed on to it
    once: a terminal's Ctrl-C then reaches it once, not twice (twice means "stop now" to Pulumi, which leaves
    pending operations), and a second Ctrl-C still does what Pulumi says it does. Outside our process group,
    the CLI would outlive a kill of the job's group (a CI runner's SIGKILL) and go on deploying unseen until
    its next line of output met the closed pipe, and its plugins would outlive it; so, on Linux, it runs under
    reaper.py, which kills it when this process dies and ends whatever it leaves behind."""
    check_backend()
    tail: list[str] = []
    held: list[str] | None = [] if hold_until else None
    streamed = Streamed(code=0, tail=tail)
    command = [pulumi_binary(), *args]
    if LINUX:
        command = [sys.executable, str(Path(__file__).with_name("reaper.py")), *command]
    with (
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=parent_death_signal(signal.SIGHUP) if LINUX else None,
        ) as process,
        SignalsPassedOn(process),
    ):
        assert process.stdout is not None
        watchdog: threading.Timer | None = None
        for line in process.stdout:
            line = redact(line, os.environ)
            tail = [*tail[-49:], line]
            if collect is not None and collect in line:
                streamed.collected.append(line.strip())
            if BACKEND_FAILURE in line and streamed.backend_down_since is None:
                streamed.backend_down_since = time.monotonic()
                watchdog = threading.Timer(BACKEND_DOWN_GRACE, _stop, (process, streamed))
                watchdog.daemon = True
                watchdog.start()
            if held is not None:
                held.append(line)
                if hold_until is not None and hold_until in line:
                    out.write("".join(held))
                    held = None
                continue
            out.write(line)
            out.flush()
        if watchdog is not None:
            watchdog.cancel()
    streamed.code, streamed.tail = process.returncode, tail
    if held is not None:
        streamed.held = "".join(held)
    return streamed


def _stop(process: subprocess.Popen[str], streamed: Streamed) -> None:
    """Kill the CLI the way a lost runner does: under the reaper, by the parent-death signal it acts on."""
    if process.poll() is None:
        streamed.stopped = True
        process.send_signal(signal.SIGHUP if LINUX else signal.SIGKILL)


LINUX = sys.platform.startswith("linux")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def parent_death_signal(signum: int) -> Callable[[], None]:
    """For `preexec_fn` (Linux): the child gets `signum` when this process dies. libc is looked up here,
    before the fork; the child makes one prctl call."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # we died before prctl took effect
            os.kill(os.getpid(), signum)

    return in_child


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
