"""The provider process: the one context it holds for its deployment, created at the first `configure()`.

The engine starts one dynamic-provider process per deployment (preview, up, refresh or destroy) and it
unpickles each resource class's provider into it; both call `configure()` with the stack config. The first
call builds a `ProviderProcess`: the settings, one client (one token), the core's `DeploymentContext`, and
the host workarounds. It is the only state kept at module level (`PROCESS`), because the host gives the
providers no other place to share it.

Before any operation, `ready()` proves once that the credentials and both endpoints work (one token
request and the event catalogue), so even a preview with nothing to change fails with a wrong client
secret. A configuration or connection problem is reported once, in full, on the first operation; later
operations of the same process say only that they were skipped, and reads (a `refresh`) keep the state as
it is, so the output names the problem once rather than once per resource.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from ..client import ConfigError, Culprit, MyPOSError
from ..core.context import DeploymentContext
from ..core.subscriptions import SubscriptionRules
from ..core.values import ObjectGone, RuleError
from ..core.webhooks import WebhookRules
from ..settings import Settings, load_settings
from . import host

log = logging.getLogger("mypos_provider")

DEBUG_ENV = "MYPOS_DEBUG"
LOG_FILE_ENV = "MYPOS_LOG_FILE"
LOG_LEVEL_ENV = "MYPOS_LOG_LEVEL"


class EngineReporter:
    """The core's reporter in a provider process: the engine's log for the CLI, the log file for the record."""

    def __init__(self, engine: host.EngineLog) -> None:
        self._engine = engine

    def warn(self, message: str) -> None:
        log.warning(message)
        self._engine.warn(message)

    def info(self, message: str) -> None:
        log.info(message)
        self._engine.info(message)


class ProviderProcess:
    def __init__(self, stack_config: Mapping[str, Any], *, engine: host.EngineLog) -> None:
        self.engine = engine
        self.diffs = host.DetailedDiffs()
        self._lock = threading.Lock()
        self._checked = False
        self._blocked: ProcessStopped | None = None
        self._shown = False
        self.settings: Settings | None = None
        self._config_error: ConfigError | None = None
        try:
            self.settings = load_settings(stack_config)
        except ConfigError as error:
            self._config_error = error
        self.context = (
            DeploymentContext(self.settings.connect(), EngineReporter(self.engine)) if self.settings else None
        )

    # ---- the gate before every operation ------------------------------------------------------------

    def webhooks(self, *, verified: bool = True) -> WebhookRules:
        return WebhookRules(self.ready() if verified else self._unverified())

    def subscriptions(self, *, verified: bool = True) -> SubscriptionRules:
        return SubscriptionRules(self.ready() if verified else self._unverified())

    def _unverified(self) -> DeploymentContext:
        """For what sends no request (a diff): the context, proven or not."""
        if self.context is None:
            raise Skipped("not attempted: stopped by the configuration problem reported above")
        return self.context

    def ready(self) -> DeploymentContext:
        """The deployment's context once settings and connection are proven; else a failure, shown once."""
        with self._lock:
            if not self._checked:
                self._blocked, self._checked = self._first_problem(), True
            blocked, first = self._blocked, not self._shown
            if blocked is not None:
                self._shown = True
        if blocked is not None:
            raise blocked if first else Skipped(f"not attempted: stopped by {blocked.short}")
        assert self.context is not None
        return self.context

    def _first_problem(self) -> ProcessStopped | None:
        if self._config_error is not None:
            return ProcessStopped(str(self._config_error), short="the configuration problem reported above")
        assert self.context is not None
        try:
            self.context.verify()
        except MyPOSError as error:
            return ProcessStopped(self.explain(error), short="the connection problem reported above")
        return None

    # ---- errors as the CLI shows them ---------------------------------------------------------------

    def explain(self, error: MyPOSError) -> str:
        return self.settings.explain(error) if self.settings is not None else str(error)

    def failure(self, error: Exception, subject: str) -> host.ProviderFailure:
        """One line naming the object, the problem and the fix."""
        if isinstance(error, ObjectGone):
            return host.ProviderFailure(
                f"{error}: run `pulumi refresh` to drop it from the state, then `pulumi up` to recreate it"
            )
        if isinstance(error, RuleError):
            return host.ProviderFailure(str(error))
        if isinstance(error, MyPOSError):
            text = self.explain(error)
            if error.culprit is Culprit.RETRY_BUDGET:
                text += "; then run `pulumi up` again: it resumes where it stopped, without duplicates"
            return host.ProviderFailure(f"{subject}: {text}" if subject else text)
        raise error


class ProcessStopped(host.ProviderFailure):
    """A problem that stops every operation of this process (configuration, credentials, endpoints)."""

    def __init__(self, message: str, *, short: str) -> None:
        super().__init__(message)
        self.short = short


class Skipped(host.ProviderFailure):
    """An operation not attempted because of a problem already reported in this process."""


class ProcessSlot:
    """Holds this process's `ProviderProcess`, built on the first `configure()` and kept for the process's life."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: ProviderProcess | None = None

    def start(self, stack_config: Mapping[str, Any]) -> ProviderProcess:
        with self._lock:
            if self._process is None:
                self._process = _start_process(stack_config)
            return self._process

    def current(self) -> ProviderProcess:
        with self._lock:
            if self._process is None:
                raise host.ProviderFailure("the provider was used before configure(): a bug of mypos-pulumi")
            return self._process


def _start_process(stack_config: Mapping[str, Any]) -> ProviderProcess:
    engine = host.EngineLog.from_argv(sys.argv)
    _prepare_logging()
    process = ProviderProcess(stack_config, engine=engine)
    running_host = host.host_module()
    if running_host is not None:
        problems = host.host_shape_problems() + host.config_shape_problems()
        for problem in problems:
            engine.warn(f"mypos-pulumi does not fit this pulumi SDK: {problem}; pin pulumi as in requirements.txt")
        from pulumi.runtime import proto

        process.diffs.install(proto)
        host.OneLineErrors(running_host.traceback, debug=bool(os.environ.get(DEBUG_ENV))).install(running_host)
    return process


def _prepare_logging() -> None:
    """The provider's own log goes to MYPOS_LOG_FILE only: stderr would repeat every warning in the CLI."""
    log_file = os.environ.get(LOG_FILE_ENV)
    log.propagate = False
    if not log_file:
        log.addHandler(logging.NullHandler())
        return
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(os.environ.get(LOG_LEVEL_ENV, "DEBUG").upper())


PROCESS = ProcessSlot()
