"""The CI commands' rules without the engine: what a preview changes, how drift is named, what deploy refuses.

`data/preview-new-webhook.json` is a real `pulumi preview --json --diff --show-sames` of the stack program
(one webhook deployed, a second declared with two subscriptions), as the CLI printed it; only bulky
bookkeeping (stack traces, the pickled provider) was cut.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from mypos_provider.cli.changes import ENGINE_UNKNOWN, KNOWN_AFTER_DEPLOY, MASK, Change, PropertyChange, plan_of
from mypos_provider.cli.deploy import failure_hint, pending_refusal, unresolved_notice
from mypos_provider.cli.drift import (
    Drifted,
    DriftReport,
    LiveObject,
    deployment_running,
    drifted_objects,
    ignored_ids,
    outside_changes,
    render_drift,
)
from mypos_provider.cli.locks import AssessedLock, Liveness, LockHolder
from mypos_provider.cli.preview_report import failure_report, render_preview
from mypos_provider.cli.pulumi import Streamed, error_text
from mypos_provider.cli.stack import PulumiStack
from mypos_provider.client import Subscription, Webhook
from mypos_provider.core.reconcile import Duplicate, Recorded, WebhookKey

PREVIEW = json.loads((Path(__file__).parent / "data" / "preview-new-webhook.json").read_text())
WEBHOOK = "pulumi-python:dynamic/mypos:Webhook"
SUBSCRIPTION = "pulumi-python:dynamic/mypos:Subscription"


def step(op: str, name: str, type_token: str = WEBHOOK, **fields: Any) -> dict[str, Any]:
    return {"op": op, "urn": f"urn:pulumi:s::p::{type_token}::{name}", "newState": {"type": type_token}, **fields}


# ---- the preview report ---------------------------------------------------------------------------------


def test_the_engines_unknown_spelling_is_the_one_the_sdk_uses():
    assert ENGINE_UNKNOWN == UNKNOWN


def test_a_value_not_known_before_the_deployment_reads_as_known_after_deploy():
    plan = plan_of(PREVIEW["steps"])

    ids = [p.new for c in plan.changes for p in c.properties if p.name == "webhook_id"]
    assert ids == [KNOWN_AFTER_DEPLOY, KNOWN_AFTER_DEPLOY]
    assert ENGINE_UNKNOWN not in render_preview("sandbox", plan)


def test_changes_keep_the_engines_order_so_a_webhook_comes_before_its_subscriptions():
    plan = plan_of(PREVIEW["steps"])

    assert [c.name for c in plan.changes] == ["refunds", "refunds-pos.payment.completed", "refunds-pos.payment.failed"]


def test_counts_leave_the_stack_itself_out():
    plan = plan_of(PREVIEW["steps"])

    assert PREVIEW["changeSummary"]["same"] == 3  # the CLI's count includes the stack
    assert (plan.count("create"), plan.unchanged) == (3, 2)
    assert "**3 to create, 0 to update, 0 to replace, 0 to delete**; 2 unchanged." in render_preview("s", plan)


def test_secrets_are_masked_in_every_change():
    plan = plan_of(
        [
            step(
                "update",
                "orders",
                detailedDiff={"secret": {"kind": "update"}},
                oldState={"inputs": {"secret": "old-value"}},
                newState={"type": WEBHOOK, "inputs": {"secret": "new-value"}},
            )
        ]
    )

    assert plan.changes[0].properties == (PropertyChange("secret", MASK, MASK, "update"),)
    assert "old-value" not in render_preview("s", plan) and "new-value" not in render_preview("s", plan)


def test_a_property_path_is_reported_as_its_top_level_property():
    plan = plan_of(
        [
            step(
                "update",
                "paid",
                SUBSCRIPTION,
                detailedDiff={"terminal_ids[1]": {"kind": "add"}},
                oldState={"inputs": {"terminal_ids": ["1"]}},
                newState={"type": SUBSCRIPTION, "inputs": {"terminal_ids": ["1", "2"]}},
            )
        ]
    )

    assert plan.changes[0].properties == (PropertyChange("terminal_ids", ["1"], ["1", "2"], "add"),)


def test_a_name_with_a_pipe_cannot_break_the_table():
    text = render_preview("s", plan_of([step("create", "a|b", newState={"type": WEBHOOK, "inputs": {}})]))

    assert "| create | `a\\|b` | Webhook |" in text


def test_a_failed_preview_reports_every_reason_and_that_nothing_changed():
    text = failure_report("sandbox", ["error: one", "error: two"])

    assert "### Pulumi preview of `sandbox` failed" in text and "error: one\nerror: two" in text
    assert "nothing was changed" in text


# ---- the CLI's errors -----------------------------------------------------------------------------------


def test_a_cli_error_is_relayed_whole_from_its_first_error_line():
    stderr = "Updating...\nerror: 2 errors occurred:\n\t* resource a: boom\n\t* resource b: bang\n"

    assert error_text(stderr) == "error: 2 errors occurred:\n\t* resource a: boom\n\t* resource b: bang"


def test_a_cli_error_without_an_error_line_is_its_last_line():
    assert error_text("warning: x\nsomething went wrong\n") == "something went wrong"


def test_a_clone_without_the_demo_backend_is_told_to_set_pulumi_backend_url(monkeypatch):
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)

    text = error_text("error: stat /home/me/p/.pulumi-state: no such file or directory")

    assert "set PULUMI_BACKEND_URL to your team's backend" in text and "scripts/up-local" in text


# ---- deploy ---------------------------------------------------------------------------------------------


def test_a_deploy_in_a_clone_without_the_demo_backend_is_told_to_set_pulumi_backend_url(monkeypatch):
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    streamed = ["error: unable to open state directory: stat /home/me/p/.pulumi-state: no such file or directory\n"]

    assert "set PULUMI_BACKEND_URL to your team's backend" in failure_hint(Streamed(1, streamed), PulumiStack("s"))


def test_a_deploy_stopped_because_the_state_backend_failed_names_the_lock_and_the_procedure(monkeypatch):
    monkeypatch.setenv("PULUMI_BACKEND_URL", "postgres://pulumi@db.example.com/pulumi")
    streamed = Streamed(1, ["error: failed to save snapshot: dial tcp: connection refused\n"], stopped=True)
    streamed.backend_down_since = 1.0

    hint = failure_hint(streamed, PulumiStack("sandbox"))

    assert (
        "the state backend stopped answering, so it was stopped 10 s after the first `failed to save snapshot`" in hint
    )
    assert "The lock this run took" in hint and "stays in the backend" in hint
    assert hint.splitlines()[-1].strip() == (
        "python -m mypos_provider recover --stack sandbox --release-dead-lock && "
        "python -m mypos_provider deploy --stack sandbox"
    )


def test_a_deploy_that_left_an_unresolved_create_says_when_to_check_again():
    warning = "warning: webhook w-1 (https://x): an earlier attempt of this create got no answer and was not found"

    text = unresolved_notice("sandbox", [warning], datetime(2026, 3, 2, 10, 0, tzinfo=UTC))

    assert "1 create(s) of this deployment are unresolved" in text and warning in text
    assert "Check again after 10:10 UTC (in 10 minutes)" in text
    assert "`python -m mypos_provider drift --stack sandbox`" in text
    assert "`python -m mypos_provider recover --stack sandbox --delete-duplicates`" in text


def test_deploy_refuses_pending_operations_naming_them_and_the_command_to_run():
    pending = [{"type": "creating", "resource": {"urn": f"urn:pulumi:s::p::{WEBHOOK}::orders"}}]

    text = pending_refusal("sandbox", pending)

    assert "holds 1 pending operation(s)" in text and "creating of orders" in text
    assert "`python -m mypos_provider recover --stack sandbox` first" in text and "nothing was deployed" in text


# ---- drift ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "outside", "cause"),
    [
        ("create", "deleted", "deleted outside Pulumi"),
        ("create", None, "declared, not deployed yet"),
        ("update", "changed", "changed outside Pulumi"),
        ("update", None, "declared change, not deployed yet"),
        ("replace", "changed", "changed outside Pulumi"),
        ("delete", None, "no longer declared"),
    ],
)
def test_drift_says_why_an_object_differs_from_its_declaration(action: str, outside: str | None, cause: str):
    declared = plan_of([step(action, "orders", newState={"type": WEBHOOK, "inputs": {}})])

    [drifted] = drifted_objects(declared, {"orders": outside} if outside else {})

    assert f"| `orders` | Webhook | {cause} |" in render_drift(DriftReport("prod", [drifted]))


def test_a_refresh_names_what_changed_or_vanished_outside_pulumi_for_our_resources_only():
    steps = [
        step("update", "orders"),
        step("delete", "paid", SUBSCRIPTION),
        step("same", "kept"),
        step("update", "stack", "pulumi:pulumi:Stack"),
    ]

    assert outside_changes(steps) == {"orders": "changed", "paid": "deleted"}


def test_drift_shows_live_and_declared_values_per_field():
    change = Change("update", "orders", WEBHOOK, (PropertyChange("payload_url", "https://by.hand", "https://decl"),))

    text = render_drift(DriftReport("prod", [Drifted(change, "changed")]))

    assert '-     payload_url: "https://by.hand"   (live)' in text
    assert '+     payload_url: "https://decl"   (declared)' in text
    assert "| `orders` | Webhook | changed outside Pulumi | `payload_url` |" in text


def test_an_object_no_stack_manages_is_drift_too():
    report = DriftReport("prod", [], [LiveObject("webhook", "w-1", "https://x")])

    assert not report.clean and "| webhook | `w-1` | https://x |" in render_drift(report)


def test_objects_added_by_hand_to_a_dynamic_stack_are_adopted_with_adopt_id():
    text = render_drift(DriftReport("prod", [], [LiveObject("webhook", "w-1", "https://x")]))

    assert "declare it with `adopt_id` (`python -m mypos_provider list --stack prod`)" in text


def test_objects_added_by_hand_to_a_native_stack_are_taken_over_with_pulumi_import():
    text = render_drift(DriftReport("prod", [], [LiveObject("webhook", "w-1", "https://x")], native=True))

    assert "`python -m mypos_provider list --stack prod --format import` prints the `pulumi import` commands" in text
    assert "adopt_id" not in text


def test_no_drift_says_the_account_matches_the_declaration():
    assert "matches what the stack declares" in render_drift(DriftReport("prod"))


def live_lock(alive: bool) -> AssessedLock:
    return AssessedLock(LockHolder("ci", "runner", 7, datetime(2026, 3, 2, tzinfo=UTC)), Liveness(alive, "why"))


def test_drift_during_a_live_deployment_says_so_and_calls_nothing_drift():
    running = deployment_running([live_lock(True)], None, None, None)

    text = render_drift(DriftReport("prod", [], [LiveObject("webhook", "w-1", "https://x")], running=running))

    assert running and "### Not checked: a deployment of `prod` is running" in text
    assert "ci@runner (pid 7" in text and "w-1" not in text


def test_a_gone_lock_or_none_is_no_running_deployment_but_a_state_written_during_the_check_is():
    first, second = datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 2, 10, 1, tzinfo=UTC)

    assert deployment_running([live_lock(False)], [], first, second) is None
    assert deployment_running([], [], first, first) is None
    assert deployment_running(None, None, first, second) == "a deployment wrote the stack's state while this check ran"


def test_drift_leaves_out_other_projects_webhooks_by_url_prefix_with_their_subscriptions():
    theirs = Webhook("w-theirs", "https://other.example.com/hooks/1", "s")
    ours = Webhook("w-ours", "https://shop.example.com/cb", "s")
    live = [theirs, ours, Subscription("s-theirs", "pos.payment.completed", "w-theirs")]

    assert ignored_ids(live, ("https://other.example.com/",)) == {"w-theirs", "s-theirs"}
    assert ignored_ids(live, ()) == set()


def test_duplicates_are_drift_named_with_what_they_duplicate():
    hook = Webhook("w-late", "https://x", "s", created_on=datetime(2026, 3, 2, 10, tzinfo=UTC))
    recorded = Recorded("orders", "w-1", WebhookKey("https://x", "s"), not_before=0, secret_generated=True)

    report = DriftReport("prod", duplicates=[Duplicate(hook, recorded)])
    text = render_drift(report)

    assert not report.clean and "0 differ from the stack, 1 duplicate(s), 0 not managed by any stack" in text
    assert "| webhook | `w-late` | `orders` |" in text and "--delete-duplicates --yes" in text
    assert "added by hand" not in text
