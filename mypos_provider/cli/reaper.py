"""`python reaper.py PROGRAM ARGS...`: run the Pulumi CLI so that nothing it started outlives it (Linux).

The CLI starts its plugins (the language host, the program, the provider processes) in process groups of
their own, so a kill of the CLI, or of the job around it, leaves them behind: the provider processes that run
our code notice and exit (provider/engine_watch.py), but the others do not. The Go language host checks its
engine every few minutes, and a dynamic-provider host that the engine started but never used never loads our
code; it waits forever.

So `deploy` runs the CLI under this process, a child subreaper (PR_SET_CHILD_SUBREAPER): whatever the CLI
leaves when it ends is reparented here and ended (SIGTERM, then SIGKILL after a grace period). SIGINT and
SIGTERM are passed on to the CLI one for one (a second Ctrl-C still means "stop now" to Pulumi). When the
command that started this process dies (SIGKILL of a CI job), the parent-death signal (SIGHUP) arrives:
the CLI is killed, as it would have been inside the job's process group, and its plugins with it.

A script of its own, importing nothing of the package, so that it starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
GRACE = 2.0  # seconds a left-over process gets after SIGTERM


def main(argv: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    cli = subprocess.Popen(argv)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        if cli.poll() is None:
            cli.send_signal(signum)

    def parent_gone(_signum: int, _frame: FrameType | None) -> None:
        if cli.poll() is None:
            cli.kill()

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGHUP, parent_gone)
    code = cli.wait()
    end_left_overs()
    return code if code >= 0 else 128 - code


def end_left_overs(grace: float = GRACE) -> None:
    """SIGTERM every child of ours (the CLI's orphans, reparented here), SIGKILL those still there after
    `grace` seconds, and reap them all."""
    left = children()
    for pid in left:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while left and time.monotonic() < deadline:
        _reap()
        time.sleep(0.05)
        left = children()
    for pid in left:
        _signal(pid, signal.SIGKILL)
    while children():
        _reap()
        time.sleep(0.01)


def children() -> list[int]:
    """The processes whose parent is this one, from /proc (zombies included until reaped)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(entry))
    _reap()
    return found


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
