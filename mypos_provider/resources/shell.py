"""The one dynamic provider: every resource type is this class with its rules (webhook.py, subscription.py).

It translates Pulumi's values to the core's and the results back; `provider.operations.Operations` does the
rest (the gate, the rules, one-line errors). It holds no state, since the host pickles it by reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as PULUMI_UNKNOWN

from ..core.rules import ResourceRules
from ..core.values import UNKNOWN, Changes, Checked, Read
from ..provider.operations import Operations
from ..provider.process import CONFIG_KEYS
from . import host
from .hosting import PROCESS, HostedProcess


class DynamicProvider(ResourceProvider):
    rules: ClassVar[type[ResourceRules]]

    # Nothing secret is captured in the provider, so its serialized form can stay plain: small, and
    # byte-for-byte identical in every resource and every run.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        PROCESS.start(host.stack_config(req, CONFIG_KEYS))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_result(self._operations().check(from_pulumi(olds), from_pulumi(news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        hosted = self._hosted()
        changes = self._operations(hosted).diff(_id, from_pulumi(olds), from_pulumi(news))
        if changes is not None:
            hosted.diffs.report(changes.updated, changes.replaced)
        return diff_result(changes)

    def create(self, props: dict[str, Any]) -> CreateResult:
        created = self._operations().create(from_pulumi(props))
        return CreateResult(created.id, created.outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return read_result(self._operations().read(id_, from_pulumi(props)))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._operations().update(_id, from_pulumi(_olds), from_pulumi(_news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self._operations().delete(_id, from_pulumi(_props))

    @staticmethod
    def _hosted() -> HostedProcess:
        return PROCESS.current()

    def _operations(self, hosted: HostedProcess | None = None) -> Operations:
        return Operations((hosted or self._hosted()).process, self.rules)


def check_result(checked: Checked) -> CheckResult:
    failures = [CheckFailure("" if p.conceal else p.field, p.message) for p in checked.problems]
    return CheckResult(to_pulumi(checked.inputs), failures)


def diff_result(changes: Changes | None) -> DiffResult:
    if changes is None:  # not attempted: the process is stopped by a problem its first operation reported
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)
    return DiffResult(changes=changes.any, replaces=list(changes.replaced), delete_before_replace=False)


def read_result(read: Read | None) -> ReadResult:
    if read is None:
        return ReadResult("", {})  # gone: the engine drops it from the state
    return ReadResult(read.id, read.outputs, read.inputs)


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
