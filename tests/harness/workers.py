"""What the pytest-xdist workers of one session share: a lock, and results computed once for all of them."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def coordination_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every worker of the session sees (pytest's base temp of the whole run)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def computed_once(tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[], Any]) -> Any:
    """compute()'s JSON-able result, computed by the first worker that asks and read back by the others
    (which wait meanwhile). A failure is not recorded: the next worker to ask tries again."""
    directory = coordination_dir(tmp_path_factory)
    record = directory / f"{name}.json"
    with locked(directory / f"{name}.lock"):
        if record.exists():
            return json.loads(record.read_text())
        result = compute()
        record.write_text(json.dumps(result))
        return result
