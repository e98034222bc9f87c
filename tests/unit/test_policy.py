"""client/policy.py, the one retry loop: the deadline, the Retry-After cap, token renewal, what is never retried,
and that no transport exception escapes as anything but a MyPOSError. (test_client.py covers the everyday
retries and the duplicate-safe creates.)"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
import requests

from mypos_provider.client import (
    AuthenticationError,
    MyPOSError,
    RetryPolicy,
    TransientError,
    TransportOptions,
    UnreachableError,
)
from mypos_provider.client.errors import Culprit
from mypos_provider.client.policy import CallKind, RequestPolicy
from mypos_provider.client.transport import build_session

CLOSED_PORT_URL = "http://127.0.0.1:9"


def webhook_api_policy(retry: RetryPolicy) -> RequestPolicy:
    return RequestPolicy(retry, endpoint=Culprit.API_ENDPOINT, service="Webhook API", host="127.0.0.1")


class CountedSend:
    """A request function that counts how often the policy sends it."""

    def __init__(self, send: Callable[[], requests.Response]) -> None:
        self._send = send
        self.count = 0

    def __call__(self) -> requests.Response:
        self.count += 1
        return self._send()


def always_503(emulator) -> None:
    emulator.set_faults([{"method": "GET", "path": "/v1/webhooks", "kind": "status", "status": 503}])


# ---- the budget -----------------------------------------------------------------------------------------


def test_no_retry_starts_after_the_deadline_even_with_retries_left(connect, emulator, control, fast_retry):
    # Backoff 0, 0.2, 0.4 ... s against a deadline of 0.3 s: the deadline, not max_retries, ends the request.
    retry = dataclasses.replace(fast_retry, max_retries=10, deadline=0.3, backoff_factor=0.1, backoff_max=10)
    always_503(emulator)

    with pytest.raises(TransientError) as failure:
        list(connect(retry=retry).iter_webhooks())

    sent = control.request_counts()["GET /v1/webhooks"]
    assert 1 < sent < retry.max_attempts
    assert failure.value.attempts == sent and "HTTP 503" in str(failure.value)


def test_a_long_retry_after_is_waited_only_up_to_the_cap(connect, emulator, control, fast_retry):
    retry = dataclasses.replace(fast_retry, retry_after_max=1)
    emulator.set_faults(
        [
            {
                "method": "GET",
                "path": "/v1/webhooks",
                "kind": "status",
                "status": 429,
                "retry_after": 3600,
                "sequence": [True],
            }
        ]
    )
    client = connect(retry=retry)
    listed: list[object] = []
    worker = threading.Thread(target=lambda: listed.append(list(client.iter_webhooks())), daemon=True)

    worker.start()
    worker.join(timeout=30)  # an uncapped Retry-After would hold the request for an hour

    assert listed == [[]]
    assert control.request_counts()["GET /v1/webhooks"] == 2


def test_a_refused_token_is_renewed_once_outside_the_retry_budget(connect, emulator, control, fast_retry):
    client = connect(retry=dataclasses.replace(fast_retry, max_retries=0))
    list(client.iter_webhooks())
    emulator.expire_tokens()

    list(client.iter_webhooks())

    counts = control.request_counts()
    assert (counts["POST /oauth/token"], counts["GET /v1/webhooks"]) == (2, 3)


def test_a_token_refused_again_after_renewal_is_an_authentication_error(connect, emulator, control):
    emulator.set_faults([{"method": "GET", "path": "/v1/webhooks", "kind": "status", "status": 401}])

    with pytest.raises(AuthenticationError, match="refused a freshly issued access token"):
        list(connect().iter_webhooks())

    counts = control.request_counts()
    assert (counts["POST /oauth/token"], counts["GET /v1/webhooks"]) == (2, 2)


# ---- what is never retried ------------------------------------------------------------------------------


def test_a_tls_failure_is_not_retried(emulator, fast_retry):
    session = build_session()
    # The emulator speaks plain HTTP: the TLS handshake fails.
    send = CountedSend(lambda: session.get(f"https://127.0.0.1:{emulator.port}/v1/events", timeout=2))

    with pytest.raises(UnreachableError, match="TLS failed") as failure:
        webhook_api_policy(fast_retry).call(CallKind.IDEMPOTENT, "list events", send)

    assert send.count == 1 and failure.value.culprit is Culprit.API_ENDPOINT


def test_a_proxy_failure_is_not_retried(emulator, fast_retry):
    session = build_session(TransportOptions(proxy=CLOSED_PORT_URL))
    send = CountedSend(lambda: session.get(f"{emulator.api_url}/events", timeout=2))

    with pytest.raises(UnreachableError, match="the proxy refused or dropped the connection"):
        webhook_api_policy(fast_retry).call(CallKind.IDEMPOTENT, "list events", send)

    assert send.count == 1


def test_a_create_that_never_connected_is_sent_again_without_a_look_up(fast_retry):
    session = build_session()
    send = CountedSend(lambda: session.post(f"{CLOSED_PORT_URL}/v1/webhooks", timeout=2))
    looked: list[None] = []

    with pytest.raises(UnreachableError, match="connection refused") as failure:
        webhook_api_policy(fast_retry).create("create webhook", send, lambda: looked.append(None))

    assert send.count == fast_retry.max_attempts and looked == []
    assert failure.value.culprit is Culprit.API_ENDPOINT


# ---- no transport exception escapes ---------------------------------------------------------------------


def every_requests_exception() -> Iterator[type[requests.RequestException]]:
    seen: set[type] = set()
    pending: list[type[requests.RequestException]] = [requests.RequestException]
    while pending:
        kind = pending.pop()
        if kind not in seen:
            seen.add(kind)
            pending += kind.__subclasses__()
            yield kind


def instance_of(kind: type[requests.RequestException]) -> requests.RequestException:
    try:
        return kind("simulated transport failure")
    except TypeError:  # JSONDecodeError also wants the document and a position
        return kind("simulated transport failure", "", 0)  # type: ignore[call-arg]


EXCEPTIONS = sorted(every_requests_exception(), key=lambda kind: kind.__name__)


@pytest.mark.parametrize("kind", [CallKind.IDEMPOTENT, CallKind.CREATE])
@pytest.mark.parametrize("exception", EXCEPTIONS, ids=[e.__name__ for e in EXCEPTIONS])
def test_every_requests_exception_becomes_a_mypos_error(fast_retry, exception, kind):
    def send() -> requests.Response:
        raise instance_of(exception)

    # A short read timeout: after a timed-out create, the policy looks for a late commit over two timeouts.
    policy = webhook_api_policy(dataclasses.replace(fast_retry, timeout=0.01))
    with pytest.raises(MyPOSError) as failure:
        if kind is CallKind.CREATE:
            policy.create("create webhook", send, lambda: None)
        else:
            policy.call(kind, "list webhooks", send)

    assert "simulated" not in str(failure.value)  # the message is ours, in the API's terms
    assert isinstance(failure.value, TransientError | UnreachableError)
