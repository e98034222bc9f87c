"""Scenario: `python -m mypos_provider recover` after a CI job's `pulumi up` was killed mid-create, and while one
still runs. Stacks `a` and `b` of one project declare the same URL and secret in one account; `a` is deployed.

Which object recover matches to a pending create is a rule proven in tests/unit/test_recover.py; these steps
prove the flows through the real CLI: a `pulumi up` killed whole (SIGKILL of its process group and of the
engine's plugins), its pending operations, the stack's lock. Each step starts from a known state: b's killed
run is first looked at (dry run), then recovered; b is destroyed before the run that holds the lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.engine import PULUMI, Deployment, kill_processes_in, new_deployment
from harness.scenario import Scenario

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

URL = "https://shop.example.com/mypos/orders"
SHARED_SECRET = "declared-by-two-stacks-0001"
HOOK = {"name": "orders", "payloadUrl": URL, "secret": SHARED_SECRET, "events": []}


def until(probe: Callable[[], Any], timeout: float) -> Any:
    """Polls `probe` until it returns something truthy; fails the step after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


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


def slow_webhook_creates(scenario: Scenario, seconds: float) -> None:
    # The write commits at once and the answer comes `seconds` later: a create in flight when the job dies.
    scenario.control.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "then": "slow", "delay": seconds}]
    )


def pending_operations(b: Deployment) -> list[dict[str, Any]]:
    return json.loads(b.cli("stack", "export", "--stack", "b"))["deployment"].get("pending_operations", [])


@pytest.fixture(scope="module")
def a(scenario: Scenario) -> Deployment:
    return scenario.deployed([HOOK], stack_name="a")


@pytest.fixture(scope="module")
def b(scenario: Scenario, a: Deployment) -> Deployment:
    """Stack b of a's project, beside it in the same backend; not deployed."""
    deployment = new_deployment(
        a.backend_dir.parent,
        auth_url=scenario.emulator.url,
        client_id=scenario.account.client_id,
        client_secret=scenario.account.client_secret,
        webhooks=[HOOK],
        stack_name="b",
        project_dir=a.work_dir,
    )
    scenario.deployments.append(deployment)
    return deployment


@pytest.fixture(scope="module")
def a_webhook(scenario: Scenario, a: Deployment) -> dict[str, Any]:
    [webhook] = scenario.live_webhooks()
    return webhook


@pytest.fixture(scope="module")
def killed_run(scenario: Scenario, a_webhook: dict[str, Any], b: Deployment) -> dict[str, Any]:
    """Stack b's `up`, killed once its webhook create committed but before the answer came; lock released.

    Returns the webhook the killed run made."""
    slow_webhook_creates(scenario, 30)
    job = start_up(b)
    made = until(lambda: [w for w in scenario.live_webhooks() if w["id"] != a_webhook["id"]], timeout=60)[0]
    kill(job, b.work_dir)
    scenario.control.clear_faults()
    b.cli("cancel", "--yes", "--stack", "b")
    return made


def test_recover_dry_run_lists_what_it_would_record_and_writes_nothing(
    b: Deployment, killed_run: dict[str, Any]
) -> None:
    before = pending_operations(b)

    done = b.mypos("recover", "--stack", "b", "--dry-run")

    assert f"orders: webhook {killed_run['id']} was made by it" in done.stdout
    assert "nothing changed (dry run)" in done.stdout
    assert pending_operations(b) == before != []


def test_recover_records_only_what_the_killed_run_made_never_another_stack_s_look_alike(
    scenario: Scenario, a: Deployment, b: Deployment, a_webhook: dict[str, Any], killed_run: dict[str, Any]
) -> None:
    done = b.mypos("recover", "--stack", "b")

    assert done.returncode == 0, done.stdout + done.stderr
    assert [w["id"] for w in scenario.live_webhooks()] == [a_webhook["id"], killed_run["id"]]
    assert [r["id"] for r in b.resources("Webhook")] == [killed_run["id"]]
    assert [r["id"] for r in a.resources("Webhook")] == [a_webhook["id"]]
    assert "matched on a declared secret" in done.stdout
    b.preview(expect_no_changes=True)


def test_recover_refuses_while_a_deployment_holds_the_lock_and_changes_nothing(
    scenario: Scenario, b: Deployment, a_webhook: dict[str, Any]
) -> None:
    b.destroy()  # b undeployed again: its next `up` creates its webhook
    assert scenario.live_webhooks() == [a_webhook]
    slow_webhook_creates(scenario, 30)  # the provider gives up after its 10 s timeout and finds the object
    job = start_up(b)
    until(lambda: len(scenario.live_webhooks()) == 2, timeout=60)

    done = b.mypos("recover", "--stack", "b")

    assert done.returncode == 1
    assert "stack b is locked by a deployment that is alive, so nothing was changed" in done.stderr
    assert "pulumi cancel" not in done.stderr and "--release-dead-lock" not in done.stderr
    assert job.wait(timeout=120) == 0
    scenario.control.clear_faults()
    webhooks = scenario.live_webhooks()
    assert len(webhooks) == 2 and a_webhook in webhooks
    assert {r["id"] for r in b.resources("Webhook")} == {w["id"] for w in webhooks} - {a_webhook["id"]}
    b.preview(expect_no_changes=True)
