"""Changes to declared values: what updates in place and what replaces, as the engine reports it."""

from __future__ import annotations

import copy

import pytest

pytestmark = pytest.mark.engine

HOOK = {
    "name": "orders",
    "payloadUrl": "https://shop.example.com/mypos/orders",
    "secret": "first-secret-0123456789",
    "events": [{"event": "pos.payment.completed", "terminalIds": ["90004889"]}],
}


def changed(**fields):
    hook = copy.deepcopy(HOOK)
    hook.update(fields)
    return [hook]


def test_rotating_the_secret_updates_the_webhook_in_place(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()
    before = control.live_webhooks(account.client_id)[0]

    deployment.set_webhooks(changed(secret="second-secret-987654321"))
    up = deployment.up()

    after = control.live_webhooks(account.client_id)[0]
    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert (after["id"], after["secret"]) == (before["id"], "second-secret-987654321")


def test_preview_diff_of_a_rotation_shows_only_the_secret_and_masks_it(deploy):
    deployment = deploy([HOOK])
    deployment.up()
    deployment.set_webhooks(changed(secret="second-secret-987654321"))
    deployment.output.clear()

    deployment.preview(diff=True)

    text = deployment.cli_text()
    assert "~ secret: [secret] => [secret]" in text
    assert "payload_url" not in text and "is_active" not in text
    assert "second-secret" not in text and "first-secret" not in text


def test_deactivating_the_webhook_updates_it_in_place(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]

    deployment.set_webhooks(changed(active=False))
    up = deployment.up()

    after = control.live_webhooks(account.client_id)[0]
    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert (after["id"], after["is_active"]) == (webhook_id, False)


def test_changing_the_payload_url_updates_the_webhook_in_place(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()
    webhook_id = control.live_webhooks(account.client_id)[0]["id"]

    deployment.set_webhooks(changed(payloadUrl="https://shop.example.com/mypos/v2"))
    deployment.up()

    after = control.live_webhooks(account.client_id)
    assert [(w["id"], w["payload_url"]) for w in after] == [(webhook_id, "https://shop.example.com/mypos/v2")]


def test_changing_terminal_ids_updates_the_subscription_in_place(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()
    subscription_id = control.live_subscriptions(account.client_id)[0]["id"]

    deployment.set_webhooks(
        changed(events=[{"event": "pos.payment.completed", "terminalIds": ["90004889", "90004890"]}])
    )
    up = deployment.up()

    after = control.live_subscriptions(account.client_id)
    assert up.summary.resource_changes == {"update": 1, "same": 2}
    assert [(s["id"], sorted(s["filter"]["tids"])) for s in after] == [(subscription_id, ["90004889", "90004890"])]


def test_reordering_terminal_ids_is_no_change(deploy):
    deployment = deploy(changed(events=[{"event": "pos.payment.completed", "terminalIds": ["90004889", "90004890"]}]))
    deployment.up()

    deployment.set_webhooks(
        changed(events=[{"event": "pos.payment.completed", "terminalIds": ["90004890", "90004889"]}])
    )

    assert deployment.preview(expect_no_changes=True).change_summary == {"same": 3}


def test_changing_the_event_replaces_the_subscription(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()
    before = control.live_subscriptions(account.client_id)[0]

    deployment.set_webhooks(changed(events=[{"event": "pos.payment.cancelled", "terminalIds": ["90004889"]}]))
    deployment.up()

    after = control.live_subscriptions(account.client_id)
    assert len(after) == 1
    assert after[0]["id"] != before["id"] and after[0]["event"] == "pos.payment.cancelled"


def test_removing_the_secret_from_the_config_keeps_the_current_secret(deploy, control, account):
    deployment = deploy([HOOK])
    deployment.up()

    without_secret = changed()
    del without_secret[0]["secret"]
    deployment.set_webhooks(without_secret)

    assert deployment.preview(expect_no_changes=True).change_summary == {"same": 3}
    assert control.live_webhooks(account.client_id)[0]["secret"] == HOOK["secret"]
