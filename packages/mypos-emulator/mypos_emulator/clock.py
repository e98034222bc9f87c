"""Where the emulator's time comes from: the real clocks, or a manual one that tests move by hand.

Emulated time (token expiry, created_on/deleted_on, delivery timestamps and signatures, retry schedules)
reads a Clock. Measurements of real elapsed time (how long a request or a receiver took) and network
knobs (latency, slow faults, socket timeouts) stay on real time: they describe what really happened.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (what timestamps and token expiry use)."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back (what schedules use)."""
        ...

    def wait_until(self, condition: threading.Condition, deadline: float | None) -> None:
        """Blocks on `condition` (held by the caller) until notified or until monotonic() reaches `deadline`."""
        ...


class SystemClock:
    """The real clocks: time.time() and time.monotonic()."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait_until(self, condition: threading.Condition, deadline: float | None) -> None:
        condition.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))


class ManualClock:
    """A clock that stands still until advance() moves it; waiters wake when it does.

    For tests: a token expires, or a retry falls due, the moment the test says so, without sleeping.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._wall = start
        self._monotonic = 0.0
        self._waiters: set[threading.Condition] = set()

    def time(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward: seconds must not be negative")
        with self._lock:
            self._wall += seconds
            self._monotonic += seconds
            waiters = list(self._waiters)
        for condition in waiters:
            with condition:
                condition.notify_all()

    def wait_until(self, condition: threading.Condition, deadline: float | None) -> None:
        # Real time does not move this clock: only advance() or the caller's own notify ends the wait.
        # The deadline is checked after registering, so an advance() just before it is never missed.
        with self._lock:
            self._waiters.add(condition)
            due = deadline is not None and self._monotonic >= deadline
        try:
            if not due:
                condition.wait()
        finally:
            with self._lock:
                self._waiters.discard(condition)


__all__ = ("Clock", "ManualClock", "SystemClock")
