"""SubscriptionRules: check, diff, create or adopt, read, update and delete of a subscription, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from mypos_provider.core.subscriptions import SubscriptionRules
from mypos_provider.core.values import NOT_BEFORE, UNKNOWN, ObjectGone, RuleError
from mypos_provider.core.webhooks import WebhookRules

URL = "https://shop.example.com/mypos/orders"
SECRET = "webhook-secret-0001"
COMPLETED = "pos.payment.completed"
COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"
CANCELLED = "pos.payment.cancelled"
MISSING_ID = "0a1b2c3d-0000-4000-8000-000000000000"


@pytest.fixture
def hook(outofband) -> str:
    """The id of a webhook that already exists in the account (made before this deployment)."""
    return str(outofband.create_webhook(URL, SECRET)["id"])


def declared(webhook_id: Any, **fields: Any) -> dict[str, Any]:
    """The inputs the Subscription resource sends for a declaration."""
    return {"webhook_id": webhook_id, "event": COMPLETED, "terminal_ids": None, "adopt_id": None, **fields}


def made(subscriptions: SubscriptionRules, webhook_id: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A subscription as `pulumi up` makes it: checked, then created. Returns its id and recorded outputs."""
    checked = subscriptions.check({}, declared(webhook_id, **fields))
    assert checked.problems == []
    created = subscriptions.create(checked.inputs)
    return created.id, {**checked.inputs, **created.outputs}


# ---- check ----------------------------------------------------------------------------------------------


def test_an_unknown_event_is_a_problem_with_a_did_you_mean(subscriptions, hook):
    checked = subscriptions.check({}, declared(hook, event="pos.payment.complete"))

    [problem] = checked.problems
    assert problem.field == "event"
    assert "unknown event 'pos.payment.complete': did you mean 'pos.payment.completed'?" in problem.message
    assert "myPOS offers" in problem.message and CANCELLED in problem.message


def test_the_catalogue_is_fetched_once_for_every_check_of_a_deployment(subscriptions, hook, control):
    control.clear_requests()

    for event in (COMPLETED, CANCELLED, COMPLETED):
        assert subscriptions.check({}, declared(hook, event=event)).problems == []

    assert control.request_counts()["GET /v1/events"] == 1


def test_an_unchanged_event_and_webhook_need_no_request(new_context, hook, control):
    recorded = declared(hook, terminal_ids=["90004889"])
    control.clear_requests()

    checked = SubscriptionRules(new_context()).check(recorded, declared(hook, terminal_ids=["90004890"]))

    assert checked.problems == [] and control.requests() == []


def test_webhook_id_of_a_missing_webhook_is_a_problem_on_webhook_id(subscriptions):
    [problem] = subscriptions.check({}, declared(MISSING_ID)).problems

    assert problem.field == "webhook_id"
    assert f"webhook_id {MISSING_ID}: this account has no such webhook" in problem.message


def test_an_existing_webhook_is_accepted(subscriptions, hook):
    assert subscriptions.check({}, declared(hook)).problems == []


def test_a_webhook_id_not_known_yet_is_not_looked_up(subscriptions, control):
    control.clear_requests()

    checked = subscriptions.check({}, declared(UNKNOWN))

    assert checked.problems == []
    assert control.request_counts()["GET /v1/webhooks"] == 0


def test_a_webhook_created_in_this_deployment_needs_no_look_up_request(context, control):
    created = WebhookRules(context).create(WebhookRules(context).check({}, {"payload_url": URL}).inputs)
    subscriptions = SubscriptionRules(context)
    control.clear_requests()

    checked = subscriptions.check({}, declared(created.id))

    assert checked.problems == []
    counts = control.request_counts()
    assert counts["GET /v1/webhooks"] == 0 and counts["GET /v1/webhooks/{id}"] == 0


def test_invalid_fields_are_reported_together_before_any_request(subscriptions, control):
    control.clear_requests()

    checked = subscriptions.check({}, declared("", event="", terminal_ids=["90004889", "90004889"]))

    assert [p.field for p in checked.problems] == ["webhook_id", "terminal_ids", "event"]
    assert control.requests() == []


def test_adopt_id_of_a_missing_subscription_is_a_problem_on_adopt_id(subscriptions, hook):
    [problem] = subscriptions.check({}, declared(hook, adopt_id=MISSING_ID)).problems

    assert problem.field == "adopt_id" and "this account has no such subscription" in problem.message


@pytest.mark.parametrize("field", ["event", "webhook_id"])
def test_adopting_a_subscription_of_another_event_or_webhook_is_a_problem_on_that_field(
    subscriptions, hook, outofband, field
):
    live = outofband.subscribe(hook, COMPLETED)
    other = {"event": CANCELLED, "webhook_id": outofband.create_webhook(f"{URL}/2", SECRET)["id"]}[field]
    current = {"event": COMPLETED, "webhook_id": hook}[field]

    [problem] = subscriptions.check({}, {**declared(hook, adopt_id=live["id"]), field: other}).problems

    assert problem.field == field
    assert f"adopt_id {live['id']} is a subscription with {field} {current!r}" in problem.message
    assert f"declare {field}={current!r} to adopt it" in problem.message


def test_adopting_for_a_webhook_not_known_yet_is_reviewed_on_the_event_alone(subscriptions, reporter, hook, outofband):
    live = outofband.subscribe(hook, COMPLETED)

    checked = subscriptions.check({}, declared(UNKNOWN, adopt_id=live["id"]))

    assert checked.problems == [] and "will be adopted" in reporter.infos[0]


def test_the_adoption_review_says_how_the_terminal_filter_will_change(subscriptions, reporter, hook, outofband):
    live = outofband.subscribe(hook, COMPLETED, ["90004889"])

    subscriptions.check({}, declared(hook, adopt_id=live["id"], terminal_ids=["90004890", "90004891"]))

    assert reporter.infos == [
        f"subscription {live['id']} ({COMPLETED} of webhook {hook}) will be adopted and its terminal filter "
        "changed: 90004889 => 90004890, 90004891"
    ]


def test_the_adoption_review_of_a_subscription_as_declared_says_nothing_changes(
    subscriptions, reporter, hook, outofband
):
    live = outofband.subscribe(hook, COMPLETED, ["90004889", "90004890"])

    subscriptions.check({}, declared(hook, adopt_id=live["id"], terminal_ids=["90004890", "90004889"]))

    assert reporter.infos[0].endswith("will be adopted as it is (nothing to change)")


# ---- diff -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("event", CANCELLED), ("webhook_id", MISSING_ID)])
def test_a_changed_event_or_webhook_replaces_the_subscription(subscriptions, hook, field, value):
    sub_id, recorded = made(subscriptions, hook)

    changes = subscriptions.diff(sub_id, recorded, {**recorded, field: value})

    assert (changes.replaced, changes.updated) == ((field,), ())


def test_a_webhook_id_not_known_yet_replaces_the_subscription(subscriptions, hook):
    sub_id, recorded = made(subscriptions, hook)

    assert subscriptions.diff(sub_id, recorded, {**recorded, "webhook_id": UNKNOWN}).replaced == ("webhook_id",)


def test_terminal_ids_in_another_order_are_no_change(subscriptions, hook):
    sub_id, recorded = made(subscriptions, hook, terminal_ids=["90004889", "90004890"])

    assert not subscriptions.diff(sub_id, recorded, {**recorded, "terminal_ids": ["90004890", "90004889"]}).any


@pytest.mark.parametrize("terminal_ids", [["90004889"], None, ["90004889", "90004890", "90004891"]])
def test_a_different_set_of_terminal_ids_is_an_update_in_place(subscriptions, hook, terminal_ids):
    sub_id, recorded = made(subscriptions, hook, terminal_ids=["90004889", "90004890"])

    changes = subscriptions.diff(sub_id, recorded, {**recorded, "terminal_ids": terminal_ids})

    assert (changes.updated, changes.replaced) == (("terminal_ids",), ())


# ---- create ---------------------------------------------------------------------------------------------


def test_create_subscribes_the_webhook_to_the_event_for_the_declared_terminals(subscriptions, hook, control, account):
    created = subscriptions.create(declared(hook, terminal_ids=["90004890", "90004889"]))

    [live] = control.live_subscriptions(account.client_id)
    assert live["id"] == created.id
    assert created.outputs == {
        "webhook_id": hook,
        "event": COMPLETED,
        "event_id": COMPLETED_ID,
        "terminal_ids": ["90004890", "90004889"],
    }


def test_an_identical_live_subscription_is_adopted_with_a_warning_not_duplicated(
    subscriptions, reporter, hook, outofband, control, account
):
    # The `pulumi state delete` case: the subscription exists, the state no longer knows it.
    existing = outofband.subscribe(hook, COMPLETED, ["90004889", "90004890"])
    control.clear_requests()

    created = subscriptions.create(declared(hook, terminal_ids=["90004890", "90004889"]))

    assert created.id == existing["id"]
    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [existing["id"]]
    assert control.writes() == []
    [warning] = reporter.warnings
    assert f"subscription {existing['id']} ({COMPLETED} of webhook {hook}) already exists" in warning
    assert "deliver every event twice" in warning


def test_a_subscription_of_another_filter_is_not_taken_for_an_identical_one(subscriptions, hook, outofband):
    existing = outofband.subscribe(hook, COMPLETED, ["90004889"])

    created = subscriptions.create(declared(hook))

    assert created.id != existing["id"]


def test_a_subscription_of_a_webhook_created_in_this_deployment_lists_no_subscriptions(context, control, account):
    webhooks = WebhookRules(context)
    hook = webhooks.create(webhooks.check({}, {"payload_url": URL}).inputs)
    control.clear_requests()

    SubscriptionRules(context).create(declared(hook.id))

    assert control.request_counts()["GET /v1/subscriptions"] == 0
    assert len(control.live_subscriptions(account.client_id)) == 1


def test_a_create_that_committed_then_failed_is_adopted_not_duplicated(subscriptions, hook, emulator, control, account):
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/subscriptions", "kind": "commit_then_fail", "status": 500, "sequence": [True]}]
    )

    created = subscriptions.create(declared(hook, terminal_ids=["90004889"]))

    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [created.id]
    assert control.request_counts()["POST /v1/subscriptions"] == 1


def test_adoption_converges_the_terminal_filter_in_place(subscriptions, hook, outofband, control, account):
    live = outofband.subscribe(hook, COMPLETED, ["90004889"])
    control.clear_requests()

    created = subscriptions.create(declared(hook, adopt_id=live["id"], terminal_ids=["90004890"]))

    [after] = control.live_subscriptions(account.client_id)
    assert created.id == after["id"] == live["id"]
    assert created.outputs["terminal_ids"] == ["90004890"] and created.outputs["adopt_id"] == live["id"]
    assert control.request_counts()["POST /v1/subscriptions"] == 0


def test_adopting_a_subscription_as_declared_writes_nothing(subscriptions, hook, outofband, control):
    live = outofband.subscribe(hook, COMPLETED)
    control.clear_requests()

    subscriptions.create(declared(hook, adopt_id=live["id"]))

    assert control.writes() == []


def test_adopting_a_subscription_of_another_event_fails_on_event(subscriptions, hook, outofband):
    live = outofband.subscribe(hook, CANCELLED)

    with pytest.raises(RuleError) as failure:
        subscriptions.create(declared(hook, adopt_id=live["id"]))

    assert failure.value.field == "event"


def test_adopting_a_missing_subscription_fails_on_adopt_id(subscriptions, hook):
    with pytest.raises(RuleError) as failure:
        subscriptions.create(declared(hook, adopt_id=MISSING_ID))

    assert failure.value.field == "adopt_id"


def test_create_of_an_event_missing_from_the_catalogue_fails_on_event(subscriptions, hook, control, account):
    with pytest.raises(RuleError) as failure:
        subscriptions.create(declared(hook, event="pos.payment.refunded"))

    assert failure.value.field == "event" and "no longer in myPOS's event catalogue" in str(failure.value)
    assert control.live_subscriptions(account.client_id) == []


# ---- read -----------------------------------------------------------------------------------------------


def test_read_reports_the_live_filter_as_inputs_and_outputs(subscriptions, new_context, hook, outofband):
    sub_id, recorded = made(subscriptions, hook, terminal_ids=["90004889"])
    outofband.set_filter(sub_id, ["90004890"])

    read = SubscriptionRules(new_context()).read(sub_id, recorded)

    assert read is not None
    assert read.inputs == {
        "webhook_id": hook,
        "event": COMPLETED,
        "terminal_ids": ["90004890"],
        NOT_BEFORE: recorded[NOT_BEFORE],
    }
    assert read.outputs == {
        "webhook_id": hook,
        "event": COMPLETED,
        "event_id": COMPLETED_ID,
        "terminal_ids": ["90004890"],
        NOT_BEFORE: recorded[NOT_BEFORE],
    }


def test_read_keeps_the_declared_order_of_the_same_terminals(subscriptions, new_context, hook):
    sub_id, recorded = made(subscriptions, hook, terminal_ids=["90004890", "90004889"])

    read = SubscriptionRules(new_context()).read(sub_id, recorded)

    assert read is not None and read.inputs["terminal_ids"] == ["90004890", "90004889"]


def test_read_with_nothing_recorded_takes_the_event_id_from_the_catalogue(new_context, hook, outofband):
    # What `Subscription.get` asks for: an object read by id alone.
    live = outofband.subscribe(hook, COMPLETED)

    read = SubscriptionRules(new_context()).read(live["id"], {})

    assert read is not None and read.outputs["event_id"] == COMPLETED_ID


def test_read_of_an_adopted_subscription_keeps_its_adopt_id(subscriptions, new_context, hook, outofband):
    live = outofband.subscribe(hook, COMPLETED)
    _, recorded = made(subscriptions, hook, adopt_id=live["id"])

    read = SubscriptionRules(new_context()).read(live["id"], recorded)

    assert read is not None and read.inputs["adopt_id"] == read.outputs["adopt_id"] == live["id"]


def test_read_of_a_subscription_deleted_outside_is_none_with_a_warning(subscriptions, new_context, hook, outofband):
    sub_id, recorded = made(subscriptions, hook)
    outofband.delete_subscription(sub_id)
    context = new_context()

    assert SubscriptionRules(context).read(sub_id, recorded) is None
    [warning] = context.reporter.warnings
    assert f"subscription {sub_id} (webhook {hook}, event {COMPLETED}) no longer exists in myPOS" in warning


def test_one_listing_serves_the_reads_of_many_subscriptions(new_context, hook, outofband, control):
    ids = [outofband.subscribe(hook, event)["id"] for event in (COMPLETED, CANCELLED, "pos.payment.failed")]
    subscriptions = SubscriptionRules(new_context())
    control.clear_requests()

    reads = [subscriptions.read(sub_id, {"event": "x"}) for sub_id in ids]

    assert [r.id for r in reads if r is not None] == ids
    counts = control.request_counts()
    assert counts["GET /v1/subscriptions"] == 1 and counts["GET /v1/subscriptions/{id}"] == 0


# ---- update ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("terminal_ids", [["90004890", "90004891"], None])
def test_update_sets_the_terminal_filter(subscriptions, hook, control, account, terminal_ids):
    sub_id, recorded = made(subscriptions, hook, terminal_ids=["90004889"])

    outputs = subscriptions.update(sub_id, recorded, {**recorded, "terminal_ids": terminal_ids})

    [live] = control.live_subscriptions(account.client_id)
    assert outputs["terminal_ids"] == terminal_ids and outputs["event_id"] == COMPLETED_ID
    assert (live["filter"] or {}).get("tids") == terminal_ids


def test_update_of_a_subscription_deleted_outside_raises_object_gone(subscriptions, hook, outofband):
    sub_id, recorded = made(subscriptions, hook)
    outofband.delete_subscription(sub_id)

    with pytest.raises(ObjectGone) as failure:
        subscriptions.update(sub_id, recorded, {**recorded, "terminal_ids": ["90004889"]})

    assert (failure.value.kind, failure.value.object_id) == ("subscription", sub_id)


# ---- delete ---------------------------------------------------------------------------------------------


def test_delete_removes_the_subscription(subscriptions, new_context, hook, control, account):
    sub_id, recorded = made(subscriptions, hook)

    SubscriptionRules(new_context()).delete(sub_id, recorded)

    assert control.live_subscriptions(account.client_id) == []


def test_delete_of_a_subscription_gone_with_its_webhook_succeeds(
    subscriptions, new_context, hook, outofband, control, account
):
    sub_id, recorded = made(subscriptions, hook)
    outofband.delete_webhook(hook)

    SubscriptionRules(new_context()).delete(sub_id, recorded)

    assert control.live_subscriptions(account.client_id) == []


def test_delete_of_a_subscription_another_resource_holds_releases_it_with_a_warning(
    new_context, hook, outofband, control, account
):
    live = outofband.subscribe(hook, COMPLETED)
    context = new_context()
    subscriptions = SubscriptionRules(context)
    # The resource that stays in the program diffs without replacement: it holds the subscription.
    assert not subscriptions.diff(live["id"], declared(hook), declared(hook)).any

    subscriptions.delete(live["id"], {"event": COMPLETED, "webhook_id": hook})

    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [live["id"]]
    [warning] = context.reporter.warnings
    assert f"subscription {live['id']} ({COMPLETED} of webhook {hook}) is held by another resource" in warning
