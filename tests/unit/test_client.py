"""The API client against the emulator over real HTTP: shapes, pagination, tokens, retries, duplicates."""

from __future__ import annotations

import pytest

from harness.retry import FAST_RETRY
from mypos_provider.client import (
    Credentials,
    Made,
    MyPOSClient,
    NotFoundError,
    RetryPolicy,
    Subscription,
    TransientError,
    UnreachableError,
    ValidationError,
    Webhook,
)
from mypos_provider.client.auth import TokenSource
from mypos_provider.client.errors import Culprit
from mypos_provider.client.policy import RequestPolicy
from mypos_provider.client.redaction import SecretRedactor
from mypos_provider.client.transport import build_session
from mypos_provider.core import reconcile

FAST = FAST_RETRY
URL = "https://shop.example.com/mypos/callback"


def connect(emulator, account, retry: RetryPolicy = FAST) -> MyPOSClient:
    credentials = Credentials(account.client_id, account.client_secret)
    return MyPOSClient.connect(
        api_url=emulator.api_url, auth_url=emulator.auth_url, credentials=credentials, retry=retry
    )


@pytest.fixture
def client(emulator, account) -> MyPOSClient:
    return connect(emulator, account)


def made_webhook(client: MyPOSClient, url: str, secret: str) -> Made[Webhook]:
    """A create whose look-up is the provider's: the newest identical webhook made since the attempt began."""
    key = reconcile.WebhookKey(url, secret)
    since = reconcile.attempt_started(client.server_now())
    look_up = reconcile.attempt_look_up(client.iter_webhooks, key, since=since, exclude=lambda _id: False)
    return client.create_webhook(url, secret, look_up=look_up)


def create_webhook(client: MyPOSClient, url: str, secret: str) -> Webhook:
    return made_webhook(client, url, secret).object


def made_subscription(client: MyPOSClient, webhook_id: str, event: str, tids=None) -> Made[Subscription]:
    key = reconcile.SubscriptionKey(webhook_id, event, frozenset(tids or ()))
    since = reconcile.attempt_started(client.server_now())
    look_up = reconcile.attempt_look_up(
        lambda: client.iter_subscriptions(webhook_id), key, since=since, exclude=lambda _id: False
    )
    return client.create_subscription(webhook_id, client.event_by_name(event), tids, look_up=look_up)


def create_subscription(client: MyPOSClient, webhook_id: str, event: str, tids=None) -> Subscription:
    return made_subscription(client, webhook_id, event, tids).object


def count(control, method: str, path: str) -> int:
    return sum(1 for r in control.requests() if r["method"] == method and r["path"] == path)


def test_a_create_answered_at_once_says_it_was_not_found_by_the_look_up(client):
    assert made_webhook(client, URL, "s3cret").found_by_look_up is False


def test_create_then_get_returns_the_same_webhook(client):
    created = create_webhook(client, URL, "s3cret")

    fetched = client.get_webhook(created.id)

    assert (fetched.id, fetched.payload_url, fetched.secret, fetched.is_active) == (created.id, URL, "s3cret", True)
    assert fetched.created_on is not None and fetched.events == ()


def test_webhook_repr_never_shows_the_secret(client):
    assert "s3cret-value" not in repr(create_webhook(client, URL, "s3cret-value"))


def test_listing_follows_pages_of_one_hundred(client, control):
    for n in range(150):
        create_webhook(client, f"{URL}/{n}", "s3cret")
    control.clear_requests()

    listed = list(client.iter_webhooks())

    assert len(listed) == 150 and len({w.id for w in listed}) == 150
    assert count(control, "GET", "/v1/webhooks") == 2


def test_bare_objects_and_unix_timestamps_are_understood(client, emulator):
    emulator.update_settings(wrap_single_objects=False, created_on_format="unix", create_status=201)

    created = create_webhook(client, URL, "s3cret")

    assert client.get_webhook(created.id).created_on == created.created_on is not None


def test_event_catalogue_is_fetched_once_per_client(client, control):
    client.list_events()
    client.event_by_name("pos.payment.completed")

    assert count(control, "GET", "/v1/events") == 1
    assert client.event_by_name("pos.payment.completed").id == "33bcd9a7-43e4-4c0c-a728-106210056b1a"


def test_subscription_round_trip_keeps_webhook_event_and_terminals(client):
    hook = create_webhook(client, URL, "s3cret")
    created = create_subscription(client, hook.id, "pos.payment.completed", ["90004889"])
    updated = client.update_subscription(created.id, ["90004889", "90004890"])

    fetched = client.get_subscription(created.id)
    assert (fetched.webhook_id, fetched.event_name) == (hook.id, "pos.payment.completed")
    assert updated.terminal_ids == fetched.terminal_ids == ("90004889", "90004890")


def test_missing_objects_raise_not_found(client):
    with pytest.raises(NotFoundError):
        client.get_webhook("0a1b2c3d-0000-4000-8000-000000000000")


def test_deleted_webhook_is_not_found(client):
    hook = create_webhook(client, URL, "s3cret")
    client.delete_webhook(hook.id)

    with pytest.raises(NotFoundError):
        client.get_webhook(hook.id)


def test_rejected_field_raises_validation_error_naming_it(client):
    with pytest.raises(ValidationError) as error:
        create_webhook(client, URL, "x" * 33)

    assert error.value.field == "secret" and error.value.status == 400


def test_one_token_serves_every_request_of_a_client_across_threads(client, control):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: list(client.iter_webhooks()), range(8)))

    assert count(control, "POST", "/oauth/token") == 1


def test_clients_built_apart_hold_tokens_of_their_own(emulator, account, control):
    first, second = connect(emulator, account), connect(emulator, account)

    list(first.iter_webhooks())
    list(second.iter_webhooks())

    assert first.tokens.token() != second.tokens.token()
    assert count(control, "POST", "/oauth/token") == 2


def test_an_expired_token_is_renewed_once_and_the_request_succeeds(client, emulator, control):
    list(client.iter_webhooks())
    emulator.expire_tokens()

    list(client.iter_webhooks())

    assert count(control, "POST", "/oauth/token") == 2


def test_rate_limited_reads_are_retried_after_retry_after(client, emulator, control):
    emulator.set_faults(
        [
            {
                "method": "GET",
                "path": "/v1/webhooks",
                "kind": "status",
                "status": 429,
                "retry_after": 1,
                "sequence": [True, True],
            }
        ]
    )

    assert list(client.iter_webhooks()) == []
    assert count(control, "GET", "/v1/webhooks") == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_reads_are_retried(client, emulator, control, status):
    emulator.set_faults(
        [{"method": "GET", "path": "/v1/webhooks", "kind": "status", "status": status, "sequence": [True]}]
    )

    assert list(client.iter_webhooks()) == []
    assert count(control, "GET", "/v1/webhooks") == 2


def test_dropped_connections_on_reads_are_retried(client, emulator, control):
    emulator.set_faults([{"method": "GET", "path": "/v1/webhooks", "kind": "drop", "sequence": [True]}])

    assert list(client.iter_webhooks()) == []
    assert count(control, "GET", "/v1/webhooks") == 2


def test_a_rate_limited_create_is_sent_again_and_makes_one_webhook(client, emulator, control, account):
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 429, "sequence": [True]}]
    )

    create_webhook(client, URL, "s3cret")

    assert count(control, "POST", "/v1/webhooks") == 2
    assert len(control.live_webhooks(account.client_id)) == 1


@pytest.mark.parametrize("then", ["status", "drop"])
def test_a_create_that_committed_then_failed_is_adopted_not_duplicated(client, emulator, control, account, then):
    emulator.set_faults(
        [
            {
                "method": "POST",
                "path": "/v1/webhooks",
                "kind": "commit_then_fail",
                "status": 502,
                "then": then,
                "sequence": [True],
            }
        ]
    )

    made = made_webhook(client, URL, "s3cret")

    assert count(control, "POST", "/v1/webhooks") == 1
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [made.object.id]
    assert made.found_by_look_up is True


def test_a_create_answered_after_the_read_timeout_is_adopted_not_duplicated(client, emulator, control, account):
    emulator.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 1.2, "sequence": [True]}])

    made = made_webhook(client, URL, "s3cret")

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [made.object.id]
    assert made.found_by_look_up is True


def slow_request_finished(control) -> bool:
    return any(r["fault"] == "slow" for r in control.requests())


def test_a_create_that_commits_long_after_the_read_timeout_is_adopted_not_sent_again(
    client, emulator, control, account, wait_until
):
    # Commits 1.8 read timeouts after arrival: later than one look half a timeout after giving up.
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 1.8 * FAST.timeout, "sequence": [True]}]
    )

    created = create_webhook(client, URL, "s3cret")
    wait_until(lambda: slow_request_finished(control))

    assert count(control, "POST", "/v1/webhooks") == 1
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [created.id]


def test_a_subscription_create_that_commits_after_the_read_timeout_is_adopted(
    client, emulator, control, account, wait_until
):
    hook = create_webhook(client, URL, "s3cret")
    emulator.set_faults(
        [
            {
                "method": "POST",
                "path": "/v1/subscriptions",
                "kind": "slow",
                "delay": 1.8 * FAST.timeout,
                "sequence": [True],
            }
        ]
    )

    created = create_subscription(client, hook.id, "pos.payment.completed")
    wait_until(lambda: slow_request_finished(control))

    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [created.id]


def test_a_create_that_failed_before_committing_is_sent_again(client, emulator, control, account):
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 503, "sequence": [True]}]
    )

    create_webhook(client, URL, "s3cret")

    assert count(control, "POST", "/v1/webhooks") == 2
    assert len(control.live_webhooks(account.client_id)) == 1


def test_a_subscription_create_that_committed_then_failed_is_adopted(client, emulator, control, account):
    hook = create_webhook(client, URL, "s3cret")
    emulator.set_faults(
        [{"method": "POST", "path": "/v1/subscriptions", "kind": "commit_then_fail", "status": 500, "sequence": [True]}]
    )

    made = made_subscription(client, hook.id, "pos.payment.completed", ["90004889"])

    assert len(control.live_subscriptions(account.client_id)) == 1
    assert made.found_by_look_up is True


def test_exhausted_retries_name_the_operation_and_status_but_no_secret(client, emulator, control, account):
    emulator.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "status", "status": 503}])

    with pytest.raises(TransientError) as error:
        create_webhook(client, URL, "very-secret-value")

    message = str(error.value)
    assert "create webhook failed after 4 attempt(s)" in message and "HTTP 503" in message
    assert "very-secret-value" not in message and account.client_secret not in message
    assert count(control, "POST", "/v1/webhooks") == FAST.max_attempts
    assert control.live_webhooks(account.client_id) == []


def test_exhausted_read_retries_stop_at_the_policy_bound(client, emulator, control):
    emulator.set_faults([{"method": "GET", "path": "/v1/webhooks", "kind": "status", "status": 500}])

    with pytest.raises(TransientError):
        list(client.iter_webhooks())

    assert count(control, "GET", "/v1/webhooks") == FAST.max_attempts


def test_an_unreachable_auth_api_is_blamed_on_the_auth_endpoint_without_the_secret():
    policy = RetryPolicy(max_retries=1, backoff_factor=0.01, timeout=1, connect_timeout=1)
    client = MyPOSClient.connect(
        api_url="http://127.0.0.1:9/v1",
        auth_url="http://127.0.0.1:9",
        credentials=Credentials("id", "unreachable-secret"),
        retry=policy,
    )

    with pytest.raises(UnreachableError) as error:
        list(client.iter_webhooks())

    assert error.value.culprit is Culprit.AUTH_ENDPOINT
    assert "connection refused" in str(error.value) and "unreachable-secret" not in str(error.value)


def test_every_answer_of_the_auth_api_is_shown_to_the_clients_clock(emulator, account):
    answers: list[int] = []
    tokens = TokenSource(
        emulator.auth_url,
        Credentials(account.client_id, account.client_secret),
        session=build_session(),
        policy=RequestPolicy(FAST_RETRY, endpoint=Culprit.AUTH_ENDPOINT, service="Auth API", host="emulator"),
        redactor=SecretRedactor(),
        on_answer=lambda response: answers.append(response.status_code),
    )

    tokens.token()

    assert answers == [200]
