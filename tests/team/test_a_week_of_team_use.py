"""Scenario: a team's week on one stack, through the real CLI on PostgreSQL, where every path ends with exactly
the declared objects, each once, and every step's printed advice is followed literally (copied from between
its backquotes and run in a shell, as a person pastes it).

* Monday: two people deploy at once. Bob meets Alice's live lock: he is told to wait, never to cancel; his
  recover and drift change nothing and call nothing drift; `deploy --wait` waits for her, then deploys.
* Wednesday: a create gets no answer (the deploy says it is unresolved and when to check again); a deploy is
  killed with two creates held by myPOS past every look-up; the printed procedure resumes it; then myPOS
  commits all three late. drift and list name them as duplicates, and recover deletes exactly them.
* Friday: the database stops mid-deploy: the deploy is stopped within a minute of its first failed checkpoint
  and names the lock and the procedure; once the database is back, that procedure converges.

The team has a PostgreSQL server of its own (Friday stops it). myPOS holds a create with a `slow` fault of a
long delay, and answers (commits) it when the test sets the rules again: never a fixed sleep.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from team.conftest import Team, assert_converged, new_state_database, open_team

from harness.emulator import EmulatorControl
from harness.engine import kill_processes_in
from harness.postgres import PostgresServer
from harness.team import Background, TeamMember, processes_in
from mypos_emulator import Emulator

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

STACK = "sandbox"
WAIT = f"python -m mypos_provider deploy --stack {STACK} --wait"
PROCEDURE = (
    f"python -m mypos_provider recover --stack {STACK} --release-dead-lock && "
    f"python -m mypos_provider deploy --stack {STACK}"
)


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """A team on a PostgreSQL server of its own, which Friday stops and starts."""
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="mypos-test-pg-week-")))
    server.start()
    try:
        with (
            Emulator(port=0).start() as emulator,
            new_state_database(server) as database,
            open_team(tmp_path_factory.mktemp("week"), emulator, EmulatorControl(emulator.url), database) as team,
        ):
            yield team
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def alice(week: Team) -> Iterator[TeamMember]:
    """Alice of the week's team; whatever a failed step left running in either clone is killed after."""
    yield week.alice
    for member in week.members:
        kill_processes_in(member.work_dir)


@pytest.fixture(scope="module")
def bob(week: Team) -> TeamMember:
    return week.bob


@pytest.fixture(scope="module")
def running() -> dict[str, Background]:
    """Commands a step starts in the background and a later step waits for."""
    return {}


def hold_webhook_creates(team: Team, times: int) -> None:
    """myPOS holds the next `times` webhook creates unanswered (and uncommitted) until the rules change."""
    team.control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 600, "times": times}])


def held(team: Team) -> int:
    rules = team.control.ok("GET", "/faults")["rules"]
    return rules[0]["fired"] if rules else 0


def answer_held_creates(team: Team) -> None:
    """myPOS commits and answers every create it holds: now, late."""
    team.control.clear_faults()


def live_webhooks(team: Team) -> list[dict[str, Any]]:
    return team.control.live_webhooks(team.accounts[STACK].client_id)


def quoted(text: str, containing: str) -> str:
    """The one command between backquotes in `text` that contains `containing`: what a person copies."""
    [command] = {part for part in text.split("`") if containing in part and part.startswith("python -m")}
    return command


# ---- Monday: two people deploy at once -------------------------------------------------------------------


def test_monday_bob_meets_alices_live_lock_and_is_told_to_wait_never_to_cancel(week, alice, bob, running, wait_until):
    alice.set_program(1, extra_webhooks=1)
    bob.pull_from(alice)
    hold_webhook_creates(week, times=1)
    running["alice"] = alice.start_mypos("deploy", stack=STACK)
    wait_until(lambda: held(week) == 1 or running["alice"].process.poll() is not None, timeout=120)
    assert running["alice"].process.poll() is None, running["alice"].output

    refused = bob.mypos("deploy", stack=STACK)

    assert refused.code == 1
    assert "stack sandbox is locked by a deployment that is alive, so nothing was deployed" in refused.stderr
    assert "is a running pulumi process on this host" in refused.stderr
    assert f"`{WAIT}`" in refused.stderr
    assert "pulumi cancel" not in refused.output and "--release-dead-lock" not in refused.output


def test_monday_bobs_recover_and_drift_during_her_deploy_change_nothing_and_call_nothing_drift(week, bob, running):
    writes = len(week.control.writes())

    recovered = bob.mypos("recover", "--delete-duplicates", "--yes", stack=STACK)
    checked = bob.mypos("drift", stack=STACK)

    assert running["alice"].process.poll() is None, "Alice's deploy ended early: the steps prove nothing"
    assert recovered.code == 1 and "that is alive, so nothing was changed" in recovered.stderr
    assert checked.code == 3, checked.output
    assert "### Not checked: a deployment of `sandbox` is running" in checked.stdout
    assert "differ from the stack" not in checked.stdout and "added by hand" not in checked.stdout
    assert len(week.control.writes()) == writes


def test_monday_following_the_advice_bob_waits_for_alice_then_deploys_and_each_object_exists_once(
    week, alice, bob, running, wait_until
):
    waiting = bob.start_following(WAIT, stack=STACK)
    wait_until(lambda: "waiting for the deployment that holds the lock of sandbox" in waiting.output, timeout=60)

    answer_held_creates(week)
    alices, bobs = running.pop("alice").wait(), waiting.wait()

    assert alices.code == 0, alices.output[-3000:]
    assert bobs.code == 0, bobs.output[-3000:]
    assert "alive" in bobs.output and "pulumi cancel" not in bobs.output
    creates = [r for r in week.control.requests() if r["method"] == "POST" and r["path"] == "/v1/webhooks"]
    assert len(creates) == 3, "each webhook created once, by Alice; Bob's deploy found nothing to do"
    assert_converged(week, STACK, webhooks=3, subscriptions=2)


# ---- Wednesday: answers that come late ---------------------------------------------------------------------


def test_wednesday_a_create_that_got_no_answer_is_reported_unresolved_with_when_to_check_again(week, alice):
    alice.pulumi("config", "set", "mypos:timeout", "3", stack=STACK)  # give up on an answer after 3 s
    alice.set_program(1, extra_webhooks=2)
    # Wednesday's webhook creates: the first is held (its resend passes), then the killed deploy's two are held.
    # One rule for the day: setting rules again would answer what they hold.
    week.control.set_faults(
        [
            {
                "method": "POST",
                "path": "/v1/webhooks",
                "kind": "slow",
                "delay": 600,
                "sequence": [True, False, True, True],
            }
        ]
    )

    deployed = alice.mypos("deploy", stack=STACK)

    assert deployed.code == 0, deployed.output[-3000:]
    assert "note: 1 create(s) of this deployment are unresolved" in deployed.stderr
    assert "an earlier attempt of this create got no answer and was not found" in deployed.stderr
    assert "Check again after" in deployed.stderr
    assert_converged(week, STACK, webhooks=4, subscriptions=2)  # the held attempt is not committed yet


def test_wednesday_a_deploy_killed_with_creates_held_past_every_look_up_is_resumed_by_the_printed_procedure(
    week, alice, wait_until
):
    alice.pulumi("config", "rm", "mypos:timeout", stack=STACK)
    alice.set_program(1, extra_webhooks=4)
    job = alice.start_mypos("deploy", stack=STACK)
    wait_until(lambda: held(week) == 3 or job.process.poll() is not None, timeout=120)
    assert job.process.poll() is None, job.output
    job.signal_group(signal.SIGKILL)  # a lost CI runner
    job.wait()
    wait_until(lambda: not processes_in(alice.work_dir), timeout=30, interval=0.2)

    refused = alice.mypos("deploy", stack=STACK)
    assert refused.code == 1 and "locked by a deployment that is gone" in refused.stderr, refused.output
    assert "pulumi cancel" not in refused.output
    followed = alice.follow(quoted(refused.stderr, "--release-dead-lock"), stack=STACK)

    assert followed.code == 0, followed.output[-3000:]
    assert followed.stdout.count(": made now, webhook") == 2, followed.stdout
    assert "now run `python -m mypos_provider deploy --stack sandbox`" in followed.stdout
    assert_converged(week, STACK, webhooks=6, subscriptions=2)


def test_wednesday_the_late_commits_are_named_duplicates_by_drift_and_list_never_added_by_hand(week, alice, wait_until):
    answer_held_creates(week)
    wait_until(lambda: len(live_webhooks(week)) == 6 + 3, timeout=30)

    checked = alice.mypos("drift", stack=STACK)
    listed = alice.mypos("list", stack=STACK)

    assert checked.code == 1, checked.output
    assert "0 differ from the stack, 3 duplicate(s), 0 not managed by any stack" in checked.stdout
    assert "added by hand" not in checked.stdout
    for name in ("extra-01", "extra-02", "extra-03"):
        assert f"duplicate of `{name}`" in checked.stdout
    assert listed.code == 0 and listed.stdout.count("DUPLICATE of stack sandbox's extra-0") == 3
    recorded = set(alice.ids(STACK).values())
    for late in (w for w in live_webhooks(week) if w["id"] not in recorded):
        assert f"adopt_id={late['id']!r}" not in listed.stdout, "a duplicate is never offered for adoption"


def test_wednesday_recover_lists_the_duplicates_and_its_printed_command_deletes_exactly_them(week, alice):
    looked = alice.mypos("recover", "--delete-duplicates", stack=STACK)
    assert looked.code == 0, looked.output
    assert "3 duplicate(s) in the account (dry run)" in looked.stdout and "nothing was deleted" in looked.stdout
    assert len(live_webhooks(week)) == 9

    deleted = alice.follow(quoted(looked.stdout, "--yes"), stack=STACK)

    assert deleted.code == 0, deleted.output
    assert deleted.stdout.count("deleted the duplicate webhook") == 3
    assert_converged(week, STACK, webhooks=6, subscriptions=2)
    assert alice.mypos("drift", stack=STACK).code == 0


# ---- Friday: the database stops --------------------------------------------------------------------------


def test_friday_a_deploy_whose_database_stops_is_stopped_naming_the_lock_and_the_procedure(week, alice, wait_until):
    alice.set_program(1, extra_webhooks=5)
    hold_webhook_creates(week, times=1)
    job = alice.start_mypos("deploy", stack=STACK)
    wait_until(lambda: held(week) == 1 or job.process.poll() is not None, timeout=120)
    assert job.process.poll() is None, job.output

    week.database.server.stop()
    answer_held_creates(week)  # myPOS makes the webhook; the deployment cannot record it
    done = job.wait(timeout=300)

    assert done.code == 1
    assert "failed to save snapshot" in done.output
    assert "it was stopped 10 s after the first `failed to save snapshot`" in done.output
    assert "The lock this run took" in done.output
    assert done.output.strip().splitlines()[-1].strip() == PROCEDURE


def test_friday_once_the_database_is_back_the_printed_procedure_ends_with_exactly_the_declared_objects(week, alice):
    week.database.server.start()

    followed = alice.follow(PROCEDURE, stack=STACK)

    assert followed.code == 0, followed.output[-3000:]
    assert "released the lock of" in followed.stdout and "extra-04: webhook" in followed.stdout
    assert_converged(week, STACK, webhooks=7, subscriptions=2)
    assert week.database.lock_keys() == []
    assert alice.mypos("drift", stack=STACK).code == 0
