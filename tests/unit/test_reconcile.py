"""reconcile: when a live object is "the one we would have made", for creates, duplicates and `recover`.

These rules are pure functions of listings; the listings here are the API's objects as the client parses them."""

from __future__ import annotations

from datetime import UTC, datetime

from mypos_provider.client import Subscription, Webhook
from mypos_provider.core import reconcile
from mypos_provider.core.reconcile import PendingCreate, SubscriptionKey, WebhookKey

URL = "https://shop.example.com/mypos/orders"
SECRET = "shared-secret-0001"
RUN_BEGAN = 1_800_000_000.0
KEY = WebhookKey(URL, SECRET)
SUB_KEY = SubscriptionKey("hook-1", "pos.payment.completed", frozenset({"90004889", "90004890"}))


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def webhook(object_id: str, created: float | None = RUN_BEGAN, *, url: str = URL, secret: str = SECRET) -> Webhook:
    return Webhook(object_id, url, secret, created_on=None if created is None else at(created))


def subscription(object_id: str, created: float = RUN_BEGAN, *, tids: tuple[str, ...] = ("90004890", "90004889")):
    return Subscription(object_id, "pos.payment.completed", "hook-1", tids, created_on=at(created))


def never(_id: str) -> bool:
    return False


# ---- keys -----------------------------------------------------------------------------------------------


def test_a_webhook_matches_on_its_url_and_secret():
    assert KEY.matches(webhook("a"))
    assert not KEY.matches(webhook("b", secret="another-secret"))
    assert not KEY.matches(webhook("c", url=URL + "/2"))


def test_a_deleted_webhook_never_matches():
    deleted = Webhook("a", URL, SECRET, created_on=at(RUN_BEGAN), deleted_on=at(RUN_BEGAN + 5))

    assert not reconcile.matches(KEY, deleted)


def test_a_subscription_matches_on_webhook_event_and_the_set_of_terminals():
    assert SUB_KEY.matches(subscription("s", tids=("90004889", "90004890")))
    assert not SUB_KEY.matches(subscription("t", tids=("90004889",)))


def test_a_key_never_matches_an_object_of_the_other_kind():
    assert not reconcile.matches(KEY, subscription("s"))
    assert not reconcile.matches(SUB_KEY, webhook("a"))


def test_key_of_an_object_matches_it():
    assert reconcile.key_of(webhook("a")) == KEY
    assert reconcile.key_of(subscription("s")) == SUB_KEY


def test_an_attempt_counts_objects_from_the_second_before_its_start_on_the_servers_clock():
    assert reconcile.attempt_started(RUN_BEGAN + 0.7) == RUN_BEGAN - 1


def test_an_object_without_a_creation_time_cannot_prove_it_is_new():
    assert not reconcile.created_since(webhook("a", created=None), RUN_BEGAN)
    assert reconcile.created_since(webhook("a", created=None), None)


# ---- attempt_look_up ------------------------------------------------------------------------------------


def test_the_look_up_finds_the_newest_match_made_since_the_attempt():
    listing = [webhook("old", RUN_BEGAN - 60), webhook("first", RUN_BEGAN), webhook("newest", RUN_BEGAN + 1)]

    look_up = reconcile.attempt_look_up(lambda: listing, KEY, since=RUN_BEGAN, exclude=never)

    assert look_up().id == "newest"


def test_the_look_up_ignores_matches_made_before_the_attempt():
    look_up = reconcile.attempt_look_up(lambda: [webhook("old", RUN_BEGAN - 1)], KEY, since=RUN_BEGAN, exclude=never)

    assert look_up() is None


def test_the_look_up_never_takes_an_object_another_resource_holds():
    listing = [webhook("mine", RUN_BEGAN), webhook("held", RUN_BEGAN + 1)]

    look_up = reconcile.attempt_look_up(lambda: listing, KEY, since=RUN_BEGAN, exclude=lambda i: i == "held")

    assert look_up().id == "mine"


def test_the_look_up_lists_again_on_every_call():
    listings = [[], [webhook("late", RUN_BEGAN + 2)]]

    look_up = reconcile.attempt_look_up(lambda: listings.pop(0), KEY, since=RUN_BEGAN, exclude=never)

    assert (look_up(), look_up().id) == (None, "late")


# ---- identical_subscription -----------------------------------------------------------------------------


def test_the_identical_subscription_made_first_is_the_one_found():
    live = [subscription("other", tids=("1",)), subscription("first"), subscription("second")]

    assert reconcile.identical_subscription(live, SUB_KEY, exclude=never).id == "first"


def test_an_identical_subscription_held_by_another_resource_is_not_found():
    found = reconcile.identical_subscription([subscription("held")], SUB_KEY, exclude=lambda i: i == "held")

    assert found is None


# ---- plan_recovery --------------------------------------------------------------------------------------


def pending_webhook(
    name: str = "orders", *, generated: bool = True, not_before: float | None = RUN_BEGAN
) -> PendingCreate:
    return PendingCreate(name, KEY, not_before=not_before, secret_generated=generated)


def test_recovery_takes_the_matches_made_since_the_create_was_stamped():
    made = webhook("made", RUN_BEGAN + 3)

    plan = reconcile.plan_recovery([pending_webhook()], [made], recorded=set())

    assert [(m.pending.name, m.obj.id) for m in plan.made] == [("orders", "made")]
    assert plan.ambiguities == [] and plan.warnings == [] and plan.never_made == []


def test_recovery_ignores_recorded_objects_and_objects_older_than_the_stamp():
    live = [webhook("recorded", RUN_BEGAN + 3), webhook("older", RUN_BEGAN - 10)]

    plan = reconcile.plan_recovery([pending_webhook()], live, recorded={"recorded"})

    assert plan.made == [] and plan.ambiguities == []
    assert [c.name for c in plan.never_made] == ["orders"]


def test_recovery_without_a_stamp_proves_nothing_and_asks_a_person():
    plan = reconcile.plan_recovery(
        [pending_webhook(not_before=None)], [webhook("older", RUN_BEGAN - 10)], recorded=set()
    )

    [ambiguity] = plan.ambiguities
    assert plan.made == [] and [c.id for c in ambiguity.candidates] == ["older"]
    assert "does not say when the killed run began" in ambiguity.reason


def test_recovery_without_a_stamp_and_without_a_look_alike_has_nothing_to_ask():
    plan = reconcile.plan_recovery([pending_webhook(not_before=None)], [], recorded=set())

    assert plan.ambiguities == [] and [c.name for c in plan.never_made] == ["orders"]


def test_more_matches_than_creates_is_an_ambiguity_for_a_person_to_settle():
    live = [webhook("a", RUN_BEGAN + 1), webhook("b", RUN_BEGAN + 2)]

    plan = reconcile.plan_recovery([pending_webhook()], live, recorded=set())

    assert plan.made == []
    [ambiguity] = plan.ambiguities
    assert [p.name for p in ambiguity.pending] == ["orders"]
    assert [c.id for c in ambiguity.candidates] == ["a", "b"]
    assert ambiguity.reason == "2 match, but the killed run sent 1 create(s)"


def test_identical_creates_are_grouped_and_paired_with_as_many_matches():
    pending = [pending_webhook("orders"), pending_webhook("orders-copy")]
    live = [webhook("a", RUN_BEGAN + 1), webhook("b", RUN_BEGAN + 2)]

    plan = reconcile.plan_recovery(pending, live, recorded=set())

    assert [(m.pending.name, m.obj.id) for m in plan.made] == [("orders", "a"), ("orders-copy", "b")]


def test_a_group_is_bounded_by_its_earliest_stamp():
    pending = [pending_webhook("orders", not_before=RUN_BEGAN + 5), pending_webhook("orders-copy")]
    live = [webhook("a", RUN_BEGAN + 1), webhook("b", RUN_BEGAN + 6)]

    plan = reconcile.plan_recovery(pending, live, recorded=set())

    assert [m.obj.id for m in plan.made] == ["a", "b"]


def test_a_pending_create_with_no_match_was_never_made():
    plan = reconcile.plan_recovery([pending_webhook()], [], recorded=set())

    assert plan.made == [] and plan.ambiguities == [] and plan.warnings == []
    assert [c.name for c in plan.never_made] == ["orders"]


def test_recovery_warns_when_a_webhook_matched_on_a_declared_secret():
    plan = reconcile.plan_recovery([pending_webhook(generated=False)], [webhook("made", RUN_BEGAN + 3)], recorded=set())

    [warning] = plan.warnings
    assert warning.startswith("orders: webhook made matched on a declared secret, which another stack could share")


def test_recovery_pairs_subscriptions_by_their_key():
    pending = [PendingCreate("orders-pos.payment.completed", SUB_KEY, not_before=RUN_BEGAN)]
    live = [subscription("made", RUN_BEGAN + 2), subscription("other", RUN_BEGAN + 2, tids=("1",))]

    plan = reconcile.plan_recovery(pending, live, recorded=set())

    assert [m.obj.id for m in plan.made] == ["made"]
    assert pending[0].kind == "subscription" and pending_webhook().kind == "webhook"
    assert plan.warnings == []


# ---- duplicates of recorded resources -----------------------------------------------------------------------

ORDERS = reconcile.Recorded("orders", "hook-1", KEY, not_before=RUN_BEGAN, secret_generated=True)
PAID = reconcile.Recorded("orders-paid", "sub-1", SUB_KEY, not_before=RUN_BEGAN)


def test_an_unmanaged_webhook_with_the_recorded_content_made_after_the_first_attempt_is_a_duplicate():
    late = webhook("late", RUN_BEGAN + 40)

    [found] = reconcile.find_duplicates([ORDERS], [webhook("hook-1"), late], managed={"hook-1"})

    assert found.obj is late and found.of is ORDERS and not found.declared_secret


def test_a_look_alike_made_before_the_resource_was_first_attempted_is_no_duplicate():
    older = webhook("older", RUN_BEGAN - 60)

    assert reconcile.find_duplicates([ORDERS], [older], managed={"hook-1"}) == []


def test_an_object_another_stack_records_is_no_duplicate():
    assert reconcile.find_duplicates([ORDERS], [webhook("theirs", RUN_BEGAN + 5)], managed={"hook-1", "theirs"}) == []


def test_a_different_secret_or_url_is_no_duplicate():
    live = [webhook("a", RUN_BEGAN + 5, secret="other-secret"), webhook("b", RUN_BEGAN + 5, url=URL + "-v2")]

    assert reconcile.find_duplicates([ORDERS], live, managed={"hook-1"}) == []


def test_a_state_without_the_stamp_proves_no_duplicate():
    unstamped = reconcile.Recorded("orders", "hook-1", KEY, not_before=None)

    assert reconcile.find_duplicates([unstamped], [webhook("late", RUN_BEGAN + 40)], managed={"hook-1"}) == []


def test_a_duplicate_on_a_declared_secret_is_flagged():
    declared = reconcile.Recorded("orders", "hook-1", KEY, not_before=RUN_BEGAN, secret_generated=False)

    [found] = reconcile.find_duplicates([declared], [webhook("late", RUN_BEGAN + 1)], managed={"hook-1"})

    assert found.declared_secret


def test_a_subscription_with_the_same_webhook_event_and_filter_is_a_duplicate():
    late = subscription("sub-late", RUN_BEGAN + 3, tids=("90004889", "90004890"))

    [found] = reconcile.find_duplicates([PAID], [subscription("sub-1"), late], managed={"sub-1"})

    assert found.obj is late and found.of is PAID


def test_the_subscriptions_of_a_duplicate_webhook_go_with_it():
    late = webhook("late", RUN_BEGAN + 40)
    its_sub = Subscription("late-sub", "pos.payment.completed", "late", None, created_on=at(RUN_BEGAN + 41))

    found = reconcile.find_duplicates([ORDERS], [its_sub, late], managed={"hook-1"})

    assert [(d.obj.id, d.via.id if d.via else None) for d in found] == [("late", None), ("late-sub", "late")]
