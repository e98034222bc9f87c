"""Transport-neutral request/response values and body parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import parse_qs

from .errors import ApiError, bad_request


class Headers(Protocol):
    """Request headers looked up by name, case-insensitively (http.server's Message)."""

    def get(self, name: str, default: None = None) -> str | None: ...


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    headers: Headers
    body: bytes

    @cached_property
    def query(self) -> dict[str, str]:
        return _first_values(self.raw_query)

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def fields(self) -> dict[str, Any]:
        """Body parameters: form-encoded, JSON, or a form body labelled JSON (as myPOS's own SDK sends)."""
        text = self._text()
        if not text.strip():
            return {}
        media_type = self.header("Content-Type").split(";")[0].strip().lower()
        looks_like_json = media_type.endswith("json") or (not media_type and text.lstrip().startswith("{"))
        if looks_like_json:
            try:
                return _json_object(text)
            except ValueError:
                pass  # fall back to form parsing
        return _first_values(text)

    def json_body(self) -> dict[str, Any]:
        """A strict JSON object body (control plane only); empty body is an empty object."""
        text = self._text()
        if not text.strip():
            return {}
        try:
            return _json_object(text)
        except ValueError as problem:
            raise bad_request(f"body must be a JSON object: {problem}") from None

    def _text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("body is not valid UTF-8") from None


def _first_values(text: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Drop:
    """Outcome meaning: close the connection without answering."""


DROP = Drop()
Outcome = Response | Drop


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def empty_response(status: int) -> Response:
    return Response(status)


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), error.headers)


Handler = Callable[..., Response]


class Router:
    """Method + path-template routing; `{name}` captures one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")
        for known, handlers in self._routes:
            if known.pattern == pattern.pattern:
                handlers[method] = handler
                return
        self._routes.append((pattern, {method: handler}))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        for pattern, handlers in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if method not in handlers:
                allowed = ", ".join(sorted(handlers))
                raise ApiError(
                    405, "method_not_allowed", f"{method} is not allowed on {path}", headers={"Allow": allowed}
                )
            return handlers[method], match.groupdict()
        raise ApiError(404, "not_found", f"no such endpoint: {path}")
