"""All emulator state behind one lock, reached only through transactions.

`write()` is for a block that changes state: it takes the lock, and when the block completes the state
file is marked dirty (a block that raises changed nothing, because handlers check before they change).
`read()` is the read-only form: the same lock, no mark. So no writer can forget to save, and no reader
ever sees half of an update.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .clock import Clock
from .models import Store
from .persistence import FORMAT, VERSION
from .settings import EmulatorSettings


class Database:
    def __init__(self, store: Store, settings: EmulatorSettings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.RLock()
        self._version = 0
        self._on_change: Callable[[], None] | None = None
        self.clock = clock

    @contextmanager
    def write(self) -> Iterator[Store]:
        with self._lock:
            yield self._store
            self._version += 1
        if self._on_change is not None:
            self._on_change()

    @contextmanager
    def read(self) -> Iterator[Store]:
        with self._lock:
            yield self._store

    def notify_changes_to(self, listener: Callable[[], None] | None) -> None:
        """Who hears about every completed write (the state-file writer), or nobody."""
        self._on_change = listener

    @property
    def version(self) -> int:
        """Counts completed writes, so a poller can tell whether anything changed."""
        return self._version

    # Settings are part of the state: saved with it and swapped atomically under the same lock.

    @property
    def settings(self) -> EmulatorSettings:
        """The current settings; a request reads them once, so one answer never mixes two versions."""
        return self._settings

    def update_settings(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        """Applies validated changes; raises SettingsError (naming the setting) before changing anything."""
        with self.write():
            self._settings = self._settings.updated(changes)
            return self._settings

    def replace_settings(self, settings: EmulatorSettings) -> None:
        with self.write():
            self._settings = settings

    def snapshot(self) -> dict[str, Any]:
        """The state-file document, copied under the lock (serialised later, outside it)."""
        with self.read() as store:
            return {"format": FORMAT, "version": VERSION, "settings": self._settings.to_dict(), **store.to_dict()}


__all__ = ("Database",)
