"""Delivering events to webhooks: signed POSTs, notification records, retries on a compressed clock."""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalogue import build_payload, event_by_id, terminal_id_of
from .clock import Clock
from .database import Database
from .models import Notification, Store
from .sender import Answer, OwnAddress, post
from .settings import EmulatorSettings
from .signing import render_body, secret_fingerprint, signature_header

USER_AGENT = "myPOS-Webhooks/1.0 (mypos-emulator)"


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one subscription's webhook."""

    client_id: str
    subscription_id: str
    webhook_id: str
    event_id: str
    payload: Any
    generation: int
    # An explicit sandbox request (/fake) reaches the webhook even when it is inactive.
    ignore_inactive: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # A resend: the attempt whose exact body goes out again, newly signed, once (no retries follow).
    resend_of: Notification | None = None
    # The emulator made the payload up (myPOS documents none), rather than a caller giving it.
    invented: bool = False


def resending(client_id: str, note: Notification, event_id: str, generation: int) -> Delivery:
    """The delivery `note` was an attempt of, to be sent once more as an explicit request. Runs in a
    transaction; the copy of `note` keeps what it recorded, whatever happens to the stored one."""
    return Delivery(
        client_id,
        note.subscription_id,
        note.webhook_id,
        event_id,
        note.payload,
        generation,
        ignore_inactive=True,
        id=note.delivery_key,
        resend_of=dataclasses.replace(note),
        invented=note.invented_payload,
    )


class _Scheduler:
    """A timer heap on one thread; each due job runs on its own daemon thread so a slow receiver blocks nobody."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mypos-emulator-retries", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wakeup:
            self._stopped = True
            self._jobs.clear()
            self._wakeup.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def clear(self) -> None:
        with self._wakeup:
            self._jobs.clear()

    def call_later(self, delay: float, job: Callable[[], object]) -> None:
        with self._wakeup:
            heapq.heappush(self._jobs, (self._clock.monotonic() + delay, next(self._order), job))
            self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                job = self._next_due_job()
                if job is None:
                    return
            threading.Thread(target=job, name="mypos-emulator-delivery", daemon=True).start()

    def _next_due_job(self) -> Callable[[], object] | None:
        while not self._stopped:
            if not self._jobs:
                self._wakeup.wait()
                continue
            due, _, job = self._jobs[0]
            if self._clock.monotonic() >= due:
                heapq.heappop(self._jobs)
                return job
            self._clock.wait_until(self._wakeup, due)
        return None


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str
    event_name: str


class Dispatcher:
    """Sends deliveries, records every attempt as a Notification and schedules retries after failures."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._scheduler = _Scheduler(db.clock)
        self._own_address: OwnAddress | None = None

    def start(self, own_address: OwnAddress | None) -> None:
        """Starts the retry scheduler; deliveries that would reach `own_address` are refused."""
        self._own_address = own_address
        self._scheduler = _Scheduler(self._db.clock)  # fresh thread, so a stopped emulator can start again
        self._scheduler.start()

    def stop(self) -> None:
        self._scheduler.stop()

    def cancel_pending(self) -> None:
        self._scheduler.clear()

    def send_now(self, deliveries: list[Delivery]) -> list[Notification]:
        """First attempts, in parallel, returning once all have an outcome."""
        if len(deliveries) == 1:
            note = self.attempt(deliveries[0], 0)
            return [note] if note is not None else []
        results: list[Notification | None] = [None] * len(deliveries)

        def run(index: int, delivery: Delivery) -> None:
            results[index] = self.attempt(delivery, 0)

        workers = [threading.Thread(target=run, args=pair, daemon=True) for pair in enumerate(deliveries)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return [note for note in results if note is not None]

    def send_later(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._scheduler.call_later(0, functools.partial(self.attempt, delivery, 0))

    def attempt(self, delivery: Delivery, retry_count: int) -> Notification | None:
        target = self._target(delivery)
        if target is None:
            if retry_count > 0 and delivery.resend_of is None:
                self._stop_retrying(delivery)  # the webhook or subscription went away: myPOS stops too
            return None
        settings = self._db.settings
        clock = self._db.clock
        signature = signature_header(target.secret, delivery.payload, settings.signing_scheme, int(clock.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-myPOS-Event": target.event_name,
            "X-myPOS-Signature": signature,
        }
        sent_on = clock.time()
        body = _body(delivery, settings.body_style)
        answer = post(target.url, body, headers, settings.delivery_timeout, self._own_address)
        retry_delay = None if delivery.resend_of else _retry_delay(answer.status, retry_count, settings)
        next_retry_at = None if retry_delay is None else clock.time() + retry_delay
        note = _notification(delivery, target, retry_count, sent_on, body, answer)
        note = dataclasses.replace(
            note,
            signature=signature,
            next_retry_at=next_retry_at,
            signing_scheme=settings.signing_scheme,
            secret_fingerprint=secret_fingerprint(target.secret),
        )
        recorded = self._record(delivery, note)
        if recorded is None:
            return None
        if retry_delay is not None:
            retry = functools.partial(self.attempt, delivery, retry_count + 1)
            self._scheduler.call_later(retry_delay, retry)
        return recorded

    def _target(self, delivery: Delivery) -> _Target | None:
        """Re-reads the webhook each attempt, as a retrying sender would: a new URL or secret applies. None when
        it went away, or when a successful resend stopped the retries of this delivery."""
        with self._db.read() as store:
            if delivery.generation != store.generation:
                return None
            account = store.accounts.get(delivery.client_id)
            if account is None or account.live_subscription(delivery.subscription_id) is None:
                return None
            if delivery.resend_of is None and _retries_stopped(account.notifications, delivery.id):
                return None
            hook = account.live_webhook(delivery.webhook_id)
            if hook is None or not (hook.is_active or delivery.ignore_inactive):
                return None
            event = event_by_id(delivery.event_id)
            name = event.name(self._db.settings.event_naming) if event else delivery.event_id
            return _Target(hook.payload_url, hook.secret, name)

    def _record(self, delivery: Delivery, note: Notification) -> Notification | None:
        """Appends the attempt, numbered among its delivery's attempts (a resend counts as a retry). A resend
        that was delivered cancels the retry due when `retries_after_resend` is "stop", and says so."""
        with self._db.write() as store:
            account = store.accounts.get(delivery.client_id)
            if account is None or delivery.generation != store.generation:
                return None  # reset while the attempt was in flight (a rare, harmless extra save)
            earlier = sum(1 for known in account.notifications if known.delivery_key == delivery.id)
            retry_count = earlier if delivery.resend_of else note.retry_count
            recorded = dataclasses.replace(note, attempt=earlier + 1, retry_count=retry_count)
            if delivery.resend_of is not None and note.delivered and self._db.settings.retries_after_resend == "stop":
                recorded.stopped_retries = _cancel_retry(account.notifications, delivery.id)
            account.notifications.append(recorded)
        return recorded

    def _stop_retrying(self, delivery: Delivery) -> None:
        """A retry that finds its target gone ends the delivery: the attempt that scheduled it no longer
        promises one."""
        with self._db.write() as store:
            account = store.accounts.get(delivery.client_id)
            _cancel_retry(account.notifications if account else [], delivery.id)


def _scheduled(notes: list[Notification], delivery_id: str) -> list[Notification]:
    """The attempts of a delivery that retries follow (every one but the resends), oldest first."""
    return [note for note in notes if note.delivery_key == delivery_id and note.resent_from is None]


def _cancel_retry(notes: list[Notification], delivery_id: str) -> bool:
    """Takes back the retry the delivery's latest scheduled attempt promised; False when none was due."""
    scheduled = _scheduled(notes, delivery_id)
    if not scheduled or scheduled[-1].next_retry_at is None:
        return False
    scheduled[-1].next_retry_at = None
    return True


def _retries_stopped(notes: list[Notification], delivery_id: str) -> bool:
    return any(note.stopped_retries for note in notes if note.delivery_key == delivery_id)


def _body(delivery: Delivery, body_style: str) -> bytes:
    """A resend repeats the recorded bytes exactly; records of older versions kept none, so it re-renders."""
    if delivery.resend_of is not None and delivery.resend_of.body:
        return delivery.resend_of.body.encode("utf-8")
    return render_body(delivery.payload, body_style)


def _notification(
    delivery: Delivery, target: _Target, retry_count: int, sent_on: float, body: bytes, answer: Answer
) -> Notification:
    return Notification(
        id=str(uuid.uuid4()),
        event=target.event_name,
        payload=delivery.payload,
        sent_on=sent_on,
        response_code=answer.status,
        retry_count=retry_count,
        url=target.url,
        webhook_id=delivery.webhook_id,
        subscription_id=delivery.subscription_id,
        body=body.decode("ascii"),
        answer=answer.body,
        answered_in=answer.seconds,
        error=answer.error,
        delivery_id=delivery.id,
        resent_from=delivery.resend_of.id if delivery.resend_of else None,
        request_headers=[list(header) for header in answer.sent_headers],
        answer_headers=[list(header) for header in answer.headers],
        request_sent=answer.request_sent,
        invented_payload=delivery.invented,
    )


def _retry_delay(status: int | None, retry_count: int, settings: EmulatorSettings) -> float | None:
    """Seconds until the next attempt after this one, or None when it succeeded or retries ran out."""
    delays = settings.delivery_retry_delays
    if Notification.counts_as_delivered(status) or retry_count >= len(delays):
        return None
    return delays[retry_count]


def filter_matches(event_filter: dict[str, Any] | None, is_pos_event: bool, terminal_id: str | None) -> bool:
    """`tids` narrows pos.* events to the listed terminals; account.* events have no terminal."""
    if event_filter is None or not is_pos_event or "tids" not in event_filter:
        return True
    return terminal_id is not None and terminal_id in event_filter["tids"]


def plan_deliveries(
    store: Store,
    event_id: str,
    client_ids: list[str],
    terminal_id: str | None,
    payload: Any | None,
    settings: EmulatorSettings,
    now: float,
) -> list[Delivery]:
    """Who receives an event: active webhooks subscribed to it whose filter matches. Runs in a transaction."""
    event = event_by_id(event_id)
    assert event is not None
    deliveries: list[Delivery] = []
    for client_id in client_ids:
        account = store.accounts[client_id]
        body = payload if payload is not None else build_payload(event, settings.event_naming, terminal_id, now)
        body_terminal = terminal_id or terminal_id_of(body)
        for sub in account.live_subscriptions():
            hook = account.live_webhook(sub.webhook_id)
            if sub.event_id != event_id or hook is None or not hook.is_active:
                continue
            if filter_matches(sub.filter, event.is_pos, body_terminal):
                invented = payload is None
                deliveries.append(
                    Delivery(client_id, sub.id, hook.id, event_id, body, store.generation, invented=invented)
                )
    return deliveries
