"""Thread safety: the dynamic shell, the provider process and the rules run many resources' operations at once.

Both hosts run one operation per thread, as many at once as the engine sends (`pulumi up --parallel`), over
one provider process: its gate and connection check, one client (session, token, redactor, clock, catalogue),
one deployment context (claims, account view) and, in the dynamic host, the detailed diffs each thread's diff
hands to the answer the host builds next on that thread. Here every resource's whole life runs on a thread of
its own, all threads at once, through the dynamic shell as the host calls it, against the in-process emulator
with a little latency so that the requests interleave.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2

from mypos_provider.core.values import CollectingReporter
from mypos_provider.provider.process import ProviderProcess
from mypos_provider.resources import host, shell
from mypos_provider.resources.hosting import HostedProcess
from mypos_provider.resources.subscription import SubscriptionProvider
from mypos_provider.resources.webhook import WebhookProvider

THREADS = 24
# Each resource changes another field, so a diff reaching another thread's answer would show.
CHANGES: tuple[tuple[str, Callable[[int], Any]], ...] = (
    ("is_active", lambda i: False),
    ("payload_url", lambda i: f"https://shop.example.com/mypos/{i}/v2"),
    ("secret", lambda i: f"rotated-{i:04}"),
)


@pytest.fixture(autouse=True)
def _isolated(no_ambient_settings) -> None:
    """The process reads the environment and a .env: nothing of the developer's machine may reach it."""


class StartedSlot:
    """The host's process slot after its first configure()."""

    def __init__(self, hosted: HostedProcess) -> None:
        self._hosted = hosted

    def current(self) -> HostedProcess:
        return self._hosted


@pytest.fixture
def configure(stack_config, monkeypatch) -> Callable[[], types.SimpleNamespace]:
    """Configures a dynamic host for a new deployment: a provider process in the slot, the detailed diffs
    installed on a stand-in for `pulumi.runtime.proto` (the real DiffResponse message), which it returns."""

    def configured() -> types.SimpleNamespace:
        process = ProviderProcess(stack_config, reporter=CollectingReporter(), concurrency=THREADS)
        process.start_connection_check()
        diffs = host.DetailedDiffs()
        stand_in = types.SimpleNamespace(DiffResponse=provider_pb2.DiffResponse)
        diffs.install(stand_in)
        monkeypatch.setattr(shell, "PROCESS", StartedSlot(HostedProcess(process, diffs)))
        return stand_in

    return configured


def at_once(work: Callable[[int, threading.Barrier], Any]) -> list[Any]:
    """`work(i, together)` for every i on threads of their own, started together; `together.wait()` makes them
    meet again."""
    together = threading.Barrier(THREADS, timeout=10)

    def run(i: int) -> Any:
        together.wait()
        return work(i, together)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_many_resources_are_deployed_changed_read_and_destroyed_at_once(configure, emulator, control, account):
    emulator.update_settings(latency=0.02)
    proto = configure()

    def life(i: int, together: threading.Barrier) -> dict[str, Any]:
        webhooks, subscriptions = WebhookProvider(), SubscriptionProvider()
        url = f"https://shop.example.com/mypos/{i}"
        checked = webhooks.check({}, {"payload_url": url, "secret": f"secret-{i:04}", "is_active": True})
        made = webhooks.create(checked.inputs)
        subscribed = subscriptions.create(
            subscriptions.check({}, {"webhook_id": made.id, "event": "pos.payment.completed"}).inputs
        )
        field, new_value = CHANGES[i % len(CHANGES)]
        declared = {**checked.inputs, field: new_value(i)}
        changes = webhooks.diff(made.id, made.outs, declared)
        together.wait()  # every diff is made before any answer is built: the host's threads interleave so
        answer = proto.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME)  # as the host answers next
        updated = webhooks.update(made.id, made.outs, declared)
        read = webhooks.read(made.id, updated.outs)
        return {
            "id": made.id,
            "declared": {name: declared[name] for name in ("payload_url", "secret", "is_active")},
            "field": field,
            "failures": checked.failures,
            "changes": (changes.changes, list(answer.diffs)),
            "read": {"id": read.id, **{name: read.outs[name] for name in ("payload_url", "secret", "is_active")}},
            "subscribed": (subscribed.id, subscribed.outs["webhook_id"], subscribed.outs["event"]),
            "outputs": (updated.outs, subscribed.outs),
        }

    def destroy(life: dict[str, Any]) -> None:
        webhook_outputs, subscription_outputs = life["outputs"]
        SubscriptionProvider().delete(life["subscribed"][0], subscription_outputs)
        WebhookProvider().delete(life["id"], webhook_outputs)

    lives = at_once(life)
    deployed = control.request_counts()
    control.clear_requests()
    configure()  # `pulumi destroy`: a new deployment, a new provider process
    at_once(lambda i, _: destroy(lives[i]))

    for life_ in lives:
        assert life_["failures"] == []
        assert life_["changes"] == (True, [life_["field"]]), "each thread's diff reaches its own answer"
        assert life_["read"] == {"id": life_["id"], **life_["declared"]}
        assert life_["subscribed"][1:] == (life_["id"], "pos.payment.completed")
    assert len({life_["id"] for life_ in lives}) == THREADS
    destroyed = control.request_counts()
    for counts in (deployed, destroyed):
        assert (counts["POST /oauth/token"], counts["GET /v1/events"]) == (1, 1), "one connection check for all"
    for route in ("POST /v1/webhooks", "POST /v1/subscriptions", "PATCH /v1/webhooks/{id}"):
        assert deployed[route] == THREADS, route
    for route in ("DELETE /v1/subscriptions/{id}", "DELETE /v1/webhooks/{id}"):
        assert destroyed[route] == THREADS, route
    assert control.live_webhooks(account.client_id) == [] and control.live_subscriptions(account.client_id) == []
