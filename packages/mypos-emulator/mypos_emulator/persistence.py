"""The optional state file: loaded once at start, rewritten atomically after changes."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = "mypos-emulator-state"
VERSION = 1


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names the file and the problem."""


def load_state_file(path: Path) -> dict[str, Any] | None:
    """The saved document, or None when there is no file yet. Never treats a bad file as empty."""
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise StateFileError(f"cannot load state file {path}: {problem}") from None
    shape_problem = _shape_problem(document)
    if shape_problem:
        raise StateFileError(f"cannot load state file {path}: {shape_problem}")
    return document


def _shape_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "top level is not a JSON object"
    if document.get("format") != FORMAT:
        return f"'format' is not {FORMAT!r}"
    if document.get("version") != VERSION:
        return f"unsupported version {document.get('version')!r} (expected {VERSION})"
    for key, kind in (("settings", dict), ("accounts", dict), ("tokens", list)):
        if not isinstance(document.get(key), kind):
            return f"'{key}' is missing or not a JSON {'object' if kind is dict else 'list'}"
    return None


def write_state_file(path: Path, document: dict[str, Any]) -> None:
    """Writes via a temp file in the same directory and os.replace, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            json.dump(document, temp)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class StateWriter:
    """Coalesces bursts of changes into few writes on a background thread; flush() writes synchronously."""

    def __init__(self, path: Path, snapshot: Callable[[], dict[str, Any]], pause: float = 0.05) -> None:
        self._path = path
        self._snapshot = snapshot
        self._pause = pause
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        # Snapshot and write together under one lock, so an older snapshot can never replace a newer file.
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="mypos-emulator-state", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        self._dirty.set()

    def flush(self) -> None:
        self._dirty.clear()
        with self._write_lock:
            write_state_file(self._path, self._snapshot())

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self.flush()
        except OSError as problem:
            print(f"mypos emulator: cannot write state file {self._path}: {problem}", file=sys.stderr)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            try:
                self.flush()
            except OSError as problem:
                print(f"mypos emulator: cannot write state file {self._path}: {problem}", file=sys.stderr)
            self._stopping.wait(self._pause)
