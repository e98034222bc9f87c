"""The vocabulary the core speaks with its shells: values not known yet, input problems, rule errors, reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Bookkeeping the rules keep in a resource's inputs and outputs. Keys starting with "__" are the engine's
# internal properties: recorded in the state, never shown in a preview (docs/pulumi-dynamic-providers.md §4).
SECRET_GENERATED = "__secret_generated"  # the webhook's secret was generated here, so no other stack has it
NOT_BEFORE = "__not_before"  # server time (whole seconds) before which this resource's create cannot have made
# its object: stamped by check() before the create is sent, so `recover` can prove what a killed run made


class _Unknown:
    """A value the engine will only know later (an output of a resource not created yet, during a preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    if isinstance(value, _Unknown):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return any(is_unknown(v) for v in value)
    return False


@dataclass(frozen=True)
class Problem:
    """One invalid input: the field it concerns and a sentence that says what to do.

    `conceal`: the value must not be shown (the engine prints a failing property's value beside its problem,
    so the shells then report the problem for the resource, not the property; the message names the field)."""

    field: str
    message: str
    conceal: bool = False


@dataclass(frozen=True)
class Checked:
    """The normalised inputs of a resource and every problem found in them."""

    inputs: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Changes:
    """What a diff found: fields updated in place and fields that force a replacement."""

    updated: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.updated or self.replaced)


@dataclass(frozen=True)
class Created:
    id: str
    outputs: dict[str, Any]


@dataclass(frozen=True)
class Read:
    """A live object as the state should record it (`id`, outputs and the inputs that would make it).

    `inputs` None: keep the recorded inputs (a read that could not ask myPOS keeps the state as it is)."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


class RuleError(Exception):
    """An operation the rules refuse; the message names the object, the problem and the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ObjectGone(RuleError):
    """The object was deleted outside the deployment: the state must forget it before it can be changed."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"{kind} {object_id} no longer exists in myPOS (deleted outside this stack)")
        self.kind = kind
        self.object_id = object_id


class Reporter(Protocol):
    """Where the core tells its user what it did on their behalf (adoptions, objects gone, releases)."""

    def warn(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


class CollectingReporter:
    """Keeps the messages: for tests, and for callers that print them their own way."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def info(self, message: str) -> None:
        self.infos.append(message)
