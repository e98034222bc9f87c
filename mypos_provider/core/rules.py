"""The shape of a resource type's rules, as every shell calls them: core/webhooks.py and core/subscriptions.py have it.

A new resource type is a class of this shape (and a few lines of shell); the shells need nothing else of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .context import DeploymentContext
from .values import Changes, Checked, Created, Read


class ResourceRules(Protocol):
    KIND: str  # how messages name an object of this type, with its id: "webhook 5f0c..."

    def __init__(self, context: DeploymentContext) -> None: ...

    @staticmethod
    def describe(inputs: Mapping[str, Any]) -> str:
        """The object as an error names it before it has an id."""
        ...

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked: ...

    def diff(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Changes: ...

    def create(self, inputs: Mapping[str, Any]) -> Created: ...

    def read(self, object_id: str, recorded: Mapping[str, Any]) -> Read | None: ...

    def update(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete(self, object_id: str, recorded: Mapping[str, Any]) -> None: ...
