"""Bringing webhooks and subscriptions made outside Pulumi under management, without recreating them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pulumi.automation import errors as auto_errors

pytestmark = pytest.mark.engine

URL = "https://shop.example.com/mypos/legacy"
SECRET = "clicked-together-secret-01"


def listed_account(emulator, account) -> dict:
    """What `python -m mypos_provider list --format json` reports, credentials from the environment."""
    env = {
        **os.environ,
        "MYPOS_CLIENT_ID": account.client_id,
        "MYPOS_CLIENT_SECRET": account.client_secret,
        "MYPOS_AUTH_URL": emulator.url,
        "MYPOS_API_URL": emulator.api_url,
        "MYPOS_DOTENV": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mypos_provider", "list", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_adopting_a_webhook_and_two_subscriptions_recreates_nothing_and_keeps_the_secret(
    deploy, control, account, emulator, outofband
):
    hook = outofband.create_webhook(URL, SECRET)
    paid = outofband.subscribe(hook["id"], "pos.payment.completed")
    cancelled = outofband.subscribe(hook["id"], "pos.payment.cancelled", ["90004889"])
    listed = listed_account(emulator, account)["webhooks"][0]
    assert listed["secret"] == "********"
    deployment = deploy(
        [
            {
                "name": "legacy",
                "payloadUrl": listed["payload_url"],
                "adoptId": listed["id"],
                "events": [
                    {
                        "event": s["event"],
                        "adoptId": s["id"],
                        **({"terminalIds": s["terminal_ids"]} if s["terminal_ids"] else {}),
                    }
                    for s in listed["subscriptions"]
                ],
            }
        ]
    )
    control.clear_requests()

    deployment.up()

    assert not [r for r in control.writes() if r["method"] in ("POST", "DELETE")]
    webhooks = control.live_webhooks(account.client_id)
    assert [(w["id"], w["secret"]) for w in webhooks] == [(hook["id"], SECRET)]
    assert sorted(s["id"] for s in control.live_subscriptions(account.client_id)) == sorted(
        [paid["id"], cancelled["id"]]
    )
    deployment.preview(expect_no_changes=True)


def test_adopting_converges_declared_values_in_place(deploy, control, account, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    outofband.patch_webhook(hook["id"], is_active="false")

    deploy([{"name": "legacy", "payloadUrl": URL + "/v2", "adoptId": hook["id"], "events": []}]).up()

    webhook = control.live_webhooks(account.client_id)[0]
    assert (webhook["id"], webhook["payload_url"], webhook["is_active"], webhook["secret"]) == (
        hook["id"],
        URL + "/v2",
        True,
        SECRET,
    )


def test_adopting_an_id_that_does_not_exist_fails_and_creates_nothing(deploy, control, account):
    deployment = deploy(
        [{"name": "legacy", "payloadUrl": URL, "adoptId": "0a1b2c3d-0000-4000-8000-000000000000", "events": []}]
    )

    with pytest.raises(auto_errors.CommandError):
        deployment.up()

    assert "adopt_id 0a1b2c3d-0000-4000-8000-000000000000: this account has no such webhook" in deployment.cli_text()
    assert control.live_webhooks(account.client_id) == []


def test_adopting_a_subscription_to_another_event_is_refused(deploy, control, account, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    paid = outofband.subscribe(hook["id"], "pos.payment.completed")
    deployment = deploy(
        [
            {
                "name": "legacy",
                "payloadUrl": URL,
                "adoptId": hook["id"],
                "events": [{"event": "pos.payment.cancelled", "adoptId": paid["id"]}],
            }
        ]
    )

    with pytest.raises(auto_errors.CommandError):
        deployment.up()

    assert "declare event='pos.payment.completed' to adopt it" in deployment.cli_text()
    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [paid["id"]]
