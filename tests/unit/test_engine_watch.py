"""provider/engine_watch.py: a provider process ends when the engine that started it is gone."""

from __future__ import annotations

import socket
import threading

from mypos_provider.provider.engine_watch import EngineWatch


def listening() -> tuple[socket.socket, str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server, f"127.0.0.1:{server.getsockname()[1]}"


def closed_port() -> str:
    server, address = listening()
    server.close()
    return address


def test_a_running_engine_and_the_same_parent_keep_the_process():
    server, address = listening()
    with server:
        assert not EngineWatch(address, parent=7, parent_now=lambda: 7).engine_gone()


def test_an_engine_address_that_refuses_connections_means_the_engine_is_gone():
    assert EngineWatch(closed_port(), parent=7, parent_now=lambda: 7).engine_gone()


def test_a_new_parent_means_the_engine_is_gone():
    server, address = listening()
    with server:
        assert EngineWatch(address, parent=7, parent_now=lambda: 1).engine_gone()


def test_without_an_engine_address_only_the_parent_counts():
    assert not EngineWatch(None, parent=7, parent_now=lambda: 7).engine_gone()


def test_the_watch_stops_the_process_once_the_engine_is_gone():
    stopped = threading.Event()
    codes: list[int] = []

    def stop(code: int) -> None:
        codes.append(code)
        stopped.set()

    EngineWatch(closed_port(), interval=0.01, parent=7, parent_now=lambda: 7, stop=stop).start()

    assert stopped.wait(5) and codes == [0]
