"""The socket side holds up: bodies are bounded (chunked too), malformed chunks are refused, a slow
client cannot hold a thread past a deadline, and a full house answers 503 instead of hanging. After each
abuse the emulator still answers everyone else."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from mypos_emulator import Emulator, ServerLimits

SMALL_BODY = 1024


def connect(emulator: Emulator) -> socket.socket:
    return socket.create_connection(("127.0.0.1", emulator.port), timeout=10)


def head(emulator: Emulator, method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{emulator.port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def closed_within(sock: socket.socket, seconds: float, keep_sending: bytes = b"") -> bool:
    """Polls (sending `keep_sending` between polls, like a trickling client) until the server closes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if keep_sending:
            try:
                sock.send(keep_sending)
            except OSError:
                return True
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            return True  # an answer (408) or the end of the connection
    return False


def still_answers(emulator: Emulator) -> bool:
    return requests.get(f"{emulator.url}/_emulator/health", timeout=5).status_code == 200


@pytest.fixture
def small() -> Iterator[Emulator]:
    with Emulator(limits=ServerLimits(max_body_bytes=SMALL_BODY)) as emulator:
        yield emulator


@pytest.fixture
def impatient() -> Iterator[Emulator]:
    with Emulator(limits=ServerLimits(request_timeout=0.5)) as emulator:
        yield emulator


@pytest.fixture
def crowded() -> Iterator[Emulator]:
    with Emulator(limits=ServerLimits(max_connections=3, request_timeout=1.0)) as emulator:
        yield emulator


# Bodies


def chunked(emulator: Emulator, *chunks: bytes) -> bytes:
    return head(emulator, "POST", "/oauth/token", "Transfer-Encoding: chunked") + b"".join(chunks)


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_a_chunked_body_within_the_limit_is_read(emulator: Emulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(chunked(emulator, chunk(b"grant_type=client_"), chunk(b"credentials"), b"0\r\n\r\n"))
        answer = sock.recv(65536)

    assert status_of(answer) == 401  # read in full, then refused for want of credentials


def test_chunks_adding_up_past_the_limit_are_refused_with_413_and_the_connection_closed(small: Emulator) -> None:
    with connect(small) as sock:
        sock.sendall(chunked(small, chunk(b"x" * 600), chunk(b"x" * 600), b"0\r\n\r\n"))
        answer = read_answer(sock)

    assert status_of(answer) == 413
    assert still_answers(small)


def test_one_chunk_declared_past_the_limit_is_refused_before_its_data_arrives(small: Emulator) -> None:
    with connect(small) as sock:
        sock.sendall(chunked(small, b"100000\r\n"))  # 1 MiB announced, nothing sent
        answer = read_answer(sock)

    assert status_of(answer) == 413


@pytest.mark.parametrize("size_line", [b"-1\r\n", b"zz\r\n", b"0x10\r\n", b"\r\n", b"1" * 5000 + b"\r\n"])
def test_a_malformed_chunk_size_is_a_400(emulator: Emulator, size_line: bytes) -> None:
    with connect(emulator) as sock:
        sock.sendall(chunked(emulator, size_line, b"data\r\n0\r\n\r\n"))
        answer = read_answer(sock)

    assert status_of(answer) == 400
    assert still_answers(emulator)


def test_a_chunk_without_its_line_end_is_a_400(emulator: Emulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(chunked(emulator, b"2\r\nabcd\r\n0\r\n\r\n"))  # 4 bytes where 2 were announced
        answer = read_answer(sock)

    assert status_of(answer) == 400


def test_a_content_length_past_the_limit_is_refused_with_413(small: Emulator) -> None:
    with connect(small) as sock:
        sock.sendall(head(small, "POST", "/oauth/token", f"Content-Length: {SMALL_BODY + 1}"))
        answer = read_answer(sock)

    assert status_of(answer) == 413


def test_the_default_limit_is_ten_mebibytes(emulator: Emulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(chunked(emulator, f"{10 * 1024 * 1024 + 1:x}\r\n".encode()))
        answer = read_answer(sock)

    assert status_of(answer) == 413


# Slow clients


def test_a_slow_header_trickle_is_cut_off_at_the_request_deadline(impatient: Emulator) -> None:
    with connect(impatient) as sock:
        sock.sendall(f"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1:{impatient.port}\r\nX-Slow: ".encode())

        assert closed_within(sock, seconds=10, keep_sending=b"a")


def test_others_are_answered_while_a_client_trickles(impatient: Emulator) -> None:
    with connect(impatient) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nX-Slow: ")

        assert still_answers(impatient)


def test_a_slow_body_is_cut_off_with_408(impatient: Emulator) -> None:
    with connect(impatient) as sock:
        sock.sendall(head(impatient, "POST", "/oauth/token", "Content-Length: 100") + b"grant")
        answer = read_answer(sock)

    assert status_of(answer) == 408


# Connection cap


def test_a_full_house_answers_503_at_once(crowded: Emulator) -> None:
    stalled = [connect(crowded) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /_emulator/health HTTP/1.1\r\n")  # started, never finished
        with connect(crowded) as extra:
            extra.sendall(head(crowded, "GET", "/_emulator/health"))
            answer = read_answer(extra)
    finally:
        for sock in stalled:
            sock.close()

    assert status_of(answer) == 503


def test_a_full_house_frees_up_when_stalled_requests_time_out(crowded: Emulator) -> None:
    stalled = [connect(crowded) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
        assert all(closed_within(sock, seconds=10) for sock in stalled)

        assert still_answers(crowded)
    finally:
        for sock in stalled:
            sock.close()


def test_idle_keep_alive_connections_make_room_for_new_ones(crowded: Emulator) -> None:
    kept_alive = [connect(crowded) for _ in range(3)]
    try:
        for sock in kept_alive:
            sock.sendall(head(crowded, "GET", "/_emulator/health"))
            assert status_of(sock.recv(65536)) == 200  # answered; the connection stays open
        assert still_answers(crowded)
        assert any(closed_within(sock, seconds=5) for sock in kept_alive)
    finally:
        for sock in kept_alive:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed_at_the_request_deadline(impatient: Emulator) -> None:
    with connect(impatient) as silent:
        assert closed_within(silent, seconds=10)
