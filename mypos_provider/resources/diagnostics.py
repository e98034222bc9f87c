"""Warnings from the provider process to the Pulumi CLI.

A dynamic provider has no logging API of its own, but its host is started with the engine's address as
its first argument; the engine's Log RPC shows a message as a real `warning:` in the CLI output (plain
stderr would show as an unlabelled info line).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

log = logging.getLogger("mypos_provider")

_stub: Any = None
_stub_lock = threading.Lock()


def _engine_stub() -> Any:
    global _stub
    with _stub_lock:
        if _stub is None:
            address = sys.argv[1] if len(sys.argv) > 1 and ":" in sys.argv[1] else None
            if address is None:
                return None
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            _stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return _stub


def warn(message: str) -> None:
    log.warning(message)
    stub = _engine_stub()
    if stub is not None:
        from pulumi.runtime.proto import engine_pb2

        try:
            stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message), timeout=5)
            return
        except Exception:  # the engine went away: fall back to stderr, which the CLI also shows
            pass
    print(f"warning: {message}", file=sys.stderr, flush=True)
