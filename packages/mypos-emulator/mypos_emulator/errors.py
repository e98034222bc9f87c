"""Errors that map one-to-one onto HTTP error answers."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: status, a machine-readable code and a human sentence.

    Raised anywhere below a route handler; the HTTP layer turns it into a JSON body.
    """

    def __init__(
        self,
        status: int,
        error: str,
        message: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or error)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = headers or {}
        self._body = body

    def body(self) -> dict[str, Any]:
        if self._body is not None:
            return self._body
        answer: dict[str, Any] = {"error": self.error}
        if self.message is not None:
            answer["message"] = self.message
        if self.field is not None:
            answer["field"] = self.field
        return answer


def validation_error(field: str, message: str) -> ApiError:
    return ApiError(400, "validation_error", message, field=field)


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, "not_found", f"{kind} {object_id} was not found")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)
