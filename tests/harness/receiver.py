"""Receivers for the tests: examples/receiver.py as a module (a script a merchant copies, not part of the package,
so it is loaded by path, once per test process), and a scripted one that records what arrives."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import queue
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

RECEIVER_PATH = Path(__file__).resolve().parents[2] / "examples" / "receiver.py"


@functools.cache
def example_receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mypos_example_receiver", RECEIVER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Arrived:
    headers: list[tuple[str, str]]  # as they arrived, in order
    body: bytes


class ScriptedReceiver:
    """A receiver on loopback that answers the statuses it is given in turn (then `then`), after `delay` seconds,
    and records every request as it arrived: its headers in order and its exact body."""

    def __init__(self) -> None:
        self.arrived: queue.Queue[Arrived] = queue.Queue()
        self.statuses: list[int] = []
        self.then = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.arrived.put(Arrived(list(self.headers.items()), body))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.then
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the emulator stopped waiting
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def answer_with(self, *statuses: int, then: int = 200) -> None:
        self.statuses, self.then = list(statuses), then

    def next(self, timeout: float = 5) -> Arrived:
        return self.arrived.get(timeout=timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def stopped(receiver: Any) -> Iterator[None]:
    """Stops `receiver` and keeps its port bound without listening until the block ends: every delivery to it
    is refused, and no other process of this shared machine can take the freed port meanwhile (one did, and
    answered a delivery that was meant to find nobody)."""
    port = urlsplit(receiver.url).port
    receiver.stop()
    with socket.socket() as hold:
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port's last connections may linger
        hold.bind(("127.0.0.1", port))
        yield
