"""`python -m mypos_provider list|emit|recover` against deployed stacks, and `pulumi import` as it really fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from harness.engine import PULUMI, Deployment, kill_processes_in

pytestmark = pytest.mark.engine

URL = "https://shop.example.com/mypos/orders"
SHARED_SECRET = "declared-by-two-stacks-0001"
ORDERS = {"name": "orders", "payloadUrl": URL, "events": ["pos.payment.completed"]}


# ---- list ---------------------------------------------------------------------------------------------


def test_list_with_a_stack_marks_what_the_stack_manages_by_resource_name(deploy, control, account, outofband):
    deployment = deploy([ORDERS])
    deployment.up()
    managed = control.live_webhooks(account.client_id)[0]
    stranger = outofband.create_webhook("https://shop.example.com/mypos/legacy", "clicked-together-secret-01")

    out = deployment.mypos("list", "--stack", "test").stdout

    assert f"webhook {managed['id']}  active  {URL}  secret ********  [stack test: orders]" in out
    assert f"webhook {stranger['id']}" in out and "[not managed by stack test]" in out
    assert f"adopt_id={stranger['id']!r}" in out and f"adopt_id={managed['id']!r}" not in out


def test_list_names_an_unmanaged_subscription_of_a_managed_webhook_after_the_stack_s_webhook(
    deploy, control, account, outofband
):
    deployment = deploy([ORDERS])
    deployment.up()
    hook = control.live_webhooks(account.client_id)[0]
    extra = outofband.subscribe(hook["id"], "pos.payment.cancelled")

    out = deployment.mypos("list", "--stack", "test").stdout

    assert "'orders-pos.payment.cancelled'" in out and f"adopt_id={extra['id']!r}" in out


def test_list_flags_duplicate_subscriptions(deploy, control, account, outofband):
    deployment = deploy([ORDERS])
    deployment.up()
    hook = control.live_webhooks(account.client_id)[0]
    original = control.live_subscriptions(account.client_id)[0]
    duplicate = outofband.subscribe(hook["id"], "pos.payment.completed")

    out = deployment.mypos("list", "--stack", "test").stdout

    assert f"subscription {duplicate['id']}  pos.payment.completed" in out
    assert f"DUPLICATE of {original['id']}: every event is delivered twice" in out


def test_list_of_an_empty_account_prints_no_paste_banner(deploy):
    deployment = deploy([])
    deployment.up()

    out = deployment.mypos("list", "--stack", "test").stdout

    assert "0 webhook(s)" in out and "pulumi import" not in out and "adopt_id" not in out


def test_list_banner_says_pulumi_import_does_not_work_and_adopt_id_does(deploy, outofband):
    outofband.create_webhook(URL, "clicked-together-secret-01")
    deployment = deploy([])
    deployment.up()

    out = deployment.mypos("list", "--stack", "test").stdout

    assert "`pulumi import` does not work for these resources" in out and "KeyError: '__provider'" in out


def test_pulumi_import_of_a_webhook_fails_in_the_host_before_provider_code_runs(deploy, outofband):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    deployment = deploy([])
    deployment.up()

    done = subprocess.run(
        [
            str(PULUMI),
            "import",
            "pulumi-python:dynamic/mypos:Webhook",
            "imported",
            hook["id"],
            "--yes",
            "--non-interactive",
            "--stack",
            "test",
        ],
        cwd=deployment.work_dir,
        env=deployment.cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "KeyError: '__provider'" in done.stdout + done.stderr  # the exact error README "Adopting" quotes


# ---- emit ---------------------------------------------------------------------------------------------


def test_emit_names_webhooks_by_resource_name_and_exits_1_when_a_delivery_failed(deploy):
    deployment = deploy([{**ORDERS, "payloadUrl": "http://127.0.0.1:9/nobody-listens"}])
    deployment.up()

    done = deployment.mypos("emit", "pos.payment.completed", "--stack", "test", "--wait", "1")

    assert done.returncode == 1
    assert "FAILED     orders (http://127.0.0.1:9/nobody-listens): no answer: connection refused" in done.stdout


# ---- recover ------------------------------------------------------------------------------------------


def start_up(deployment: Deployment) -> subprocess.Popen[bytes]:
    """`pulumi up` as a CI job runs it, in a process group of its own (so it can be killed whole)."""
    return subprocess.Popen(
        [str(PULUMI), "up", "--yes", "--skip-preview", "--non-interactive", "--stack", deployment.stack.name],
        cwd=deployment.work_dir,
        env=deployment.cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(process: subprocess.Popen[bytes], project: Path) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kill_processes_in(project)  # the engine's plugins run in process groups of their own


@pytest.fixture
def two_stacks(deploy, control, account):
    """Stacks `a` and `b` of one project declare the same URL and secret in one account; `a` is deployed."""
    hook = {**ORDERS, "secret": SHARED_SECRET, "events": []}
    a = deploy([hook], stack_name="a")
    a.up()
    b = deploy([hook], stack_name="b", project_dir=a.work_dir)
    return a, b


def slow_webhook_creates(control, seconds: float) -> None:
    # The write commits at once and the answer comes `seconds` later: a create in flight when the job dies.
    control.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "then": "slow", "delay": seconds}]
    )


def kill_b_while_it_creates(a_webhook: dict, b: Deployment, control, account, wait_until) -> dict:
    """Kill stack b's `up` once its webhook create committed but before the answer came; release the lock.

    Returns the webhook the killed run made."""
    slow_webhook_creates(control, 30)
    job = start_up(b)
    made = wait_until(
        lambda: [w for w in control.live_webhooks(account.client_id) if w["id"] != a_webhook["id"]], timeout=60
    )[0]
    kill(job, b.work_dir)
    control.clear_faults()
    b.cli("cancel", "--yes", "--stack", "b")
    return made


def test_recover_records_only_what_the_killed_run_made_never_another_stack_s_look_alike(
    two_stacks, control, account, wait_until
):
    a, b = two_stacks
    a_webhook = control.live_webhooks(account.client_id)[0]
    b_webhook = kill_b_while_it_creates(a_webhook, b, control, account, wait_until)

    done = b.mypos("recover", "--stack", "b")

    assert done.returncode == 0, done.stdout + done.stderr
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [a_webhook["id"], b_webhook["id"]]
    assert [r["id"] for r in b.resources("Webhook")] == [b_webhook["id"]]
    assert [r["id"] for r in a.resources("Webhook")] == [a_webhook["id"]]
    assert "matched on a declared secret" in done.stdout
    b.preview(expect_no_changes=True)


def test_recover_refuses_while_a_deployment_holds_the_lock_and_changes_nothing(
    two_stacks, control, account, wait_until
):
    a, b = two_stacks
    a_webhook = control.live_webhooks(account.client_id)[0]
    slow_webhook_creates(control, 30)  # the provider gives up after its 10 s timeout and finds the object
    job = start_up(b)
    wait_until(lambda: len(control.live_webhooks(account.client_id)) == 2, timeout=60)

    done = b.mypos("recover", "--stack", "b")

    assert done.returncode == 1
    assert "stack b is locked by a deployment, so nothing was changed" in done.stderr
    assert job.wait(timeout=120) == 0
    control.clear_faults()
    webhooks = control.live_webhooks(account.client_id)
    assert len(webhooks) == 2 and a_webhook in webhooks
    assert {r["id"] for r in b.resources("Webhook")} == {w["id"] for w in webhooks} - {a_webhook["id"]}
    b.preview(expect_no_changes=True)


def test_recover_dry_run_lists_what_it_would_record_and_writes_nothing(two_stacks, control, account, wait_until):
    a, b = two_stacks
    a_webhook = control.live_webhooks(account.client_id)[0]
    b_webhook = kill_b_while_it_creates(a_webhook, b, control, account, wait_until)
    before = json.loads(b.cli("stack", "export", "--stack", "b"))

    done = b.mypos("recover", "--stack", "b", "--dry-run")

    assert f"orders: webhook {b_webhook['id']} was made by it" in done.stdout
    assert "nothing changed (dry run)" in done.stdout
    assert (
        json.loads(b.cli("stack", "export", "--stack", "b"))["deployment"]["pending_operations"]
        == before["deployment"]["pending_operations"]
        != []
    )
