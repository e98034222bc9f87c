"""`emit EVENT --stack S`: have myPOS (sandbox) or the emulator send a sample event to the stack's webhooks.

Each webhook of the stack subscribed to EVENT gets one sample delivery (`POST /v1/subscriptions/{id}/fake`,
docs/mypos-api.md §5.12); the report names each by its resource name in the stack and says what the
receiver answered. The exit status is 1 when any delivery failed, so a script can rely on it.

When no answer came back, myPOS says no more than that; the emulator knows why (the connection was
refused, the host name could not be resolved, ...) and the report says so too (`EmulatorDeliveryLog`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO
from urllib.parse import urlsplit

import requests

from ..client import MyPOSClient, Notification, Subscription, is_loopback
from .errors import CliError
from .stack import Stack, StackResource, names_by_id

POLL_INTERVAL = 0.2
REASON_TIMEOUT = 2.0


class DeliveryReasons(Protocol):
    def reason(self, attempt: Notification) -> str | None:
        """Why `attempt` got no answer, if anyone can tell."""
        ...


class EmulatorDeliveryLog:
    """The emulator's own record of each attempt (`GET /_emulator/deliveries`, docs/emulator.md) says why
    no answer came back, which the public notification leaves out. Asked only of an API on loopback (the
    emulator's place: nothing else is reached over plain http), with the control token from
    MYPOS_EMULATOR_CONTROL_TOKEN if the emulator has one; any trouble only leaves the reason out."""

    def __init__(self, control_url: str, token: str | None) -> None:
        self._url = f"{control_url}/deliveries"
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment between us and loopback
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def serving(cls, api_url: str, token: str | None = None) -> EmulatorDeliveryLog | None:
        """The log of the emulator behind `api_url`, or None where no emulator can be (myPOS itself)."""
        parts = urlsplit(api_url)
        if not parts.hostname or not is_loopback(parts.hostname):
            return None
        return cls(f"{parts.scheme}://{parts.netloc}/_emulator", token)

    def reason(self, attempt: Notification) -> str | None:
        if attempt.id is None or attempt.webhook_id is None:
            return None
        query = {"webhook_id": attempt.webhook_id, "limit": "1000"}
        try:
            answer = self._session.get(self._url, params=query, timeout=REASON_TIMEOUT)
            recorded = answer.json()["deliveries"] if answer.ok else []
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return None  # an emulator of another version, or no emulator at all: the report goes on
        found = next((entry for entry in recorded if isinstance(entry, dict) and entry.get("id") == attempt.id), None)
        error = found.get("error") if found else None
        return error if isinstance(error, str) and error else None


class NoReasons:
    """myPOS itself: it reports no reason."""

    def reason(self, attempt: Notification) -> str | None:
        return None


@dataclass(frozen=True)
class Sent:
    webhook: StackResource
    subscription: Subscription
    result: Notification | None  # None until myPOS reports the first attempt


def emit(
    stack: Stack,
    client: MyPOSClient,
    event: str,
    *,
    wait: float,
    out: TextIO,
    reasons: DeliveryReasons | None = None,
) -> int:
    managed = names_by_id(stack.deployment())
    hooks = {object_id: r for object_id, r in managed.items() if r.kind == "webhook"}
    targets = [s for s in client.iter_subscriptions() if s.webhook_id in hooks and s.event_name == event]
    if not targets:
        raise CliError(
            f"no webhook of stack {stack.name} subscribes to {event}: declare the subscription and run "
            "`pulumi up` first"
        )
    sent = [Sent(hooks[s.webhook_id], s, client.request_fake_event(s.id)) for s in targets]
    sent = _await_results(client, sent, deadline=time.monotonic() + wait)
    for item in sent:
        print(_describe(item, reasons or NoReasons()), file=out)
    failed = [item for item in sent if item.result is None or not item.result.delivered]
    if failed:
        print(f"{len(failed)} of {len(sent)} deliveries failed", file=out)
    return 1 if failed else 0


def _await_results(client: MyPOSClient, sent: list[Sent], *, deadline: float) -> list[Sent]:
    """Where the first attempt's result was not in the answer (sending may be asynchronous), poll for it."""
    while any(item.result is None or item.result.response_code is None for item in sent):
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
        sent = [_with_result(client, item) for item in sent]
    return sent


def _with_result(client: MyPOSClient, item: Sent) -> Sent:
    if item.result is not None and item.result.response_code is not None:
        return item
    first: Callable[[Notification], bool] = lambda n: n.retry_count == 0  # noqa: E731
    attempts = [n for n in client.iter_notifications(subscription_id=item.subscription.id) if first(n)]
    return Sent(item.webhook, item.subscription, attempts[-1] if attempts else item.result)


def _describe(item: Sent, reasons: DeliveryReasons) -> str:
    url = item.webhook.outputs.get("payload_url", "")
    result = item.result
    if result is None:
        return f"  NO RESULT  {item.webhook.name} ({url}): myPOS reported no delivery attempt in time"
    if result.delivered:
        return f"  delivered  {item.webhook.name} ({url}): HTTP {result.response_code}"
    return f"  FAILED     {item.webhook.name} ({url}): {_failure(result, reasons)}; myPOS retries it"


def _failure(result: Notification, reasons: DeliveryReasons) -> str:
    if result.response_code is not None:
        return f"HTTP {result.response_code}"
    reason = reasons.reason(result)
    return f"no answer: {reason}" if reason else "no answer"
