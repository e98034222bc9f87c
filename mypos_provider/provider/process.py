"""The provider process: what it knows for its deployment, and the gate every operation passes.

The engine starts one provider process per deployment (preview, up, refresh, destroy, import) and configures
it with the stack config. Its `ProviderProcess` holds the settings, one client (one token) and the core's
`DeploymentContext`. When it is configured it starts proving that the credentials and both endpoints work (one
token request, then the event catalogue: `core.context.ConnectionCheck`), beside the first operations rather
than before them. The gate lets an operation send its requests once the token is in (`Proof.TOKEN`) and report
anything done only once the whole check has passed (`Proof.WHOLE`), so even a preview with nothing to change
fails with a wrong client secret, and nothing is created by a run whose check failed. A configuration or
connection problem is reported once, in full, by the first operation that meets it; later operations of the
same process say only that they were stopped by it, and reads keep the state as it is, so the output names
the problem once rather than once per resource.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from enum import Enum
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
    """An operation stopped by a problem already reported in this process (`cause`)."""

    def __init__(self, message: str, *, cause: ProcessStopped) -> None:
        super().__init__(message)
        self.cause = cause


class Proof(Enum):
    """How much of the connection check an operation waits for."""

    TOKEN = "a token, to send requests with"
    WHOLE = "the token and the catalogue, to report anything done"


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
        self._stopped: ProcessStopped | None = None
        self._shown = False
        self.settings: Settings | None = None
        self.diagnostics = Diagnostics()
        try:
            self.diagnostics = load_diagnostics(environ)
            self.settings = load_settings(stack_config, environ)
        except ConfigError as error:
            self._stopped = ProcessStopped(str(error), short="the configuration problem reported above")
        self.context = (
            DeploymentContext(self.settings.connect(concurrency=concurrency), reporter) if self.settings else None
        )

    def start_connection_check(self) -> None:
        """Request the token (then the catalogue) now, in the background: what configuring the provider does."""
        if self.context is not None:
            self.context.connection.start()

    # ---- the gate every operation passes --------------------------------------------------------------

    def gate(self, proof: Proof = Proof.WHOLE) -> DeploymentContext:
        """The deployment's context once `proof` is in (waiting for it).

        A problem fails the first caller in full (ProcessStopped) and every later one as Skipped."""
        stopped = self._problem(proof)
        if stopped is not None:
            raise self._reported(stopped)
        assert self.context is not None
        return self.context

    def _problem(self, proof: Proof) -> ProcessStopped | None:
        if self.context is None:
            return self._stopped
        try:
            if proof is Proof.TOKEN:
                self.context.connection.token()
            else:
                self.context.connection.whole()
        except MyPOSError as error:
            with self._lock:
                if self._stopped is None:
                    self._stopped = ProcessStopped(self.explain(error), short="the connection problem reported above")
                return self._stopped
        return None

    def _reported(self, stopped: ProcessStopped) -> ProviderFailure:
        with self._lock:
            first, self._shown = not self._shown, True
        return stopped if first else Skipped(f"not attempted: stopped by {stopped.short}", cause=stopped)

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
