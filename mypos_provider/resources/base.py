"""What both resource shells share: the process gate, value translation, error translation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ReadResult, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as PULUMI_UNKNOWN

from ..client import MyPOSError
from ..core.values import UNKNOWN, Changes, Checked, Read, RuleError
from ..settings import KNOWN_KEYS, NAMESPACE
from . import host
from .process import PROCESS, ProviderProcess, Skipped


class MyPOSProvider(ResourceProvider):
    """Translates between Pulumi properties and the core; holds no state (it is pickled by reference)."""

    # Nothing secret is captured in the provider, so its serialized form can stay plain: small, and
    # byte-for-byte identical in every resource and every run.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        PROCESS.start(host.stack_config(req, tuple(f"{NAMESPACE}:{key}" for key in KNOWN_KEYS)))

    @staticmethod
    def process() -> ProviderProcess:
        return PROCESS.current()

    @staticmethod
    @contextmanager
    def translating(subject: str) -> Iterator[None]:
        """Errors of the core and the client become one-line failures naming `subject`."""
        try:
            yield
        except host.ProviderFailure:
            raise
        except (MyPOSError, RuleError) as error:
            raise PROCESS.current().failure(error, subject) from None

    @staticmethod
    def check_result(checked: Checked) -> CheckResult:
        failures = [CheckFailure(problem.field, problem.message) for problem in checked.problems]
        return CheckResult(to_pulumi(checked.inputs), failures)

    @staticmethod
    def diff_result(changes: Changes | None) -> DiffResult:
        if changes is None:  # the process is stopped by a problem its first operation reported
            return DiffResult(changes=False, replaces=[], delete_before_replace=False)
        PROCESS.current().diffs.report(changes.updated, changes.replaced)
        return DiffResult(changes=changes.any, replaces=list(changes.replaced), delete_before_replace=False)

    @staticmethod
    def read_result(read: Read | None) -> ReadResult:
        if read is None:
            return ReadResult("", {})  # gone: the engine drops it from the state
        return ReadResult(read.id, read.outputs, read.inputs)

    @staticmethod
    def unread(id_: str, props: dict[str, Any]) -> ReadResult | None:
        """For a refresh in a process already stopped by a reported problem: keep the state as it is."""
        try:
            PROCESS.current().ready()
        except Skipped:
            return ReadResult(id_, props)
        return None


def from_pulumi(props: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi properties in the core's terms: values not known yet become the core's UNKNOWN."""
    return {key: _core_value(value) for key, value in props.items() if key != "__provider"}


def _core_value(value: Any) -> Any:
    if isinstance(value, Unknown) or (isinstance(value, str) and value == PULUMI_UNKNOWN):
        return UNKNOWN
    if isinstance(value, list):
        return [_core_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _core_value(v) for k, v in value.items()}
    return value


def to_pulumi(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _pulumi_value(value) for key, value in values.items()}


def _pulumi_value(value: Any) -> Any:
    if value is UNKNOWN:
        return Unknown()
    if isinstance(value, list):
        return [_pulumi_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _pulumi_value(v) for k, v in value.items()}
    return value
