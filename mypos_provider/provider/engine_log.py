"""Messages to the Pulumi CLI through the engine's Log RPC, which every provider plugin is given the address of.

A provider has no logging API of its own in the dynamic host, and the native server offers none either:
calling the engine's `Log` directly makes a warning show once, as a real `warning:` line of the CLI.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

log = logging.getLogger("mypos_provider")


class EngineLog:
    """Messages to the CLI through the engine's Log RPC; stderr when there is no engine (or it went away)."""

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._lock = threading.Lock()
        self._stub: Any = None

    @property
    def address(self) -> str | None:
        return self._address

    @classmethod
    def from_argv(cls, argv: list[str]) -> EngineLog:
        """The engine's address is the first argument the engine passes a provider plugin."""
        return cls(argv[1] if len(argv) > 1 and ":" in argv[1] else None)

    def warn(self, message: str) -> None:
        self._log("WARNING", message)

    def info(self, message: str) -> None:
        self._log("INFO", message)

    def error(self, message: str) -> None:
        self._log("ERROR", message)

    def _log(self, severity: str, message: str) -> None:
        stub = self._engine()
        if stub is not None:
            from pulumi.runtime.proto import engine_pb2

            try:
                stub.Log(engine_pb2.LogRequest(severity=getattr(engine_pb2, severity), message=message), timeout=5)
                return
            except Exception:  # noqa: BLE001 (the engine went away: stderr, which the CLI also shows)
                pass
        print(f"{severity.lower()}: {message}", file=sys.stderr, flush=True)

    def _engine(self) -> Any:
        with self._lock:
            if self._stub is None and self._address is not None:
                import grpc
                from pulumi.runtime.proto import engine_pb2_grpc

                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            return self._stub


class EngineReporter:
    """The core's reporter in a provider process: the engine's log for the CLI, the log file for the record."""

    def __init__(self, engine: EngineLog) -> None:
        self._engine = engine

    def warn(self, message: str) -> None:
        log.warning(message)
        self._engine.warn(message)

    def info(self, message: str) -> None:
        log.info(message)
        self._engine.info(message)
