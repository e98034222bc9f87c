"""The engine's operations on one resource type, as both shells run them: one gate, the rules, one-line errors.

Each operation passes the process's gate exactly once and then calls the type's rules (core/rules.py). A
diff sends no request, so it takes the context unproven; a read in a process already stopped by a reported
problem keeps the state as it is. Values in and out are the core's (core/values.py): translating them from and
to Pulumi's is all that is left to a shell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..client import MyPOSError
from ..core.rules import ResourceRules
from ..core.values import Changes, Checked, Created, Read, RuleError
from .process import ProviderFailure, ProviderProcess, Skipped


class Operations:
    def __init__(self, process: ProviderProcess, rules: type[ResourceRules]) -> None:
        self._process = process
        self._rules = rules

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        with self._translating(self._rules.describe(news)):
            return self._open().check(olds, news)

    def diff(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Changes | None:
        """None: not attempted, because the process stopped on a problem its first operation reported."""
        with self._translating(self._named(object_id)):
            try:
                rules = self._open(verified=False)
            except Skipped:
                return None
            return rules.diff(object_id, olds, news)

    def create(self, inputs: Mapping[str, Any]) -> Created:
        with self._translating(self._rules.describe(inputs)):
            return self._open().create(inputs)

    def read(self, object_id: str, recorded: Mapping[str, Any]) -> Read | None:
        """None: the object is gone (the engine drops it from the state)."""
        with self._translating(self._named(object_id)):
            try:
                rules = self._open()
            except Skipped:
                return Read(object_id, dict(recorded), None)
            return rules.read(object_id, recorded)

    def update(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        with self._translating(self._named(object_id)):
            return self._open().update(object_id, olds, news)

    def delete(self, object_id: str, recorded: Mapping[str, Any]) -> None:
        with self._translating(self._named(object_id)):
            self._open().delete(object_id, recorded)

    def _open(self, *, verified: bool = True) -> ResourceRules:
        return self._rules(self._process.gate(verified=verified))

    def _named(self, object_id: str) -> str:
        return f"{self._rules.KIND} {object_id}"

    @contextmanager
    def _translating(self, subject: str) -> Iterator[None]:
        """Errors of the core and the client become one-line failures naming `subject`."""
        try:
            yield
        except ProviderFailure:
            raise
        except (MyPOSError, RuleError) as error:
            raise self._process.failure(error, subject) from None
