"""What the dynamic-provider process shares between resources: settings, the client, the read snapshot.

The provider classes are pickled into every resource's state (`__provider`) by reference, so they hold no
state of their own. Everything here lives only in the provider process, for one deployment.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from ..client import ConfigError, MyPOSClient, Subscription, Webhook
from ..settings import Settings, load_settings
from .snapshot import AccountSnapshot

log = logging.getLogger("mypos_provider")

DEBUG_ENV = "MYPOS_DEBUG"
LOG_FILE_ENV = "MYPOS_LOG_FILE"
LOG_LEVEL_ENV = "MYPOS_LOG_LEVEL"


class ProviderRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stack_config: Mapping[str, Any] | None = None
        self._settings: Settings | None = None
        self._snapshot: AccountSnapshot | None = None
        self._process_prepared = False

    def configure(self, stack_config: Mapping[str, Any]) -> None:
        """Called by each provider class's `configure()` with the whole stack config (secrets unwrapped)."""
        with self._lock:
            self._prepare_process()
            if self._stack_config is None:
                self._stack_config = dict(stack_config)

    def settings(self) -> Settings:
        """The resolved settings; raises ConfigError (naming the setting and the fix) when they are bad."""
        with self._lock:
            if self._settings is None:
                self._prepare_process()
                self._settings = load_settings(self._stack_config or {})
            return self._settings

    def config_error(self) -> ConfigError | None:
        try:
            self.settings()
        except ConfigError as error:
            return error
        return None

    def client(self) -> MyPOSClient:
        return self.settings().client()

    def snapshot(self) -> AccountSnapshot:
        client = self.client()
        with self._lock:
            if self._snapshot is None or self._snapshot.client is not client:
                self._snapshot = AccountSnapshot(client)
            return self._snapshot

    def snapshot_if_loaded_remember(self, obj: Webhook | Subscription) -> None:
        """Keep a read snapshot (if this deployment made one) in step with our own writes."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        if isinstance(obj, Webhook):
            snapshot.remember_webhook(obj)
        else:
            snapshot.remember_subscription(obj)

    def snapshot_if_loaded_forget_webhook(self, webhook_id: str) -> None:
        if self._snapshot is not None:
            self._snapshot.forget_webhook(webhook_id)

    def snapshot_if_loaded_forget_subscription(self, subscription_id: str) -> None:
        if self._snapshot is not None:
            self._snapshot.forget_subscription(subscription_id)

    def _prepare_process(self) -> None:
        """Logging and error display of the provider process: done once, never in the user's program."""
        if self._process_prepared:
            return
        self._process_prepared = True
        if not os.environ.get(DEBUG_ENV):
            # The dynamic-provider host prints `traceback.format_exc()` for any error. Our errors are
            # written to be read on their own, so show one line, not a stack (MYPOS_DEBUG=1 brings it back).
            sys.tracebacklimit = 0
        log_file = os.environ.get(LOG_FILE_ENV)
        level = os.environ.get(LOG_LEVEL_ENV, "DEBUG" if log_file else "WARNING").upper()
        handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(level)


RUNTIME = ProviderRuntime()


def stack_config_of(request: Any) -> Mapping[str, Any]:
    """The raw stack config of a ConfigureRequest, with `ns:key` keys."""
    config = getattr(request, "config", None)
    raw = getattr(config, "_props", None)
    if isinstance(raw, Mapping):
        return raw
    # Older SDKs: ask for the keys we know.
    from ..settings import KNOWN_KEYS, NAMESPACE

    found = {f"{NAMESPACE}:{k}": config.get(f"{NAMESPACE}:{k}") for k in KNOWN_KEYS} if config else {}
    return {k: v for k, v in found.items() if v is not None}
