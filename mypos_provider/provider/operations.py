"""The engine's operations on one resource type, as both shells run them: the gate, the rules, one-line errors.

Each operation passes the process's gate (provider/process.py) and then calls the type's rules (core/rules.py):

* it sends its requests as soon as the token is in (`Proof.TOKEN`), beside the catalogue the connection check
  is still reading, and reports its result only once the whole check has passed (`Proof.WHOLE`); a create
  whose check then failed deletes again what it made, so a run whose check failed creates nothing;
* a diff sends no request, but waits for the whole check, so even a preview with nothing to change proves the
  connection; a diff of a process stopped by a problem reported already is not attempted (None);
* a read in a process stopped by a reported problem keeps the state as it is;
* an error met while the check fails is the check's (the same unreachable API, say): it is reported once, as
  the check's problem, instead of once per resource.

Values in and out are the core's (core/values.py): translating them from and to Pulumi's is all that is left
to a shell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..client import MyPOSError
from ..core.context import DeploymentContext
from ..core.rules import ResourceRules
from ..core.values import Changes, Checked, Created, Read, RuleError
from .process import ProcessStopped, Proof, ProviderFailure, ProviderProcess, Skipped


class Operations:
    def __init__(self, process: ProviderProcess, rules: type[ResourceRules]) -> None:
        self._process = process
        self._rules = rules

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        with self._translating(self._rules.describe(news)):
            rules = self._open()
            with self._check_failure_first():
                return rules.check(olds, news)

    def diff(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Changes | None:
        """None: not attempted, because the process stopped on a problem reported already."""
        with self._translating(self._named(object_id)):
            try:
                rules = self._rules(self._process.gate(Proof.WHOLE))
            except Skipped:
                return None
            return rules.diff(object_id, olds, news)

    def create(self, inputs: Mapping[str, Any]) -> Created:
        with self._translating(self._rules.describe(inputs)):
            context = self._process.gate(Proof.TOKEN)
            rules = self._rules(context)
            with self._check_failure_first():
                created = rules.create(inputs)
            try:
                self._process.gate(Proof.WHOLE)
            except ProviderFailure as stopped:
                raise self._undone(context, rules, created, stopped) from None
            return created

    def read(self, object_id: str, recorded: Mapping[str, Any]) -> Read | None:
        """None: the object is gone (the engine drops it from the state)."""
        with self._translating(self._named(object_id)):
            try:
                rules = self._open()
                with self._check_failure_first():
                    read = rules.read(object_id, recorded)
                self._process.gate(Proof.WHOLE)
            except Skipped:
                return Read(object_id, dict(recorded), None)
            return read

    def update(self, object_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        with self._translating(self._named(object_id)):
            rules = self._open()
            with self._check_failure_first():
                outputs = rules.update(object_id, olds, news)
            self._confirm_sent()
            return outputs

    def delete(self, object_id: str, recorded: Mapping[str, Any]) -> None:
        with self._translating(self._named(object_id)):
            rules = self._open()
            with self._check_failure_first():
                rules.delete(object_id, recorded)
            self._confirm_sent()

    # ---- the gate around the rules ------------------------------------------------------------------

    def _open(self) -> ResourceRules:
        return self._rules(self._process.gate(Proof.TOKEN))

    @contextmanager
    def _check_failure_first(self) -> Iterator[None]:
        """A client error while the connection check fails is the check's problem: that is reported (once)."""
        try:
            yield
        except MyPOSError:
            self._process.gate(Proof.WHOLE)
            raise

    def _confirm_sent(self) -> None:
        """The whole check, after a change was sent: if it failed, the state keeps what it had (the next run
        sends the change again)."""
        try:
            self._process.gate(Proof.WHOLE)
        except ProviderFailure as stopped:
            raise _noted(stopped, "its change was sent before the check failed: the next run sends it again") from None

    def _undone(
        self, context: DeploymentContext, rules: ResourceRules, created: Created, stopped: ProviderFailure
    ) -> ProviderFailure:
        """The failure of a create whose connection check failed after its object was made: made here, it is
        deleted again (an adopted or identical object existed before and stays)."""
        if not context.claims.was_created(created.id):
            return stopped
        made = f"{self._rules.KIND} {created.id}"
        context.claims.release(created.id)
        try:
            rules.delete(created.id, created.outputs)
        except (MyPOSError, RuleError) as error:
            return _noted(
                stopped,
                f"{made}, made before the check failed, is left in myPOS and not in the state: deleting it "
                f"failed ({self._process.failure(error, '')}); delete it in the myPOS account",
            )
        return _noted(stopped, f"{made}, made before the check failed, was deleted again")

    # ---- wording ------------------------------------------------------------------------------------

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


def _noted(failure: ProviderFailure, note: str) -> ProviderFailure:
    """The same failure with what the operation had done before it: it was attempted, not skipped."""
    if isinstance(failure, ProcessStopped):
        return ProcessStopped(f"{failure}; {note}", short=failure.short)
    if isinstance(failure, Skipped):
        return Skipped(f"stopped by {failure.cause.short}; {note}", cause=failure.cause)
    return type(failure)(f"{failure}; {note}")
