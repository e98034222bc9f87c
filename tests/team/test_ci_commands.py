"""Scenario: the CI commands (python -m mypos_provider preview-report | deploy | drift) of one team on the shared
backend, step by step: the report of a stack not deployed yet, Bob's deploy, the reports of an untouched stack,
of a reviewed change (also as a read-only role) and of a rotated secret, drift by hand in each account, drift
that cannot read the account, drift next to another stack in the same account, and a deploy refused by a
killed job's lock. tests/team/test_drift_truth.py covers what a refresh dropped and what one deploy restores.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import uuid

import pytest

from harness.postgres import ROOT
from harness.printed import table_rows
from harness.team import TeamMember

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

TABLE_HEADER = ["| Action | Resource | Type |", "|---|---|---|"]


# ---- the wrappers of this repository's CI -------------------------------------------------------------


@pytest.mark.parametrize("script", ["ci-preview", "ci-deploy", "drift-check"])
def test_ci_script_without_a_stack_prints_its_usage(script):
    done = subprocess.run([str(ROOT / "scripts" / script)], capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert f"usage: scripts/{script} STACK" in done.stderr


# ---- sandbox, not deployed yet ------------------------------------------------------------------------


def test_preview_report_is_also_written_to_the_output_file(alice, tmp_path):
    target = tmp_path / "report.md"

    report = alice.mypos("preview-report", "--output", str(target), stack="sandbox", check=True)

    assert target.read_text() == report.stdout


def test_deploy_runs_up_with_the_diff_and_prints_outputs_without_secrets(team_scenario, bob, scenario_converged):
    deployed = bob.mypos("deploy", stack="sandbox")

    assert deployed.code == 0, deployed.output
    assert "$ pulumi up --yes --non-interactive --diff --stack sandbox" in deployed.stdout
    assert re.search(r'payload_url\s*: "https://staging.shop.example.com/mypos/orders"', deployed.stdout), "--diff"
    outputs = json.loads(deployed.stdout.split("Outputs of stack sandbox (secrets masked):\n", 1)[1])
    assert outputs["treasurySecret"] == "[secret]"
    sandbox = team_scenario.accounts["sandbox"]
    live = {h["payload_url"]: h["id"] for h in team_scenario.control.live_webhooks(sandbox.client_id)}
    assert outputs["ordersId"] == live["https://staging.shop.example.com/mypos/orders"]
    scenario_converged("sandbox", webhooks=2, subscriptions=2)


# ---- sandbox, deployed and untouched ------------------------------------------------------------------


def test_drift_check_of_an_untouched_account_exits_zero(bob):
    checked = bob.mypos("drift", stack="sandbox")

    assert checked.code == 0, checked.output
    assert "### No drift in `sandbox`" in checked.stdout


def test_preview_report_without_changes_says_so(bob):
    report = bob.mypos("preview-report", stack="sandbox", check=True)

    # The two webhooks and two subscriptions; the stack itself is not counted.
    assert "**0 to create, 0 to update, 0 to replace, 0 to delete**; 4 unchanged." in report.stdout
    assert "No changes" in report.stdout


def test_drift_check_does_not_list_objects_another_stack_manages(team_scenario, alice):
    team_scenario.add_stack("storefront", configured_as="production", account_of="sandbox")
    alice.pulumi("up", "--yes", stack="storefront")
    assert len(team_scenario.control.live_webhooks(team_scenario.accounts["sandbox"].client_id)) == 4

    checked = alice.mypos("drift", stack="sandbox")

    assert checked.code == 0, checked.output


# ---- a reviewed change to sandbox, not deployed -------------------------------------------------------


def test_preview_report_lists_each_resource_to_create_update_replace_and_delete(alice):
    alice.set_program(2)

    report = alice.mypos("preview-report", stack="sandbox")

    assert report.code == 0, report.output
    assert report.stdout.startswith("<!-- mypos-pulumi:preview:sandbox -->\n")
    # Only webhooks and subscriptions are counted (not the stack): `treasury` is the one left as it is.
    assert "**1 to create, 1 to update, 1 to replace, 1 to delete**; 1 unchanged." in report.stdout
    rows = table_rows(report.stdout, TABLE_HEADER)
    assert sorted(rows) == [
        "| create | `orders-cancelled` | Subscription |",
        "| delete | `treasury-failed` | Subscription |",
        "| replace | `orders-payment` | Subscription |",
        "| update | `orders` | Webhook |",
    ]
    # In the order the deployment runs them: a webhook before its subscriptions (the engine runs resources
    # that do not depend on each other in parallel, in no fixed order).
    assert rows[0] == "| update | `orders` | Webhook |"


def test_a_read_only_role_can_preview_and_check_drift_but_not_deploy(team_scenario, alice, tmp_path):
    reviewer = TeamMember.join(
        "reviewer", tmp_path, team_scenario.database.server.reader_url(team_scenario.database.name), alice.passphrases
    )
    reviewer.pull_from(alice)
    state_before = alice.pulumi("stack", "export", stack="sandbox").stdout
    team_scenario.control.clear_requests()

    previewed = reviewer.mypos("preview-report", stack="sandbox")
    checked = reviewer.mypos("drift", stack="sandbox")
    deployed = reviewer.mypos("deploy", stack="sandbox")

    assert previewed.code == 0 and "1 to replace" in previewed.stdout, previewed.output
    # The check ran (exit 2 would mean it could not): the reviewer's change is declared, not deployed yet.
    assert checked.code == 1, checked.output
    assert "| `orders` | Webhook | declared change, not deployed yet | `payload_url` |" in checked.stdout
    assert deployed.code == 1 and "permission denied" in deployed.stdout
    assert team_scenario.control.writes() == []
    assert alice.pulumi("stack", "export", stack="sandbox").stdout == state_before
    team_scenario.alice.transcript.extend(reviewer.transcript)  # scanned for secrets with the team's


def test_preview_report_shows_the_property_diff_with_secrets_masked(team_scenario, alice):
    alice.pulumi("config", "set", "--secret", "shop:treasurySecret", stack="sandbox", stdin="rotated-secret-0001")

    report = alice.mypos("preview-report", stack="sandbox").stdout
    diff = report.split("```diff\n", 1)[1].split("```", 1)[0].splitlines()

    assert diff[diff.index("~ Webhook orders (update)") + 1 :][:2] == [
        '-     payload_url: "https://staging.shop.example.com/mypos/orders"',
        '+     payload_url: "https://staging.shop.example.com/mypos/orders-v2"',
    ]
    assert diff[diff.index("~ Webhook treasury (update)") + 1 :][:2] == [
        "-     secret: [secret]",
        "+     secret: [secret]",
    ]
    assert diff[diff.index("+- Subscription orders-payment (replace)") + 1 :][:2] == [
        '-     event: "pos.payment.completed"',
        '+     event: "pos.payment.failed"',
    ]
    assert "rotated-secret-0001" not in report
    assert team_scenario.secrets["sandbox"].treasury_secret not in report


# ---- drift by hand --------------------------------------------------------------------------------------


def test_drift_check_leaves_the_state_as_it_was(team_scenario, alice, bob):
    ids = alice.ids("sandbox")
    team_scenario.by_hand("sandbox").delete_webhook(ids["treasury"])
    before = alice.pulumi("stack", "export", stack="sandbox").stdout

    bob.mypos("drift", stack="sandbox")

    assert json.loads(alice.pulumi("stack", "export", stack="sandbox").stdout) == json.loads(before)


def test_drift_check_names_each_object_and_field_changed_by_hand(team_scenario, alice, bob):
    alice.pulumi("up", "--yes", stack="production")  # the reviewed program (version 2)
    ids = alice.ids("production")
    hand = team_scenario.by_hand("production")
    hand.patch_webhook(ids["orders"], payload_url="https://attacker.example.com/hook")
    hand.patch_webhook(ids["treasury"], secret="changed-by-hand-0001")
    hand.set_filter(ids["orders-cancelled"], ["11111111", "22222222"])
    hand.delete_subscription(ids["orders-payment"])
    extra = hand.create_webhook("https://shop.example.com/mypos/by-hand", "hand-made-secret-0001")
    extra_subscription = hand.subscribe(extra["id"], "pos.payment.completed")
    bob.pull_from(alice)  # drift is measured against the declaration: Bob has the deployed program

    checked = bob.mypos("drift", stack="production")

    assert checked.code == 1, checked.output
    report = checked.stdout
    assert "### Drift in `production`: 4 differ from the stack, 0 duplicate(s), 2 not managed by any stack" in report
    drift_rows = table_rows(report, ["| Resource | Type | What happened | Fields |", "|---|---|---|---|"])
    assert sorted(drift_rows) == [  # in the engine's order, which is not fixed for independent resources
        "| `orders-cancelled` | Subscription | changed outside Pulumi | `terminal_ids` |",
        "| `orders-payment` | Subscription | deleted outside Pulumi |  |",
        "| `orders` | Webhook | changed outside Pulumi | `payload_url` |",
        "| `treasury` | Webhook | changed outside Pulumi | `secret` |",
    ]
    assert table_rows(report, ["| Kind | Id | What |", "|---|---|---|"]) == [
        f"| webhook | `{extra['id']}` | https://shop.example.com/mypos/by-hand |",
        f"| subscription | `{extra_subscription['id']}` | pos.payment.completed of webhook {extra['id']} |",
    ]
    assert '-     payload_url: "https://attacker.example.com/hook"   (live)' in report
    assert '+     payload_url: "https://shop.example.com/mypos/orders-v2"   (declared)' in report
    assert "-     secret: [secret]   (live)" in report
    treasury_secret = team_scenario.secrets["production"].treasury_secret
    for secret in ("changed-by-hand-0001", "hand-made-secret-0001", treasury_secret):
        assert secret not in report


def test_drift_check_that_cannot_read_the_account_exits_two(alice):
    alice.pulumi("config", "set", "--secret", "mypos:clientSecret", stack="production", stdin="W" * 48)

    checked = alice.mypos("drift", stack="production")

    assert checked.code == 2
    assert "could not run" in checked.stdout
    assert checked.stderr.startswith("error: ")


# ---- a killed job's lock ----------------------------------------------------------------------------------


def plant_lock(team_scenario, host: str, pid: int) -> str:
    """What a CI job killed mid-deployment leaves in the table: its lock."""
    lock = {"pid": pid, "username": "runner", "hostname": host, "timestamp": "2026-11-29T03:00:00Z"}
    database = team_scenario.database
    key = f"{database.name}/.pulumi/locks/organization/mypos-webhooks/sandbox/{uuid.uuid4()}.json"
    data = json.dumps({"data": base64.b64encode(json.dumps(lock).encode()).decode()})
    database.server.sql(f"INSERT INTO pulumi_state (key, data) VALUES ('{key}', '{data}')", database.name)
    return key


def test_deploy_under_a_lock_of_another_host_whose_stack_was_just_written_is_told_to_wait(team_scenario, bob):
    key = plant_lock(team_scenario, "lost-runner", 4242)
    team_scenario.control.clear_requests()

    deployed = bob.mypos("deploy", stack="sandbox")

    database = team_scenario.database
    database.server.sql(f"DELETE FROM pulumi_state WHERE key = '{key}'", database.name)
    assert deployed.code == 1
    assert "locked by a deployment that is alive" in deployed.stderr and "runner@lost-runner" in deployed.stderr
    assert "runs on another host and the stack's state was written or locked" in deployed.stderr
    assert "pulumi cancel" not in deployed.output and "--release-dead-lock" not in deployed.output
    assert team_scenario.control.writes() == []


def test_deploy_of_a_stack_locked_by_a_killed_job_fails_and_names_the_one_command_that_resumes(team_scenario, bob):
    plant_lock(team_scenario, socket.gethostname(), 2**22 + 1)  # this host, a pid no process has
    team_scenario.control.clear_requests()

    deployed = bob.mypos("deploy", stack="sandbox")

    assert deployed.code == 1
    assert "locked by a deployment that is gone" in deployed.stderr
    assert f"pid {2**22 + 1} no longer runs on this host" in deployed.stderr
    assert (
        "`python -m mypos_provider recover --stack sandbox --release-dead-lock && "
        "python -m mypos_provider deploy --stack sandbox`"
    ) in deployed.stderr
    assert "pulumi cancel" not in deployed.output
    assert team_scenario.control.writes() == []
