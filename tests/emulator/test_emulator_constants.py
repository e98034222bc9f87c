"""No module of the emulator holds a mutable collection: its tables (settings validators, spellings, the event
catalogue, page headers, ...) cannot be changed by accident from anywhere, and no state hides at module level."""

from __future__ import annotations

import collections
import importlib
import pkgutil
from types import ModuleType

import pytest

import mypos_emulator as emulator_package
import mypos_provider

MUTABLE = (dict, list, set, bytearray, collections.deque)
# What Python itself puts into every module's namespace.
INTERPRETER_NAMES = frozenset({"__builtins__", "__annotations__", "__path__"})


def emulator_modules() -> list[ModuleType]:
    names = [f"{emulator_package.__name__}.{info.name}" for info in pkgutil.iter_modules(emulator_package.__path__)]
    return [emulator_package, *(importlib.import_module(name) for name in names)]


def mutable_globals(module: ModuleType) -> list[str]:
    return [
        name for name, value in vars(module).items() if name not in INTERPRETER_NAMES and isinstance(value, MUTABLE)
    ]


@pytest.mark.parametrize("module", emulator_modules(), ids=lambda module: module.__name__)
def test_no_emulator_module_holds_a_mutable_collection(module: ModuleType) -> None:
    assert mutable_globals(module) == []


def test_the_package_root_holds_no_mutable_collection() -> None:
    assert mutable_globals(mypos_provider) == []
