"""The stack program through the real engine: create, no-op, update in place, replace, destroy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine

ORDERS = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "events": ["pos.payment.completed", {"event": "pos.payment.cancelled", "terminalIds": ["90004889"]}],
}
TREASURY = {
    "name": "treasury",
    "payloadUrl": "https://shop.example.com/mypos/treasury",
    "events": ["account.out-bank-transfer.failed"],
}


def test_up_then_preview_reports_no_changes_then_destroy_empties_the_account(deploy, control, account):
    deployment = deploy([ORDERS])

    up = deployment.up()
    assert up.summary.resource_changes == {"create": 4}
    assert len(control.live_webhooks(account.client_id)) == 1

    preview = deployment.preview(expect_no_changes=True)
    assert preview.change_summary == {"same": 4}

    deployment.destroy()
    assert control.live_webhooks(account.client_id) == []
    assert control.live_subscriptions(account.client_id) == []


def test_up_creates_exactly_the_declared_webhooks_and_subscriptions(deploy, control, account):
    deploy([ORDERS, TREASURY]).up()

    url_of = {w["id"]: w["payload_url"] for w in control.live_webhooks(account.client_id)}
    assert sorted(url_of.values()) == sorted([ORDERS["payloadUrl"], TREASURY["payloadUrl"]])
    subscriptions = {
        (url_of[s["webhook_id"]], s["event"], tuple((s.get("filter") or {}).get("tids") or ()))
        for s in control.live_subscriptions(account.client_id)
    }
    assert subscriptions == {
        (ORDERS["payloadUrl"], "pos.payment.completed", ()),
        (ORDERS["payloadUrl"], "pos.payment.cancelled", ("90004889",)),
        (TREASURY["payloadUrl"], "account.out-bank-transfer.failed", ()),
    }


def test_up_exports_ids_and_payload_urls_and_the_secrets_only_as_secrets(deploy, control, account):
    up = deploy([ORDERS]).up()

    webhook = control.live_webhooks(account.client_id)[0]
    exported = up.outputs["webhooks"].value["orders"]
    assert exported["id"] == webhook["id"]
    assert exported["payloadUrl"] == ORDERS["payloadUrl"]
    assert up.outputs["webhookSecrets"].secret is True
    assert up.outputs["webhookSecrets"].value["orders"] == webhook["secret"]


def test_the_state_backend_writes_no_metadata_sidecars_a_kill_could_leave_empty(deploy):
    deployment = deploy([ORDERS])

    deployment.up()

    stacks = deployment.backend_dir / ".pulumi" / "stacks"
    assert list(stacks.rglob("*.json")), "the checkpoint itself is written"
    assert list(stacks.rglob("*.attrs")) == []
