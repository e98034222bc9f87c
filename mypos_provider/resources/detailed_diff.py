"""Property-level diffs for `pulumi preview --diff`, which the Python dynamic-provider host cannot send.

The host (`python -m pulumi.dynamic`) turns a DiffResult into a response with `changes` and `replaces`
only. Without a detailed diff the CLI compares old and new inputs itself, and since it masks secrets
before comparing, a rotated secret is shown as unchanged and the update appears to change nothing.
So, inside the provider process only, the host's DiffResponse is wrapped: a provider's `diff()` records
the changed properties with `report()`, and the wrapper adds them to the response as a detailed diff
(`hasDetailedDiff`, `detailedDiff`, `diffs`), which the CLI renders as `~ secret: [secret] => [secret]`.
If the host ever changes shape, the wrapper is simply not installed and diffs fall back to the default
(tests/engine/test_updates.py notices).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import Any

_recorded = threading.local()
_installed = False
_install_lock = threading.Lock()


def report(updated: Iterable[str], replaced: Iterable[str] = ()) -> None:
    """Record the changed properties of the diff() running on this thread (the host's gRPC worker)."""
    replaced = list(replaced)
    _recorded.value = {**{key: False for key in updated}, **{key: True for key in replaced}}


def install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
        host = sys.modules.get("__main__")
        if getattr(host, "DynamicResourceProviderServicer", None) is None:
            return  # not running inside the dynamic-provider host (e.g. in the user's program)
        from pulumi.runtime import proto

        # The host's Diff handler was bound when its gRPC server started, but it builds its answer with
        # `proto.DiffResponse(**fields)` looked up at call time, on the thread that ran our diff().
        proto.DiffResponse = _with_detailed_diff(proto.DiffResponse)


class _with_detailed_diff:  # noqa: N801 (stands in for the DiffResponse message class)
    """Builds DiffResponse messages with the recorded detailed diff; every other attribute is the real class's."""

    def __init__(self, response_type: Any) -> None:
        self._response_type = response_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response_type, name)  # e.g. DiffResponse.DIFF_SOME

    def __call__(self, **fields: Any) -> Any:
        from pulumi.runtime.proto import provider_pb2

        response = self._response_type(**fields)
        changes = getattr(_recorded, "value", None)
        _recorded.value = None
        if not changes:
            return response
        for key, replaces in sorted(changes.items()):
            kind = provider_pb2.PropertyDiff.UPDATE_REPLACE if replaces else provider_pb2.PropertyDiff.UPDATE
            response.detailedDiff[key].CopyFrom(provider_pb2.PropertyDiff(kind=kind, inputDiff=True))
            response.diffs.append(key)
        response.hasDetailedDiff = True
        return response
