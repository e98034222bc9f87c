"""Reading a request body from the socket, bounded: Content-Length or chunked, never past a size limit,
never a line without an end."""

from __future__ import annotations

import re
from typing import Protocol

from .wire import Headers

MAX_LINE_BYTES = 1024  # a chunk-size line or a trailer line
MAX_TRAILER_LINES = 32
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class BodyError(Exception):
    """The body cannot be accepted; `status` is 400 (malformed) or 413 (too large)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_body(stream: Stream, headers: Headers, max_bytes: int) -> bytes:
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(stream, max_bytes)
    return _read_sized(stream, headers.get("Content-Length") or "0", max_bytes)


def _too_large(max_bytes: int) -> BodyError:
    return BodyError(413, f"the request body is larger than {max_bytes} bytes")


def _read_sized(stream: Stream, declared: str, max_bytes: int) -> bytes:
    if not declared.strip().isdigit():
        raise BodyError(400, "Content-Length must be a whole number of bytes")
    length = int(declared)
    if length > max_bytes:
        raise _too_large(max_bytes)
    body = stream.read(length) if length else b""
    if len(body) < length:
        raise BodyError(400, "the connection ended before the whole body arrived")
    return body


def _line(stream: Stream, what: str) -> bytes:
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
        raise BodyError(400, f"malformed {what}: no line end within {MAX_LINE_BYTES} bytes")
    return line


def _read_chunked(stream: Stream, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _line(stream, "chunk size").split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise BodyError(400, "malformed chunk size: expected hexadecimal digits")
        size = int(size_text, 16)
        if size == 0:
            _skip_trailers(stream)
            return b"".join(parts)
        total += size
        if total > max_bytes:
            raise _too_large(max_bytes)  # refused before reading the chunk: nothing unbounded is read
        data = stream.read(size)
        if len(data) < size:
            raise BodyError(400, "the connection ended inside a chunk")
        if _line(stream, "chunk end").strip():
            raise BodyError(400, "malformed chunk: its data is longer than its size")
        parts.append(data)


def _skip_trailers(stream: Stream) -> None:
    for _ in range(MAX_TRAILER_LINES):
        if not _line(stream, "trailer").strip():
            return
    raise BodyError(400, f"more than {MAX_TRAILER_LINES} trailer lines")


__all__ = ("BodyError", "read_body")
