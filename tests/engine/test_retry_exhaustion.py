"""When myPOS keeps failing, `pulumi up` stops with an actionable error, and leaves nothing unrecorded."""

from __future__ import annotations

import pytest
from pulumi.automation import errors as auto_errors

pytestmark = pytest.mark.engine

HOOK = {"name": "orders", "payloadUrl": "https://shop.example.com/mypos/orders", "events": []}


def test_exhausted_retries_name_operation_resource_status_and_the_fix(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.set_config("mypos:maxRetries", "1")
    control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 503}])

    with pytest.raises(auto_errors.CommandError):
        deployment.up()

    text = deployment.cli_text()
    assert (
        "https://shop.example.com/mypos/orders: create webhook failed after 2 attempt(s); last problem: HTTP 503"
    ) in text
    assert "run `pulumi up` again" in text and "mypos:maxRetries" in text
    assert "Traceback" not in text
    posts = [r for r in control.requests() if r["method"] == "POST" and r["path"] == "/v1/webhooks"]
    assert len(posts) == 2
    assert control.live_webhooks(account.client_id) == []


def test_a_create_that_committed_before_failing_on_its_last_attempt_is_recorded_not_lost(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.set_config("mypos:maxRetries", "0")
    control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "status": 503}])

    deployment.up()

    webhooks = control.live_webhooks(account.client_id)
    assert [w["id"] for w in webhooks] == [r["id"] for r in deployment.resources("Webhook")]
    control.clear_faults()
    deployment.preview(expect_no_changes=True)
