"""Changes made outside Pulumi: refresh shows them, up converges back to the declared state."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine

HOOK = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "secret": "declared-secret-0123456789",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}


def test_refresh_drops_a_webhook_deleted_outside_pulumi_with_a_warning(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]
    outofband.delete_webhook(webhook_id)

    refresh = deployment.refresh()

    assert refresh.summary.resource_changes.get("delete") == 2  # the webhook and, with it, its subscription
    assert f"warning: webhook {webhook_id}" in deployment.cli_text()
    assert "no longer exists in myPOS" in deployment.cli_text()


def test_up_after_refresh_recreates_a_webhook_deleted_outside_pulumi(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    old_id = control.live_webhooks(account.client_id)[0]["id"]
    outofband.delete_webhook(old_id)
    deployment.refresh()

    deployment.up()

    webhooks = control.live_webhooks(account.client_id)
    assert len(webhooks) == 1 and webhooks[0]["id"] != old_id
    assert [s["webhook_id"] for s in control.live_subscriptions(account.client_id)] == [webhooks[0]["id"]]
    deployment.preview(expect_no_changes=True)


def test_refresh_drops_a_subscription_deleted_outside_pulumi_and_up_recreates_it(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    subscription_id = control.live_subscriptions(account.client_id)[0]["id"]
    outofband.delete_subscription(subscription_id)

    deployment.refresh()
    assert f"warning: subscription {subscription_id}" in deployment.cli_text()
    deployment.up()

    subscriptions = control.live_subscriptions(account.client_id)
    assert len(subscriptions) == 1 and subscriptions[0]["id"] != subscription_id


def test_refresh_shows_a_payload_url_changed_outside_pulumi_and_up_restores_it(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]
    outofband.patch_webhook(webhook_id, payload_url="https://attacker.example.net/steal")

    deployment.stack.preview_refresh(on_output=deployment.output.append, color="never", diff=True)
    assert '~ payload_url: "https://shop.example.com/mypos/orders" => "https://attacker.example.net/steal"' in (
        deployment.cli_text()
    )
    refresh = deployment.refresh()
    assert refresh.summary.resource_changes.get("update") == 1
    assert "[diff: ~payload_url]" in deployment.cli_text()

    deployment.up()
    webhook = control.live_webhooks(account.client_id)[0]
    assert (webhook["id"], webhook["payload_url"]) == (webhook_id, HOOK["payloadUrl"])
    deployment.preview(expect_no_changes=True)


def test_a_secret_changed_outside_pulumi_shows_as_drift_and_up_restores_the_declared_one(
    deploy, control, account, outofband
):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]
    outofband.patch_webhook(webhook_id, secret="changed-by-someone-else")

    refresh = deployment.refresh()
    assert refresh.summary.resource_changes.get("update") == 1
    assert "[diff: ~secret]" in deployment.cli_text()
    assert "changed-by-someone-else" not in deployment.cli_text()

    deployment.up()
    assert control.live_webhooks(account.client_id)[0]["secret"] == HOOK["secret"]


def test_a_deactivated_webhook_is_reactivated_by_up_after_refresh(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]
    outofband.patch_webhook(webhook_id, is_active="false")

    deployment.refresh()
    deployment.up()

    assert control.live_webhooks(account.client_id)[0]["is_active"] is True


def test_terminal_filter_changed_outside_pulumi_is_restored(deploy, control, account, outofband):
    deployment = deploy([HOOK])
    deployment.up()
    subscription_id = control.live_subscriptions(account.client_id)[0]["id"]
    outofband.set_filter(subscription_id, ["11111111"])

    deployment.refresh()
    deployment.up()

    assert control.live_subscriptions(account.client_id)[0]["filter"] == {"tids": ["90004889"]}


def test_refresh_of_unchanged_objects_reports_no_changes_and_the_next_preview_is_clean(deploy):
    deployment = deploy([HOOK])
    deployment.up()

    refresh = deployment.refresh()

    assert refresh.summary.resource_changes == {"same": 3}
    deployment.preview(expect_no_changes=True)
