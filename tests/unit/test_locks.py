"""cli/locks.py: whose lock it is, and whether that deployment is alive (never advise `pulumi cancel` on a live one)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mypos_provider.cli import locks
from mypos_provider.cli.errors import StackLocked, dead_lock_procedure, locked_message

NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
REFUSAL = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the "
    "lock file with `pulumi cancel`.\n"
    "  postgres://****:****@127.0.0.1:5432/pulumi/.pulumi/locks/organization/p/rel/1b2c.json: created by "
    "root@vm-7 (pid 25602) at 2026-03-02T09:58:11.123456789Z\n"
)


def holder(host: str = "elsewhere", pid: int = 4242, taken: datetime = NOW) -> locks.LockHolder:
    return locks.LockHolder("ci", host, pid, taken)


def never(_pid: int) -> bool:
    return False


def always(_pid: int) -> bool:
    return True


def test_the_refusal_of_a_locked_stack_names_user_host_pid_and_time():
    [found] = locks.parse_refusal(REFUSAL)

    assert found == locks.LockHolder("root", "vm-7", 25602, datetime(2026, 3, 2, 9, 58, 11, 123456, tzinfo=UTC))


def test_a_file_backends_lock_url_with_a_query_is_read_too():
    line = (
        "  file:///s/.pulumi/locks/organization/p/s/a.json?no_tmp_dir=true: created by u@h (pid 7) at "
        "2026-01-01T10:00:00Z"
    )

    assert [(h.host, h.pid) for h in locks.parse_refusal(line)] == [("h", 7)]


def test_on_this_host_a_running_pid_is_alive_and_a_dead_one_is_gone():
    here = holder(host="here")

    alive = locks.assess(here, this_host="here", running=always, last_checkpoint=None, now=NOW)
    gone = locks.assess(here, this_host="here", running=never, last_checkpoint=None, now=NOW)

    assert alive.alive and "pid 4242 is a running pulumi process on this host" in alive.reason
    assert not gone.alive and "pid 4242 no longer runs on this host" in gone.reason


def test_on_this_host_a_recent_checkpoint_does_not_revive_a_dead_pid():
    verdict = locks.assess(holder(host="here"), this_host="here", running=never, last_checkpoint=NOW, now=NOW)

    assert not verdict.alive


def test_elsewhere_a_checkpoint_within_the_window_means_alive():
    taken = NOW - timedelta(hours=1)
    verdict = locks.assess(
        holder(taken=taken), this_host="here", running=never, last_checkpoint=NOW - timedelta(minutes=3), now=NOW
    )

    assert verdict.alive and "within 10 minutes" in verdict.reason


def test_elsewhere_a_lock_taken_within_the_window_is_alive_before_its_first_checkpoint():
    verdict = locks.assess(
        holder(taken=NOW - timedelta(seconds=40)),
        this_host="here",
        running=never,
        last_checkpoint=NOW - timedelta(days=2),
        now=NOW,
    )

    assert verdict.alive


def test_elsewhere_a_stack_silent_for_longer_than_the_window_is_presumed_gone():
    verdict = locks.assess(
        holder(taken=NOW - timedelta(hours=1)),
        this_host="here",
        running=always,  # a pid on another host says nothing here
        last_checkpoint=NOW - timedelta(minutes=11),
        now=NOW,
    )

    assert not verdict.alive and "more than 10 minutes" in verdict.reason


def test_this_process_is_not_a_pulumi_process_and_a_pid_that_does_not_exist_is_not_running():
    assert not locks.pulumi_running(os.getpid())  # python, not pulumi: a reused pid is not the lock's holder
    assert not locks.pulumi_running(2**22 + 1)


def test_a_live_lock_is_never_advised_away():
    live = locks.AssessedLock(holder(), locks.Liveness(True, "it is running"))

    message = str(StackLocked("rel", [live]))

    assert "alive" in message and "pulumi cancel" not in message and "--release-dead-lock" not in message
    assert "python -m mypos_provider deploy --stack rel --wait" in message


def test_a_lock_without_a_named_holder_is_treated_as_alive():
    message = locked_message("rel", [], "nothing was deployed")

    assert "alive" in message and "--release-dead-lock" not in message


def test_a_gone_lock_gets_the_one_command_procedure():
    gone = locks.AssessedLock(holder(), locks.Liveness(False, "pid 4242 no longer runs on this host"))

    message = str(StackLocked("rel", [gone]))

    assert "that is gone" in message and dead_lock_procedure("rel") in message
    assert dead_lock_procedure("rel") == (
        "python -m mypos_provider recover --stack rel --release-dead-lock && "
        "python -m mypos_provider deploy --stack rel"
    )


def test_a_file_backends_locks_are_read_from_its_directory(tmp_path):
    directory = tmp_path / "state" / ".pulumi" / "locks" / "organization" / "proj" / "rel"
    directory.mkdir(parents=True)
    record = {"pid": 12, "username": "ci", "hostname": "runner-1", "timestamp": "2026-03-02T09:00:00.5Z"}
    (directory / "x.json").write_text(json.dumps(record))

    found = locks.read_holders("rel", f"file://{tmp_path / 'state'}?metadata=skip", "proj", {})
    other = locks.read_holders("other", f"file://{tmp_path / 'state'}", "proj", {})

    assert [(h.user, h.host, h.pid) for h in found] == [("ci", "runner-1", 12)]
    assert other == []


def test_a_backend_that_cannot_be_read_here_says_so_with_none():
    assert locks.read_holders("rel", "s3://bucket/state", "proj", {}) is None
    assert locks.read_holders("rel", None, "proj", {}) is None


def test_the_projects_relative_file_backend_is_resolved_from_the_project_directory(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: shop\nruntime: python\nbackend:\n  url: file://./.state?metadata=skip\n"
    )

    assert locks.project_name(tmp_path) == "shop"
    assert locks.backend_url_of({}, tmp_path) == f"file://{tmp_path / '.state'}?metadata=skip"
    assert locks.backend_url_of({"PULUMI_BACKEND_URL": "postgres://u@h/db"}, tmp_path) == "postgres://u@h/db"


def test_assess_all_uses_this_hosts_name():
    here = holder(host=socket.gethostname(), pid=2**22 + 1)

    [assessed] = locks.assess_all([here], None, now=NOW)

    assert not assessed.liveness.alive


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc")
def test_a_running_pulumi_named_process_is_alive(tmp_path):
    program = tmp_path / "pulumi"
    os.symlink("/bin/sleep", program)
    sleeper = subprocess.Popen([str(program), "30"])
    try:
        assert locks.pulumi_running(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not locks.pulumi_running(sleeper.pid)
