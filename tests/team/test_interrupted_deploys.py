"""Scenario: `python -m mypos_provider deploy --stack sandbox` interrupted while myPOS holds back the answer to a
create, each of the three ways docs/team.md (section 7) names, on the PostgreSQL backend: Ctrl-C once, Ctrl-C
twice (and a plain `pulumi up` past what that left), SIGKILL of the job's process group. Every way ends, by
the documented procedure, with exactly the declared objects in the account, each once.

The first interruption is the stack's first deploy; each later one adds a webhook (`extra-NN`) to the
program. One webhook create is in flight when the signal comes: the emulator commits it at once and answers
seconds later (a `commit_then_fail` fault). Held back 2 s where the run waits for it, 30 s where it does not.
"""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from harness.team import Background, TeamMember, processes_in

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

STACK = "sandbox"
RECOVER = f"python -m mypos_provider recover --stack {STACK}"
CANCELLING = "press ^C again"  # what the Pulumi CLI prints on the first Ctrl-C


def hold_back_webhook_creates(team, seconds: float) -> None:
    """The next webhook create commits at once; its answer comes `seconds` later."""
    team.control.set_faults(
        [
            {
                "method": "POST",
                "path": "/v1/webhooks",
                "kind": "commit_then_fail",
                "then": "slow",
                "delay": seconds,
                "times": 1,
            }
        ]
    )


def create_in_flight(team) -> bool:
    return team.control.ok("GET", "/faults")["rules"][0]["fired"] == 1


def deploy_with_a_create_in_flight(
    team, alice: TeamMember, wait_until, extra_webhooks: int, held_back: float
) -> Background:
    alice.set_program(1, extra_webhooks=extra_webhooks)
    hold_back_webhook_creates(team, held_back)
    job = alice.start_mypos("deploy", stack=STACK)
    wait_until(lambda: create_in_flight(team) or job.process.poll() is not None, timeout=120)
    assert job.process.poll() is None, f"the deploy ended before its create was in flight: {job.output}"
    return job


def pending_operations(member: TeamMember) -> list[dict[str, Any]]:
    exported = json.loads(member.pulumi("stack", "export", stack=STACK).stdout)
    return exported["deployment"].get("pending_operations") or []


# ---- Ctrl-C once ------------------------------------------------------------------------------------------


def test_ctrl_c_once_lets_the_create_in_flight_finish_and_be_recorded(team_scenario, alice, wait_until):
    job = deploy_with_a_create_in_flight(team_scenario, alice, wait_until, extra_webhooks=0, held_back=2)

    job.signal_group(signal.SIGINT)
    done = job.wait()

    assert "update canceled" in done.stdout, done.stdout[-3000:]
    assert pending_operations(alice) == []
    assert team_scenario.database.lock_keys() == []
    live = {w["payload_url"] for w in team_scenario.control.live_webhooks(team_scenario.accounts[STACK].client_id)}
    recorded = {r["outputs"]["payload_url"] for r in alice.resources(STACK, "Webhook")}
    assert recorded == live != set(), "the create in flight was recorded, not left pending"


def test_the_deploy_after_one_ctrl_c_carries_on_to_exactly_the_declared_objects(
    team_scenario, alice, scenario_converged
):
    deployed = alice.mypos("deploy", stack=STACK)

    assert deployed.code == 0, deployed.output[-3000:]
    scenario_converged(STACK, webhooks=2, subscriptions=2)


# ---- Ctrl-C twice -----------------------------------------------------------------------------------------


def test_ctrl_c_twice_stops_at_once_and_leaves_the_create_in_flight_pending(team_scenario, alice, wait_until):
    job = deploy_with_a_create_in_flight(team_scenario, alice, wait_until, extra_webhooks=1, held_back=30)

    job.signal_group(signal.SIGINT)
    wait_until(lambda: CANCELLING in job.output, timeout=30)
    job.signal_group(signal.SIGINT)
    done = job.wait()

    assert done.code != 0
    assert f"left 1 pending operation(s): run `{RECOVER}`" in done.stdout, done.stdout[-3000:]
    assert [op["type"] for op in pending_operations(alice)] == ["creating"]
    assert team_scenario.database.lock_keys() == []


def test_the_next_deploy_is_refused_and_names_recover(team_scenario, alice):
    team_scenario.control.clear_requests()

    refused = alice.mypos("deploy", stack=STACK)

    assert refused.code == 1
    assert RECOVER in refused.stderr
    assert team_scenario.control.writes() == []


def test_recover_dry_run_names_the_object_the_interrupted_run_made_and_changes_nothing(team_scenario, alice):
    [made] = [w for w in live_webhooks(team_scenario) if w["payload_url"].endswith("/extra/00")]

    looked = alice.mypos("recover", "--dry-run", stack=STACK)

    assert looked.code == 0, looked.output
    assert f"extra-00: webhook {made['id']} was made by it" in looked.stdout
    assert "nothing changed (dry run)" in looked.stdout
    assert len(pending_operations(alice)) == 1


def test_recover_records_it_and_the_deploy_then_converges_without_a_second_object(
    team_scenario, alice, scenario_converged
):
    recovered = alice.mypos("recover", stack=STACK)
    team_scenario.control.clear_requests()
    deployed = alice.mypos("deploy", stack=STACK)

    assert recovered.code == 0, recovered.output
    assert deployed.code == 0, deployed.output[-3000:]
    # The interrupted create's answer, held back 30 s, may be logged only now: it is the one the fault touched.
    new_creates = [w for w in team_scenario.control.writes() if w["method"] == "POST" and w["fault"] is None]
    assert new_creates == []
    scenario_converged(STACK, webhooks=3, subscriptions=2)


def test_a_plain_pulumi_up_past_a_pending_create_makes_a_second_object(team_scenario, alice, wait_until):
    alice.set_program(1, extra_webhooks=2)
    hold_back_webhook_creates(team_scenario, 30)
    job = Background(alice.start_up(STACK), alice.transcript)  # `pulumi up` itself, stopped with Ctrl-C twice
    wait_until(lambda: create_in_flight(team_scenario), timeout=120)
    job.signal_group(signal.SIGINT)
    wait_until(lambda: CANCELLING in job.output, timeout=30)
    job.signal_group(signal.SIGINT)
    job.wait()
    assert len(pending_operations(alice)) == 1

    alice.pulumi("up", "--yes", stack=STACK)

    extra = [w for w in live_webhooks(team_scenario) if w["payload_url"].endswith("/extra/01")]
    assert len(extra) == 2, "the plain up made extra-01 a second time"


def test_recover_reports_the_orphan_and_the_one_command_that_deletes_it(team_scenario, alice):
    recorded = alice.ids(STACK)["extra-01"]
    [orphan] = [
        w for w in live_webhooks(team_scenario) if w["payload_url"].endswith("/extra/01") and w["id"] != recorded
    ]

    looked = alice.mypos("recover", stack=STACK)

    assert looked.code == 1, looked.output  # undecided: a person decides what is deleted
    assert "nothing was changed" in looked.stdout
    assert f"{orphan['id']}, is an orphan no resource manages" in looked.stdout
    assert f"with one command: `{RECOVER} --delete-orphan {orphan['id']}`" in looked.stdout
    assert orphan in live_webhooks(team_scenario), "recover deletes nothing unless asked"
    refused = alice.mypos("deploy", stack=STACK)
    assert refused.code == 1 and RECOVER in refused.stderr, "the deploy refuses while the orphan is there"


def test_the_orphan_deleted_by_that_command_leaves_exactly_the_declared_objects(
    team_scenario, alice, scenario_converged
):
    recorded = alice.ids(STACK)["extra-01"]
    [orphan] = [
        w for w in live_webhooks(team_scenario) if w["payload_url"].endswith("/extra/01") and w["id"] != recorded
    ]

    deleted = alice.mypos("recover", "--delete-orphan", orphan["id"], stack=STACK)

    assert deleted.code == 0, deleted.output
    scenario_converged(STACK, webhooks=4, subscriptions=2)


# ---- killed -------------------------------------------------------------------------------------------------


def test_nothing_a_killed_deploy_started_outlives_it_by_more_than_seconds(team_scenario, alice, wait_until):
    job = deploy_with_a_create_in_flight(team_scenario, alice, wait_until, extra_webhooks=3, held_back=30)
    assert provider_processes(alice), "the deployment runs its provider processes"

    job.signal_group(signal.SIGKILL)  # what a CI runner does to a cancelled or timed-out job's process group
    job.wait()

    # The CLI ran in a session of its own (so that one Ctrl-C reaches it once): it must die with the deploy,
    # not go on deploying unseen, and its plugins (language host, program, provider processes) with it.
    wait_until(lambda: not processes_in(alice.work_dir), timeout=20, interval=0.2)


def test_the_killed_deploy_leaves_its_lock_and_the_create_in_flight_pending(team_scenario, alice):
    assert team_scenario.database.lock_keys(), "a killed run cannot release its lock"
    assert [op["resource"]["urn"].rsplit("::", 1)[-1] for op in pending_operations(alice)] == ["extra-02"]


def test_the_printed_procedure_after_a_kill_ends_with_exactly_the_declared_objects(
    team_scenario, alice, scenario_converged
):
    refused = alice.mypos("deploy", stack=STACK)
    assert refused.code == 1 and "locked by a deployment that is gone" in refused.stderr, refused.output
    assert "no longer runs on this host" in refused.stderr and "pulumi cancel" not in refused.stderr
    [advice] = [part for part in refused.stderr.split("`") if "--release-dead-lock" in part]

    followed = alice.follow(advice, stack=STACK)

    assert followed.code == 0, followed.output[-3000:]
    assert "released the lock of" in followed.stdout and "extra-02: webhook" in followed.stdout
    scenario_converged(STACK, webhooks=5, subscriptions=2)
    assert team_scenario.database.lock_keys() == []


def provider_processes(member: TeamMember) -> list[int]:
    """The dynamic-provider hosts (`python -m pulumi.dynamic`) running in the member's working copy."""
    found = []
    for pid in processes_in(member.work_dir):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"pulumi.dynamic" in cmdline.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def live_webhooks(team) -> list[dict[str, Any]]:
    return team.control.live_webhooks(team.accounts[STACK].client_id)
