"""`emit EVENT --stack S`: have myPOS (sandbox) or the emulator send a sample event to the stack's webhooks.

Each webhook of the stack subscribed to EVENT gets one sample delivery (`POST /v1/subscriptions/{id}/fake`,
docs/mypos-api.md §5.12); the report names each by its resource name in the stack and says what the
receiver answered. The exit status is 1 when any delivery failed, so a script can rely on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ..client import MyPOSClient, Notification, Subscription
from .errors import CliError
from .stack import Stack, StackResource, names_by_id

POLL_INTERVAL = 0.2


@dataclass(frozen=True)
class Sent:
    webhook: StackResource
    subscription: Subscription
    result: Notification | None  # None until myPOS reports the first attempt


def emit(stack: Stack, client: MyPOSClient, event: str, *, wait: float, out: TextIO) -> int:
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
        print(_describe(item), file=out)
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


def _describe(item: Sent) -> str:
    url = item.webhook.outputs.get("payload_url", "")
    result = item.result
    if result is None:
        return f"  NO RESULT  {item.webhook.name} ({url}): myPOS reported no delivery attempt in time"
    if result.delivered:
        return f"  delivered  {item.webhook.name} ({url}): HTTP {result.response_code}"
    answer = f"HTTP {result.response_code}" if result.response_code is not None else "no answer"
    return f"  FAILED     {item.webhook.name} ({url}): {answer}; myPOS retries it"
