"""cli/reaper.py: the Pulumi CLI of `deploy` leaves no process behind, and dies with the command that ran it.

A stand-in CLI (a Python one-liner) starts a process in a session of its own, as the CLI starts its plugins.
Through the real engine: tests/team/test_interrupted_deploys.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mypos_provider.cli.pulumi as pulumi_cli

REAPER = Path(pulumi_cli.__file__).with_name("reaper.py")
# Starts a plugin-like process (that may ignore SIGTERM, as the dynamic-provider host does), prints its pid,
# then exits or waits.
CLI = (
    "import subprocess, sys, signal, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import signal, time; {plugin}; print(flush=True); time.sleep(300)'], "
    "start_new_session=True, stdout=subprocess.PIPE); p.stdout.readline(); print(p.pid, flush=True); {then}"
)
IGNORES_SIGTERM = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"

pytestmark = pytest.mark.skipif(not pulumi_cli.LINUX, reason="the reaper is Linux's (prctl)")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_what_the_cli_leaves_behind_is_ended_when_it_exits_and_its_exit_status_kept():
    done = subprocess.run(
        [sys.executable, str(REAPER), sys.executable, "-c", CLI.format(plugin="pass", then="sys.exit(3)")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    left = int(done.stdout.split()[0])
    assert done.returncode == 3
    assert not alive(left), "a process the CLI started outlived it"


def test_the_cli_and_what_it_started_die_with_the_command_that_ran_it():
    # The command (deploy) runs the reaper with its parent-death signal, as stream_pulumi does; then it is
    # killed, as a CI runner kills a job.
    cli = CLI.format(plugin=IGNORES_SIGTERM, then="time.sleep(300)")
    command = (
        "import subprocess, sys, signal, time; import mypos_provider.cli.pulumi as p; "
        f"subprocess.Popen([sys.executable, {str(REAPER)!r}, sys.executable, '-c', {cli!r}], "
        "preexec_fn=p.parent_death_signal(signal.SIGHUP), start_new_session=True); time.sleep(300)"
    )
    deploy = subprocess.Popen([sys.executable, "-c", command], stdout=subprocess.PIPE, text=True)
    assert deploy.stdout is not None
    left = int(deploy.stdout.readline())

    os.kill(deploy.pid, signal.SIGKILL)
    deploy.wait(timeout=30)

    try:
        assert gone_within(left, 20), "the CLI's plugin outlived the killed command"
    finally:
        if alive(left):
            os.kill(left, signal.SIGKILL)
