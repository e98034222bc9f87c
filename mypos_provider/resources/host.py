"""Workarounds for what the Python dynamic-provider host (`python -m pulumi.dynamic`) cannot do, in one place.

The host is the SDK's `pulumi/dynamic/__main__.py`; it runs as the provider process's `__main__`
(docs/pulumi-dynamic-providers.md §2). Three things it lacks, and what we do (its fourth lack, a way to
warn, is met by the engine log every provider plugin can use: provider/engine_log.py):

* Detailed diffs: its Diff handler sends only `changes` and `replaces`, so the CLI diffs masked inputs
  itself and shows a rotated secret as no change. `DetailedDiffs` wraps the `DiffResponse` class the
  handler builds its answer with, adding the properties our `diff()` reported on the same thread.
* Error display: the host answers every exception with `traceback.format_exc()`; `OneLineErrors` makes
  that one line (our message, without a class path) for the errors we raise on purpose.
* Config access: `ConfigureRequest.config` offers only `get(key)`; unknown `mypos:*` keys (typos) can only
  be found by reading its private `_props` (`stack_config`).

Each relies on the host's shape. `host_shape_problems()` and `config_shape_problems()` check that shape
(the host's from its source, without running it); the provider warns loudly at start-up when it fails,
and tests/unit/test_host.py fails on a `pulumi` release that changes it, instead of letting diffs,
warnings or errors silently degrade.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ..provider.process import ProviderFailure

HOST_MODULE = "pulumi.dynamic.__main__"


def host_module() -> ModuleType | None:
    """The running dynamic-provider host, or None when this code runs elsewhere (a program, a test)."""
    main = sys.modules.get("__main__")
    return main if getattr(main, "DynamicResourceProviderServicer", None) is not None else None


def host_shape_problems(source: str | None = None) -> list[str]:
    """What our workarounds expect of the host's source that it no longer does (empty: all is as expected)."""
    if source is None:
        spec = importlib.util.find_spec(HOST_MODULE)
        if spec is None or spec.origin is None:
            return [f"{HOST_MODULE} cannot be found"]
        source = Path(spec.origin).read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = {_dotted(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    expected = {
        "proto.DiffResponse": "the Diff handler builds its answer with proto.DiffResponse(...)",
        "traceback.format_exc": "errors are reported with traceback.format_exc()",
        "provider.configure": "the provider's configure() is called with a ConfigureRequest",
    }
    problems = [
        f"{HOST_MODULE}: {meaning} (no call to {name})" for name, meaning in expected.items() if name not in calls
    ]
    if "import traceback" not in source:
        problems.append(f"{HOST_MODULE}: it no longer imports the traceback module")
    return problems


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


class DetailedDiffs:
    """Carries each diff()'s changed properties to the DiffResponse the host builds on the same thread."""

    def __init__(self) -> None:
        self._recorded = threading.local()

    def report(self, updated: tuple[str, ...], replaced: tuple[str, ...]) -> None:
        self._recorded.value = {**{key: False for key in updated}, **{key: True for key in replaced}}

    def install(self, proto: Any) -> None:
        if isinstance(proto.DiffResponse, _DiffResponseWithDetails):
            return
        proto.DiffResponse = _DiffResponseWithDetails(proto.DiffResponse, self)

    def take(self) -> dict[str, bool] | None:
        changes: dict[str, bool] | None = getattr(self._recorded, "value", None)
        self._recorded.value = None
        return changes


class _DiffResponseWithDetails:
    """Builds DiffResponse messages with the recorded detailed diff; every other attribute is the real class's."""

    def __init__(self, response_type: Any, diffs: DetailedDiffs) -> None:
        self._response_type = response_type
        self._diffs = diffs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response_type, name)  # e.g. DiffResponse.DIFF_SOME

    def __call__(self, **fields: Any) -> Any:
        from pulumi.runtime.proto import provider_pb2

        response = self._response_type(**fields)
        changes = self._diffs.take()
        if not changes:
            return response
        for key, replaces in sorted(changes.items()):
            kind = provider_pb2.PropertyDiff.UPDATE_REPLACE if replaces else provider_pb2.PropertyDiff.UPDATE
            response.detailedDiff[key].CopyFrom(provider_pb2.PropertyDiff(kind=kind, inputDiff=True))
            response.diffs.append(key)
        response.hasDetailedDiff = True
        return response


class OneLineErrors:
    """Stands in for the host's `traceback` module: our failures read as their message alone."""

    def __init__(self, real: ModuleType, *, debug: bool) -> None:
        self._real = real
        self._debug = debug

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def format_exc(self, *args: Any, **kw: Any) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, ProviderFailure) and not self._debug:
            return str(error)
        return str(self._real.format_exc(*args, **kw))

    def install(self, host: ModuleType) -> None:
        if getattr(host, "traceback", None) is traceback:
            host.traceback = self  # type: ignore[attr-defined]


def config_shape_problems() -> list[str]:
    """The dynamic provider's Config must keep the whole stack config in `_props` (a dict)."""
    from pulumi.dynamic import Config

    if not isinstance(getattr(Config({"a:b": 1}, "p"), "_props", None), Mapping):
        return ["pulumi.dynamic.Config no longer keeps the stack config in _props: unknown mypos:* keys go unnoticed"]
    return []


def stack_config(request: Any, known_keys: tuple[str, ...]) -> Mapping[str, Any]:
    """The whole stack config of a ConfigureRequest (`ns:key` keys, secrets unwrapped).

    Should the SDK change its shape, only `known_keys` can be asked for (and typos go unnoticed, which
    the start-up check reports)."""
    config = getattr(request, "config", None)
    raw = getattr(config, "_props", None)
    if isinstance(raw, Mapping):
        return raw
    found = {key: config.get(key) for key in known_keys} if config is not None else {}
    return {key: value for key, value in found.items() if value is not None}
