"""examples/receiver.py as a module: a script a merchant copies, not part of the package, so it is loaded by
path, once per test process."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

RECEIVER_PATH = Path(__file__).resolve().parents[2] / "examples" / "receiver.py"


@functools.cache
def example_receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mypos_example_receiver", RECEIVER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
