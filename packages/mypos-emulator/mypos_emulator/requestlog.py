"""The request log: every /oauth and /v1 request with its outcome, for tests and the dashboard."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

REQUEST_LOG_LIMIT = 100_000


@dataclass(frozen=True)
class LoggedRequest:
    time: float  # emulated wall time at arrival
    method: str
    path: str
    query: str
    status: int | None  # None: the connection was dropped (a fault)
    account: str | None
    fault: str | None
    duration: float  # real seconds the emulator took to answer, latency and faults included


class RequestLog:
    """A bounded, thread-safe log; `seq` numbers entries so readers can tell new ones apart."""

    def __init__(self, limit: int = REQUEST_LOG_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[tuple[int, LoggedRequest]] = deque(maxlen=limit)
        self._seq = 0

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, entry))

    def entries(self) -> list[dict[str, Any]]:
        """The public shape of GET /_emulator/requests, oldest first."""
        with self._lock:
            return [_public(seq, entry) for seq, entry in self._entries]

    def newest(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` entries, newest first, with how long each took (for the dashboard)."""
        with self._lock:
            chosen = list(self._entries)[-limit:] if limit > 0 else []
        return [{**_public(seq, entry), "duration_ms": _milliseconds(entry)} for seq, entry in reversed(chosen)]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _public(seq: int, entry: LoggedRequest) -> dict[str, Any]:
    return {
        "seq": seq,
        "time": entry.time,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "account": entry.account,
        "fault": entry.fault,
    }


def _milliseconds(entry: LoggedRequest) -> float:
    return round(entry.duration * 1000, 1)


__all__ = ("REQUEST_LOG_LIMIT", "LoggedRequest", "RequestLog")
