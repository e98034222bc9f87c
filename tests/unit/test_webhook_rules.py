"""WebhookRules: check, diff, create or adopt, read, update and delete of a webhook, against the emulator."""

from __future__ import annotations

import string
from typing import Any

import pytest

from mypos_provider.client import RetryPolicy
from mypos_provider.core import reconcile
from mypos_provider.core.context import DeploymentContext
from mypos_provider.core.values import SECRET_GENERATED, UNKNOWN, CollectingReporter, ObjectGone, RuleError
from mypos_provider.core.webhooks import WebhookRules

URL = "https://shop.example.com/mypos/orders"
OTHER_URL = "https://shop.example.com/mypos/other"
SECRET = "declared-secret-0001"
MISSING_ID = "0a1b2c3d-0000-4000-8000-000000000000"


def declared(**fields: Any) -> dict[str, Any]:
    """The inputs the Webhook resource sends for a declaration (secret omitted unless given)."""
    return {"payload_url": URL, "secret": None, "is_active": True, "adopt_id": None, **fields}


def made(webhooks: WebhookRules, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A webhook as `pulumi up` makes it: checked, then created. Returns its id and recorded outputs."""
    checked = webhooks.check({}, declared(**fields))
    assert checked.problems == []
    created = webhooks.create(checked.inputs)
    return created.id, {**checked.inputs, **created.outputs}


# ---- check ----------------------------------------------------------------------------------------------


def test_an_omitted_secret_is_generated_with_32_letters_and_digits_and_marked_generated(webhooks):
    checked = webhooks.check({}, declared())

    secret = checked.inputs["secret"]
    assert len(secret) == 32 and set(secret) <= set(string.ascii_letters + string.digits)
    assert checked.inputs[SECRET_GENERATED] is True


def test_an_omitted_secret_keeps_the_secret_recorded_last_time(webhooks):
    recorded = webhooks.check({}, declared()).inputs

    again = webhooks.check(recorded, declared())

    assert again.inputs["secret"] == recorded["secret"]
    assert again.inputs[SECRET_GENERATED] is True


def test_a_declared_secret_is_used_and_not_marked_generated(webhooks):
    checked = webhooks.check({}, declared(secret=SECRET))

    assert (checked.inputs["secret"], checked.inputs[SECRET_GENERATED]) == (SECRET, False)


def test_adopting_without_a_secret_declares_none(webhooks, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    checked = webhooks.check({}, declared(adopt_id=live["id"]))

    assert checked.problems == []
    assert (checked.inputs["secret"], checked.inputs[SECRET_GENERATED]) == (None, False)


def test_is_active_defaults_to_true(webhooks):
    assert webhooks.check({}, declared(is_active=None)).inputs["is_active"] is True


def test_values_not_known_yet_are_not_validated(webhooks):
    checked = webhooks.check({}, declared(payload_url=UNKNOWN, secret=UNKNOWN, is_active=UNKNOWN))

    assert checked.problems == []
    assert checked.inputs["payload_url"] is UNKNOWN


def test_every_invalid_field_is_reported_at_once_by_name(webhooks):
    checked = webhooks.check({}, declared(payload_url="ftp://x", secret="x" * 33, is_active="yes", adopt_id="../x"))

    assert [p.field for p in checked.problems] == ["payload_url", "secret", "is_active", "adopt_id"]


def test_a_check_of_known_inputs_sends_no_request(webhooks, control):
    recorded = webhooks.check({}, declared(secret=SECRET)).inputs
    control.clear_requests()

    webhooks.check({}, declared(secret=SECRET))
    webhooks.check(recorded, declared(adopt_id="647f091e0000000000000001"))

    assert control.requests() == []


def test_adopt_id_of_a_missing_webhook_is_a_problem_on_adopt_id(webhooks):
    checked = webhooks.check({}, declared(adopt_id=MISSING_ID))

    assert [p.field for p in checked.problems] == ["adopt_id"]
    assert "this account has no such webhook" in checked.problems[0].message
    assert "python -m mypos_provider list" in checked.problems[0].message


def test_the_adoption_review_says_what_will_change_with_secrets_masked(webhooks, reporter, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    webhooks.check({}, declared(payload_url=OTHER_URL, secret=SECRET, is_active=False, adopt_id=live["id"]))

    [note] = reporter.infos
    assert f"webhook {live['id']} ({URL}) will be adopted and changed in place" in note
    assert f"payload_url '{URL}' => '{OTHER_URL}'" in note
    assert "secret [secret] => [secret]" in note and "is_active true => false" in note
    assert "live-secret-0001" not in note and SECRET not in note


def test_the_adoption_review_of_a_webhook_as_declared_says_nothing_changes(webhooks, reporter, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    webhooks.check({}, declared(adopt_id=live["id"]))

    assert reporter.infos == [f"webhook {live['id']} ({URL}) will be adopted as it is (nothing to change)"]


def test_the_adoption_review_of_a_url_not_known_yet_says_so(webhooks, reporter, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    webhooks.check({}, declared(payload_url=UNKNOWN, adopt_id=live["id"]))

    assert f"payload_url '{URL}' => (known after the update)" in reporter.infos[0]


# ---- diff -----------------------------------------------------------------------------------------------


def test_diff_of_the_recorded_inputs_is_no_change(webhooks):
    webhook_id, recorded = made(webhooks, secret=SECRET)

    assert not webhooks.diff(webhook_id, recorded, webhooks.check(recorded, declared(secret=SECRET)).inputs).any


@pytest.mark.parametrize(
    ("field", "value"), [("payload_url", OTHER_URL), ("secret", "rotated-secret-0002"), ("is_active", False)]
)
def test_diff_reports_each_changed_field_as_an_update_in_place(webhooks, field, value):
    webhook_id, recorded = made(webhooks, secret=SECRET)

    changes = webhooks.diff(webhook_id, recorded, {**recorded, field: value})

    assert (changes.updated, changes.replaced) == ((field,), ())


def test_an_undeclared_secret_is_never_a_change(webhooks):
    webhook_id, recorded = made(webhooks, secret=SECRET)

    assert not webhooks.diff(webhook_id, recorded, {**recorded, "secret": None}).any


def test_a_value_not_known_yet_is_a_change(webhooks):
    webhook_id, recorded = made(webhooks)

    assert webhooks.diff(webhook_id, recorded, {**recorded, "payload_url": UNKNOWN}).updated == ("payload_url",)


# ---- create ---------------------------------------------------------------------------------------------


def test_create_makes_a_webhook_with_the_declared_values(webhooks, control, account):
    created = webhooks.create(webhooks.check({}, declared(secret=SECRET)).inputs)

    [live] = control.live_webhooks(account.client_id)
    assert (live["id"], live["payload_url"], live["secret"], live["is_active"]) == (created.id, URL, SECRET, True)
    assert created.outputs["payload_url"] == URL and created.outputs["secret"] == SECRET
    assert created.outputs["is_active"] is True and created.outputs["created_on"].endswith("GMT")


def test_create_of_an_inactive_webhook_leaves_it_inactive(webhooks, control, account):
    created = webhooks.create(webhooks.check({}, declared(is_active=False)).inputs)

    [live] = control.live_webhooks(account.client_id)
    assert live["is_active"] is False and created.outputs["is_active"] is False


def test_adoption_converges_in_place_and_never_rotates_an_undeclared_secret(webhooks, control, account, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")
    checked = webhooks.check({}, declared(payload_url=OTHER_URL, is_active=False, adopt_id=live["id"]))
    control.clear_requests()

    created = webhooks.create(checked.inputs)

    [after] = control.live_webhooks(account.client_id)
    assert created.id == after["id"] == live["id"]
    assert (after["payload_url"], after["secret"], after["is_active"]) == (OTHER_URL, "live-secret-0001", False)
    assert created.outputs["secret"] == "live-secret-0001" and created.outputs["adopt_id"] == live["id"]
    assert control.request_counts()["POST /v1/webhooks"] == 0


def test_adopting_a_webhook_as_declared_writes_nothing(webhooks, control, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")
    checked = webhooks.check({}, declared(adopt_id=live["id"]))
    control.clear_requests()

    webhooks.create(checked.inputs)

    assert control.writes() == []


def test_adopting_with_a_declared_secret_sets_that_secret(webhooks, control, account, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    webhooks.create(webhooks.check({}, declared(secret=SECRET, adopt_id=live["id"])).inputs)

    assert control.live_webhooks(account.client_id)[0]["secret"] == SECRET


def test_adopting_a_webhook_deleted_since_the_preview_fails_on_adopt_id(webhooks, new_context, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")
    previewed = webhooks.check({}, declared(adopt_id=live["id"]))
    outofband.delete_webhook(live["id"])

    with pytest.raises(RuleError) as failure:
        WebhookRules(new_context()).create(previewed.inputs)

    assert failure.value.field == "adopt_id" and "no such webhook" in str(failure.value)


def commit_then_fail(path: str) -> list[dict[str, Any]]:
    return [{"method": "POST", "path": path, "kind": "commit_then_fail", "status": 502, "sequence": [True]}]


def test_a_create_that_committed_then_failed_is_adopted_not_duplicated(webhooks, emulator, control, account, reporter):
    checked = webhooks.check({}, declared())
    emulator.set_faults(commit_then_fail("/v1/webhooks"))

    created = webhooks.create(checked.inputs)

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [created.id]
    assert control.request_counts()["POST /v1/webhooks"] == 1
    assert reporter.warnings == []  # a generated secret is this create's own: no doubt to report


def test_adopting_after_an_interrupted_create_on_a_declared_secret_warns(webhooks, emulator, control, reporter):
    checked = webhooks.check({}, declared(secret=SECRET))
    emulator.set_faults(commit_then_fail("/v1/webhooks"))

    created = webhooks.create(checked.inputs)

    [warning] = reporter.warnings
    assert f"webhook {created.id} ({URL}) was adopted after an interrupted create" in warning
    assert "declared secret could be shared with another stack" in warning and SECRET not in warning


def test_an_identical_webhook_made_before_the_attempt_is_never_adopted(aged_emulator, new_context, account):
    emulator, other_stacks = aged_emulator(lambda outofband: outofband.create_webhook(URL, SECRET))
    webhooks = WebhookRules(new_context(emulator))
    checked = webhooks.check({}, declared(secret=SECRET))
    # Fails before committing, so the look-up runs and finds only the other stack's hour-old webhook.
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 503, "sequence": [True]}]
    )

    created = webhooks.create(checked.inputs)

    live = [w["id"] for w in emulator.state()["accounts"][account.client_id]["webhooks"] if not w["deleted_on"]]
    assert created.id != other_stacks["id"]
    assert sorted(live) == sorted([other_stacks["id"], created.id])


# ---- read -----------------------------------------------------------------------------------------------


def test_read_reports_the_live_values_as_inputs_and_outputs(webhooks, new_context, outofband):
    webhook_id, recorded = made(webhooks, secret=SECRET)
    outofband.patch_webhook(webhook_id, payload_url=OTHER_URL, secret="changed-outside-0001", is_active="false")

    read = WebhookRules(new_context()).read(webhook_id, recorded)

    assert read is not None and read.id == webhook_id
    live = {"payload_url": OTHER_URL, "secret": "changed-outside-0001", "is_active": False}
    assert {name: value for name, value in read.inputs.items() if not name.startswith("__")} == live
    assert {name: read.outputs[name] for name in live} == live


def test_a_generated_secret_changed_by_hand_is_kept_as_declared_by_a_read(webhooks, new_context, outofband):
    webhook_id, recorded = made(webhooks)
    outofband.patch_webhook(webhook_id, secret="changed-outside-0001")

    read = WebhookRules(new_context()).read(webhook_id, recorded)

    assert read is not None and read.outputs["secret"] == "changed-outside-0001"
    assert read.inputs["secret"] == recorded["secret"] and read.inputs[SECRET_GENERATED] is True


def test_the_next_update_restores_a_generated_secret_changed_by_hand(
    webhooks, new_context, outofband, control, account
):
    webhook_id, recorded = made(webhooks)
    outofband.patch_webhook(webhook_id, secret="changed-outside-0001")
    read = WebhookRules(new_context()).read(webhook_id, recorded)
    assert read is not None and read.inputs is not None
    rules = WebhookRules(new_context())

    checked = rules.check(read.inputs, declared())
    changes = rules.diff(webhook_id, read.outputs, checked.inputs)
    rules.update(webhook_id, read.outputs, checked.inputs)

    assert changes.updated == ("secret",)
    assert control.live_webhooks(account.client_id)[0]["secret"] == recorded["secret"]


def test_read_carries_the_adoption_and_the_generated_flag_over(webhooks, new_context, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")
    _, recorded = made(webhooks, adopt_id=live["id"])

    read = WebhookRules(new_context()).read(live["id"], {**recorded, SECRET_GENERATED: True})

    assert read is not None
    assert (read.inputs["adopt_id"], read.inputs[SECRET_GENERATED]) == (live["id"], True)
    assert read.outputs["adopt_id"] == live["id"]


def test_read_of_a_webhook_deleted_outside_is_none_with_a_warning(webhooks, new_context, outofband):
    webhook_id, recorded = made(webhooks)
    outofband.delete_webhook(webhook_id)
    context = new_context()

    assert WebhookRules(context).read(webhook_id, recorded) is None
    [warning] = context.reporter.warnings
    assert f"webhook {webhook_id} ({URL}) no longer exists in myPOS" in warning
    assert "the next update recreates it" in warning


def test_one_listing_serves_the_reads_of_many_webhooks(new_context, outofband, control):
    ids = [outofband.create_webhook(f"{URL}/{n}", SECRET)["id"] for n in range(5)]
    webhooks = WebhookRules(new_context())
    control.clear_requests()

    reads = [webhooks.read(webhook_id, {}) for webhook_id in ids]

    assert [r.id for r in reads if r is not None] == ids
    counts = control.request_counts()
    assert counts["GET /v1/webhooks"] == 1 and counts["GET /v1/webhooks/{id}"] == 0


# ---- update ---------------------------------------------------------------------------------------------


def test_update_sends_only_the_fields_that_differ(webhooks, control, account, outofband):
    webhook_id, recorded = made(webhooks, secret=SECRET)
    # Drift nobody has refreshed yet: an update that re-sent the URL would undo it.
    outofband.patch_webhook(webhook_id, payload_url=OTHER_URL)

    outputs = webhooks.update(webhook_id, recorded, {**recorded, "is_active": False})

    [live] = control.live_webhooks(account.client_id)
    assert (live["payload_url"], live["secret"], live["is_active"]) == (OTHER_URL, SECRET, False)
    assert outputs["is_active"] is False


def test_update_with_nothing_different_sends_no_request(webhooks, control):
    webhook_id, recorded = made(webhooks, secret=SECRET)
    control.clear_requests()

    outputs = webhooks.update(webhook_id, recorded, dict(recorded))

    assert control.requests() == []
    assert outputs == recorded


def test_update_with_nothing_different_keeps_the_secret_of_an_adopted_webhook_without_one(webhooks, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")
    webhook_id, recorded = made(webhooks, adopt_id=live["id"])

    # A diff that saw a value not known yet (preview) can lead to an update that finds nothing different.
    outputs = webhooks.update(webhook_id, recorded, {**recorded, "secret": None})

    assert outputs["secret"] == "live-secret-0001"


def test_update_of_a_webhook_deleted_outside_raises_object_gone(webhooks, outofband):
    webhook_id, recorded = made(webhooks)
    outofband.delete_webhook(webhook_id)

    with pytest.raises(ObjectGone) as failure:
        webhooks.update(webhook_id, recorded, {**recorded, "payload_url": OTHER_URL})

    assert (failure.value.kind, failure.value.object_id) == ("webhook", webhook_id)


# ---- delete ---------------------------------------------------------------------------------------------


def test_delete_removes_the_webhook(webhooks, new_context, control, account):
    webhook_id, recorded = made(webhooks)

    WebhookRules(new_context()).delete(webhook_id, recorded)

    assert control.live_webhooks(account.client_id) == []


def test_delete_of_a_webhook_already_gone_succeeds(webhooks, new_context, outofband, control, account):
    webhook_id, recorded = made(webhooks)
    outofband.delete_webhook(webhook_id)

    WebhookRules(new_context()).delete(webhook_id, recorded)

    assert control.live_webhooks(account.client_id) == []


def test_delete_of_a_webhook_another_resource_holds_releases_it_with_a_warning(
    new_context, outofband, control, account
):
    live = outofband.create_webhook(URL, "live-secret-0001")
    context = new_context()
    webhooks = WebhookRules(context)
    # A rename: the new resource adopts the webhook, then the engine deletes the old resource last.
    webhooks.create(webhooks.check({}, declared(adopt_id=live["id"])).inputs)

    webhooks.delete(live["id"], {"payload_url": URL})

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [live["id"]]
    [warning] = context.reporter.warnings
    assert f"webhook {live['id']} ({URL}) is held by another resource of this deployment" in warning


def test_a_read_for_an_import_declares_no_secret_so_the_webhook_keeps_its_own(webhooks, outofband):
    live = outofband.create_webhook(URL, "live-secret-0001")

    read = webhooks.read(live["id"], {})

    assert read is not None and read.inputs is not None
    assert "secret" not in read.inputs and read.outputs["secret"] == "live-secret-0001"
    assert webhooks.check(read.inputs, declared()).inputs["secret"] is None


# ---- a create whose first attempt myPOS commits late -----------------------------------------------------


def test_a_create_retried_after_an_attempt_that_was_not_found_warns_and_its_late_commit_is_a_duplicate(
    connect, control, account, wait_until
):
    # The first create is held past every look-up (timeout 0.2 s: looks at 0.1, 0.2 and 0.4 s), then committed.
    control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 1.0, "times": 1}])
    reporter = CollectingReporter()
    rules = WebhookRules(DeploymentContext(connect(retry=RetryPolicy(timeout=0.2, backoff_factor=0.01)), reporter))
    checked = rules.check({}, declared())

    created = rules.create(checked.inputs)

    [warning] = reporter.warnings
    assert f"webhook {created.id} ({URL}): an earlier attempt of this create got no answer" in warning
    wait_until(lambda: len(control.live_webhooks(account.client_id)) == 2, timeout=10)
    recorded = reconcile.Recorded(
        "orders",
        created.id,
        reconcile.WebhookKey(URL, checked.inputs["secret"]),
        not_before=checked.inputs["__not_before"],
        secret_generated=True,
    )
    listed = list(connect().iter_webhooks())
    [duplicate] = reconcile.find_duplicates([recorded], listed, managed={created.id})
    assert duplicate.obj.id != created.id and duplicate.obj.secret == checked.inputs["secret"]
