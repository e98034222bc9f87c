"""No webhook secret, client secret or token in plaintext: not in state, stack export, CLI output or logs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine

DECLARED = {
    "name": "declared",
    "payloadUrl": "https://shop.example.com/mypos/declared",
    "secret": "declared-secret-0123456789",
    "events": ["pos.payment.completed"],
}
GENERATED = {
    "name": "generated",
    "payloadUrl": "https://shop.example.com/mypos/generated",
    "events": ["pos.payment.cancelled"],
}


def test_no_secret_leaks_through_a_whole_lifecycle(deploy, control, account, emulator, outofband):
    deployment = deploy([DECLARED, GENERATED])
    deployment.up()
    generated_secret = next(
        w["secret"] for w in control.live_webhooks(account.client_id) if w["payload_url"] == GENERATED["payloadUrl"]
    )
    rotated = dict(DECLARED, secret="rotated-secret-9876543210")
    deployment.set_webhooks([rotated, GENERATED])
    deployment.preview(diff=True)
    deployment.up()
    declared_id = next(
        w["id"] for w in control.live_webhooks(account.client_id) if w["payload_url"] == DECLARED["payloadUrl"]
    )
    outofband.patch_webhook(declared_id, secret="out-of-band-secret-42")
    deployment.refresh()
    deployment.up()
    exported_before_destroy = deployment.export_text()

    secrets = [
        DECLARED["secret"],
        rotated["secret"],
        generated_secret,
        "out-of-band-secret-42",
        account.client_secret,
        *emulator.issued_tokens(),
    ]
    assert len(emulator.issued_tokens()) >= 1
    assert deployment.leaked(secrets) == []
    deployment.destroy()
    assert deployment.leaked(secrets) == []
    assert all(s not in exported_before_destroy for s in secrets)


def test_generated_secret_is_32_characters_and_kept_across_runs(deploy, control, account):
    deployment = deploy([GENERATED])
    deployment.up()
    first = control.live_webhooks(account.client_id)[0]["secret"]

    deployment.up()

    assert len(first) == 32 and first.isalnum()
    assert control.live_webhooks(account.client_id)[0]["secret"] == first


def test_secret_output_is_a_pulumi_secret_whether_declared_or_generated(deploy):
    up = deploy([DECLARED, GENERATED]).up()

    assert up.outputs["webhookSecrets"].secret is True
    for resource in ("declared", "generated"):
        assert len(up.outputs["webhookSecrets"].value[resource]) > 0


def test_provider_blob_is_small_plain_and_identical_in_every_resource(deploy):
    deployment = deploy([DECLARED, GENERATED])
    deployment.up()

    blobs = {
        r["inputs"]["__provider"] if isinstance(r["inputs"]["__provider"], str) else "secret"
        for r in deployment.resources("Webhook")
    }
    sub_blobs = {r["inputs"]["__provider"] for r in deployment.resources("Subscription")}
    assert len(blobs) == 1 and len(sub_blobs) == 1
    (blob,) = blobs
    assert blob != "secret" and len(blob) < 400
