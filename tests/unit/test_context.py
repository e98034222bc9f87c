"""What one deployment shares: the account view (one listing), the claims, and the connection proof."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from mypos_provider.client import (
    AuthenticationError,
    Credentials,
    MyPOSClient,
    RetryPolicy,
    TransientError,
    UnreachableError,
)
from mypos_provider.core.account import AccountView
from mypos_provider.core.context import Claims, DeploymentContext
from mypos_provider.core.values import CollectingReporter

URL = "https://shop.example.com/mypos/orders"
SECRET = "webhook-secret-0001"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def view(connect, clock) -> AccountView:
    return AccountView(connect(), max_age=300, monotonic=clock)


def listings(control) -> int:
    counts = control.request_counts()
    return counts["GET /v1/webhooks"] + counts["GET /v1/subscriptions"]


# ---- AccountView ----------------------------------------------------------------------------------------


def test_the_account_is_listed_once_while_the_listing_is_fresh(view, clock, outofband, control):
    hook = outofband.create_webhook(URL, SECRET)
    control.clear_requests()

    view.webhooks()
    clock.now += 299
    assert view.webhook(hook["id"]).payload_url == URL
    view.subscriptions()

    assert listings(control) == 2  # webhooks and subscriptions, once each


def test_the_account_is_listed_again_once_the_listing_is_older_than_max_age(view, clock, outofband, control):
    view.webhooks()
    outofband.create_webhook(URL, SECRET)
    clock.now += 301

    assert [w.payload_url for w in view.webhooks()] == [URL]
    assert listings(control) == 4


def test_a_webhook_made_since_the_listing_is_fetched_by_id(view, outofband, control):
    view.webhooks()
    hook = outofband.create_webhook(URL, SECRET)
    control.clear_requests()

    assert view.webhook(hook["id"]).id == hook["id"]
    assert control.request_counts() == {"GET /v1/webhooks/{id}": 1}


def test_a_webhook_missing_from_the_account_is_none(view):
    assert view.webhook("0a1b2c3d-0000-4000-8000-000000000000") is None


def test_a_deleted_webhook_is_neither_listed_nor_found(view, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    outofband.delete_webhook(hook["id"])

    assert view.webhooks() == [] and view.webhook(hook["id"]) is None


def test_a_subscription_made_since_the_listing_is_fetched_by_id(view, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    view.subscriptions()
    sub = outofband.subscribe(hook["id"], "pos.payment.completed")

    assert view.subscription(sub["id"]).webhook_id == hook["id"]
    assert view.subscription("0a1b2c3d-0000-4000-8000-000000000000") is None


def test_forgetting_a_webhook_forgets_its_subscriptions(view, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    outofband.subscribe(hook["id"], "pos.payment.completed")
    other = outofband.create_webhook(URL + "/2", SECRET)
    kept = outofband.subscribe(other["id"], "pos.payment.completed")
    view.webhooks()

    view.forget_webhook(hook["id"])

    assert [w.id for w in view.webhooks()] == [other["id"]]
    assert [s.id for s in view.subscriptions()] == [kept["id"]]


def test_own_writes_are_remembered_once_the_account_is_listed(view, connect, outofband, control):
    view.webhooks()
    hook = outofband.create_webhook(URL, SECRET)
    view.remember_webhook(connect().get_webhook(hook["id"]))
    control.clear_requests()

    assert [w.id for w in view.webhooks()] == [hook["id"]]
    view.forget_subscription("not-listed")
    assert control.requests() == []


def test_one_listing_is_taken_however_many_threads_ask_at_once(view, outofband, control):
    outofband.create_webhook(URL, SECRET)
    control.clear_requests()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: view.webhooks(), range(8)))

    assert listings(control) == 2


# ---- Claims ---------------------------------------------------------------------------------------------


def test_a_created_object_is_held_and_known_as_made_here():
    claims = Claims()
    claims.created("made")

    assert claims.was_created("made") and claims.is_held("made")


def test_a_held_object_was_not_made_here():
    claims = Claims()
    claims.hold("adopted")

    assert claims.is_held("adopted") and not claims.was_created("adopted")
    assert not claims.is_held("other")


def test_the_context_excludes_exactly_the_held_objects(context):
    context.claims.hold("held")

    excluded = context.excluded()

    assert excluded("held") and not excluded("free")


# ---- ConnectionCheck ------------------------------------------------------------------------------------


def test_the_check_sends_one_token_and_one_catalogue_request_however_often_waited_for(context, control):
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: context.connection.token() if i % 2 else context.connection.whole(), range(8)))
    context.connection.whole()
    context.event_names()

    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_the_check_starts_in_the_background_and_requests_the_token_first(context, control, wait_until):
    context.connection.start()

    wait_until(lambda: control.request_counts()["GET /v1/events"] == 1)
    assert [r["path"] for r in control.requests()] == ["/oauth/token", "/v1/events"]


def test_the_token_is_known_while_the_catalogue_is_still_being_read(context, emulator, control, wait_until):
    emulator.set_faults([{"method": "GET", "path": "/v1/events", "kind": "slow", "delay": 30}])
    context.connection.start()

    with ThreadPoolExecutor(1) as pool:
        token_known = pool.submit(context.connection.token)
        token_known.result(timeout=10)  # would wait for the held catalogue if the token waited for it
        wait_until(lambda: emulator.faults()[0]["fired"] == 1)  # the catalogue request is held meanwhile
        emulator.set_faults([])  # releases it

    context.connection.whole()
    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_a_failed_check_is_raised_again_without_a_new_request(emulator, account, control):
    client = MyPOSClient.connect(
        api_url=emulator.api_url,
        auth_url=emulator.auth_url,
        credentials=Credentials(account.client_id, "not-the-right-secret"),
    )
    check = DeploymentContext(client, CollectingReporter()).connection

    with pytest.raises(AuthenticationError) as first:
        check.token()
    with pytest.raises(AuthenticationError) as again:
        check.whole()

    assert again.value is first.value
    assert control.request_counts() == {"POST /oauth/token": 1}


def test_once_the_catalogue_failed_no_operation_gets_the_token(emulator, connect, control):
    emulator.set_faults([{"method": "GET", "path": "/v1/events", "kind": "status", "status": 503}])
    check = DeploymentContext(connect(retry=RetryPolicy(max_retries=0)), CollectingReporter()).connection

    with pytest.raises(TransientError, match="list events"):
        check.whole()
    with pytest.raises(TransientError, match="list events"):
        check.token()

    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_an_unreachable_api_fails_the_check(emulator, account, fast_retry):
    client = MyPOSClient.connect(
        api_url="http://127.0.0.1:9/v1",
        auth_url=emulator.auth_url,
        credentials=Credentials(account.client_id, account.client_secret),
        retry=fast_retry,
    )
    check = DeploymentContext(client, CollectingReporter()).connection

    check.token()  # the Auth API answers
    with pytest.raises(UnreachableError, match="cannot reach the myPOS Webhook API"):
        check.whole()


def test_the_context_knows_the_catalogue_and_the_servers_clock(context):
    assert "pos.payment.completed" in context.event_names()
    assert context.event("pos.payment.completed").id == "33bcd9a7-43e4-4c0c-a728-106210056b1a"
    assert context.event("no.such.event") is None
    assert context.server_now() > 0
