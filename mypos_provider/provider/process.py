"""The provider process: what it knows for its deployment, and the gate every operation passes once.

The engine starts one provider process per deployment (preview, up, refresh, destroy, import) and configures
it with the stack config. Its `ProviderProcess` holds the settings, one client (one token) and the core's
`DeploymentContext`. Before the first operation, the gate proves once that the credentials and both endpoints
work (one token request and the event catalogue), so even a preview with nothing to change fails with a wrong
client secret. A configuration or connection problem is reported once, in full, by the first operation; later
operations of the same process say only that they were skipped, and reads keep the state as it is, so the
output names the problem once rather than once per resource.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ..client import ConfigError, Culprit, MyPOSError
from ..client.api import DEFAULT_CONCURRENCY
from ..core.context import DeploymentContext
from ..core.values import ObjectGone, Reporter, RuleError
from ..settings import KNOWN_KEYS, NAMESPACE, Diagnostics, Settings, load_diagnostics, load_settings

log = logging.getLogger("mypos_provider")
# Every key of the stack config a provider process reads or tolerates (the stack program's own too).
CONFIG_KEYS = tuple(f"{NAMESPACE}:{key}" for key in KNOWN_KEYS)


class ProviderFailure(Exception):
    """An error raised on purpose: its message is complete, and is all the user should see."""


class ProcessStopped(ProviderFailure):
    """A problem that stops every operation of this process (configuration, credentials, endpoints)."""

    def __init__(self, message: str, *, short: str) -> None:
        super().__init__(message)
        self.short = short


class Skipped(ProviderFailure):
    """An operation not attempted because of a problem already reported in this process."""


class ProviderProcess:
    def __init__(
        self,
        stack_config: Mapping[str, Any],
        *,
        reporter: Reporter,
        environ: Mapping[str, str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        """`concurrency`: how many operations the shell runs at once (the client keeps that many connections)."""
        self._lock = threading.Lock()
        self._checked = False
        self._blocked: ProcessStopped | None = None
        self._shown = False
        self.settings: Settings | None = None
        self.diagnostics = Diagnostics()
        self._config_error: ConfigError | None = None
        try:
            self.diagnostics = load_diagnostics(environ)
            self.settings = load_settings(stack_config, environ)
        except ConfigError as error:
            self._config_error = error
        self.context = (
            DeploymentContext(self.settings.connect(concurrency=concurrency), reporter) if self.settings else None
        )

    # ---- the gate before every operation ------------------------------------------------------------

    def gate(self, *, verified: bool = True) -> DeploymentContext:
        """The deployment's context, proven first unless `verified` is False (what sends no request: a diff).

        A problem found by the proof fails the first caller in full and every later one as Skipped."""
        if not verified:
            if self.context is None:
                raise Skipped("not attempted: stopped by the configuration problem reported above")
            return self.context
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

    def failure(self, error: Exception, subject: str) -> ProviderFailure:
        """One line naming the object, the problem and the fix."""
        if isinstance(error, ObjectGone):
            return ProviderFailure(
                f"{error}: run `pulumi refresh` to drop it from the state, then `pulumi up` to recreate it"
            )
        if isinstance(error, RuleError):
            return ProviderFailure(str(error))
        if isinstance(error, MyPOSError):
            text = self.explain(error)
            if error.culprit is Culprit.RETRY_BUDGET:
                text += "; then deploy again (`pulumi up`, or the project's deploy): it resumes where it stopped"
            return ProviderFailure(f"{subject}: {text}" if subject else text)
        raise error


def open_log(diagnostics: Diagnostics) -> None:
    """The provider's own log goes to its log file only: stderr would repeat every warning in the CLI."""
    log.propagate = False
    if diagnostics.log_file is None:
        log.addHandler(logging.NullHandler())
        return
    handler = logging.FileHandler(diagnostics.log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(diagnostics.log_level)
