"""Errors the provider raises to the engine: one line, naming the object, the problem and the fix."""

from __future__ import annotations

from ..client import MyPOSError


class ProviderError(Exception):
    """Shown by the Pulumi CLI as the resource's error (without a traceback unless MYPOS_DEBUG=1)."""


def describe(error: MyPOSError, subject: object) -> str:
    text = str(error)
    return f"{subject}: {text}" if subject else text
