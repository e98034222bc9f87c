"""The dynamic host's provider process: built at the first `configure()`, kept for the process's life.

The host (`python -m pulumi.dynamic`) unpickles one provider per resource class and gives them no shared
place, so the process lives in one slot at module level (`PROCESS`): the only state kept there, read only
through `shell.DynamicProvider._hosted()`. Starting it requests the token (the connection check runs beside
the first operations), lets the host run as many operations at once as the engine sends and installs the
other host workarounds of host.py.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..provider.engine_log import EngineLog, EngineReporter
from ..provider.engine_watch import EngineWatch
from ..provider.parallelism import operations_at_once
from ..provider.process import ProviderFailure, ProviderProcess, open_log
from . import host


@dataclass(frozen=True)
class HostedProcess:
    """The provider process, and the channel its diffs take to the host's answer (host.DetailedDiffs)."""

    process: ProviderProcess
    diffs: host.DetailedDiffs


class ProcessSlot:
    """Holds this process's `HostedProcess`, built on the first `configure()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosted: HostedProcess | None = None

    def start(self, stack_config: Mapping[str, Any]) -> HostedProcess:
        with self._lock:
            if self._hosted is None:
                self._hosted = _start(stack_config)
            return self._hosted

    def current(self) -> HostedProcess:
        with self._lock:
            if self._hosted is None:
                raise ProviderFailure("the provider was used before configure(): a bug of mypos-pulumi")
            return self._hosted


def _start(stack_config: Mapping[str, Any]) -> HostedProcess:
    engine = EngineLog.from_argv(sys.argv)
    concurrency = operations_at_once()
    process = ProviderProcess(stack_config, reporter=EngineReporter(engine), concurrency=concurrency)
    process.start_connection_check()
    open_log(process.diagnostics)
    diffs = host.DetailedDiffs()
    running_host = host.host_module()
    if running_host is not None:
        EngineWatch(engine.address).start()
        problems = host.host_shape_problems() + host.config_shape_problems()
        problems += host.run_all_at_once(running_host, concurrency)
        for problem in problems:
            engine.warn(f"mypos-pulumi does not fit this pulumi SDK: {problem}; pin pulumi as in requirements.txt")
        from pulumi.runtime import proto

        diffs.install(proto)
        host.OneLineErrors(running_host.traceback, debug=process.diagnostics.debug).install(running_host)
    return HostedProcess(process, diffs)


PROCESS = ProcessSlot()
