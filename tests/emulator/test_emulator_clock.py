"""Emulated time comes from the emulator's clock: a test moves it instead of sleeping."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from mypos_emulator import ManualClock, SystemClock

if TYPE_CHECKING:
    from conftest import ApiClient, Control, Receiver

START = 1_700_000_000.0


def test_created_on_is_the_clock_time(clocked_api: ApiClient, clocked_control: Control, clock: ManualClock) -> None:
    clocked_control.settings(created_on_format="unix")
    clock.advance(42)

    hook = clocked_api.create_webhook()

    assert hook["created_on"] == int(START + 42)


def test_deleted_on_is_the_clock_time(clocked_api: ApiClient, clocked_control: Control, clock: ManualClock) -> None:
    clocked_control.settings(created_on_format="unix")
    hook = clocked_api.create_webhook()
    clock.advance(600)

    assert clocked_api.delete(f"/webhooks/{hook['id']}").status_code == 200
    (saved,) = clocked_control.state()["webhooks"]
    assert saved["deleted_on"] == int(START + 600)


def test_delivery_signature_timestamp_is_the_clock_time(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock, receiver: Receiver
) -> None:
    hook = clocked_api.create_webhook(payload_url=receiver.url)
    clocked_api.subscribe(hook["id"])
    clock.advance(7)

    clocked_control.emit("pos.payment.completed", wait=True)

    assert receiver.next().headers["X-myPOS-Signature"].startswith(f"t={int(START + 7)},")


def test_a_retry_waits_for_the_clock_to_reach_its_delay(
    clocked_api: ApiClient, clocked_control: Control, clock: ManualClock, receiver: Receiver
) -> None:
    clocked_control.settings(delivery_retry_delays=[30.0])
    receiver.answer_with(503)
    hook = clocked_api.create_webhook(payload_url=receiver.url)
    clocked_api.subscribe(hook["id"])
    clocked_control.emit("pos.payment.completed", wait=True)
    receiver.next()

    clock.advance(29)
    assert receiver.nothing_within(0.3)
    clock.advance(1)

    assert receiver.next().path == "/hook"


def test_manual_clock_stands_still_until_advanced() -> None:
    clock = ManualClock(start=100.0)

    before = (clock.time(), clock.monotonic())
    clock.advance(2.5)

    assert before == (100.0, 0.0)
    assert (clock.time(), clock.monotonic()) == (102.5, 2.5)


def test_manual_clock_refuses_to_go_back() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        ManualClock().advance(-1)


def test_manual_clock_wakes_a_waiter_when_its_deadline_passes() -> None:
    clock = ManualClock()
    condition = threading.Condition()
    woke = threading.Event()

    def waiter() -> None:
        with condition:
            clock.wait_until(condition, deadline=10.0)
        woke.set()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    clock.advance(10)

    assert woke.wait(timeout=5)
    thread.join(timeout=5)


def test_manual_clock_returns_at_once_from_a_deadline_already_passed() -> None:
    clock = ManualClock()
    clock.advance(5)
    condition = threading.Condition()

    with condition:
        clock.wait_until(condition, deadline=5.0)  # would block forever if it waited


def test_system_clock_reads_the_real_clocks() -> None:
    import time

    clock = SystemClock()

    assert abs(clock.time() - time.time()) < 60
    assert clock.monotonic() <= time.monotonic()
