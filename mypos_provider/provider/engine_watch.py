"""Ends a provider process whose engine is gone, as the engine's own Go plugins do.

A provider plugin is a gRPC server the engine starts and later stops; when the engine dies instead (a
SIGKILL of `pulumi`, a lost CI runner) nothing stops the plugin, and it would keep running for minutes with
its connections open. The watch notices that the process which started it is no longer its parent, or that
the engine's address refuses connections, and exits the process.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

CHECK_EVERY = 1.0  # seconds: an orphaned provider lingers at most about this long


class EngineWatch:
    def __init__(
        self,
        engine_address: str | None,
        *,
        interval: float = CHECK_EVERY,
        parent: int | None = None,
        parent_now: Callable[[], int] = os.getppid,
        stop: Callable[[int], object] = os._exit,
    ) -> None:
        self._address = engine_address
        self._interval = interval
        self._parent = parent if parent is not None else parent_now()
        self._parent_now = parent_now
        self._stop = stop
        self._stopped = threading.Event()

    def start(self) -> EngineWatch:
        threading.Thread(target=self._watch, name="engine-watch", daemon=True).start()
        return self

    def cancel(self) -> None:
        self._stopped.set()

    def engine_gone(self) -> bool:
        return self._parent_now() != self._parent or not self._engine_answers()

    def _watch(self) -> None:
        while not self._stopped.wait(self._interval):
            if self.engine_gone():
                self._stop(0)
                return

    def _engine_answers(self) -> bool:
        if not self._address:
            return True  # not started by an engine (a test, a program): only the parent can tell
        host, _, port = self._address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=self._interval):
                return True
        except ConnectionRefusedError:
            return False
        except (OSError, ValueError):
            return True  # slow or unclear: not proof that the engine is gone
