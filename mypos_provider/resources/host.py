"""Workarounds for what the Python dynamic-provider host (`python -m pulumi.dynamic`) cannot do, in one place.

The host is the SDK's `pulumi/dynamic/__main__.py`; it runs as the provider process's `__main__`
(docs/pulumi-dynamic-providers.md §2). Four things it lacks, and what we do (its fifth lack, a way to
warn, is met by the engine log every provider plugin can use: provider/engine_log.py):

* Concurrency: its gRPC server runs on `futures.ThreadPoolExecutor(max_workers=4)`, so four operations ran at
  once whatever `--parallel` said (docs/pulumi-dynamic-providers.md §7). `run_all_at_once` finds that server
  (main()'s `server`, in the frame main() is blocked in) and raises its pool's limit to what the engine may
  send (provider/parallelism.py), starting a thread for each call already waiting.

* Detailed diffs: its Diff handler sends only `changes` and `replaces`, so the CLI diffs masked inputs
  itself and shows a rotated secret as no change. `DetailedDiffs` wraps the `DiffResponse` class the
  handler builds its answer with, adding the properties our `diff()` reported on the same thread.
* Error display: the host answers every exception with `traceback.format_exc()`; `OneLineErrors` makes
  that one line (our message, without a class path) for the errors we raise on purpose.
* Config access: `ConfigureRequest.config` offers only `get(key)`; unknown `mypos:*` keys (typos) can only
  be found by reading its private `_props` (`stack_config`).

Each relies on the host's shape. `host_shape_problems()` and `config_shape_problems()` check that shape
(the host's from its source, without running it) and `run_all_at_once` reports what it cannot find; the
provider warns loudly at start-up when any of them fails, and tests/unit/test_host.py fails on a `pulumi`
release that changes it, instead of letting diffs, warnings, errors or concurrency silently degrade.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from ..provider.process import ProviderFailure

HOST_MODULE = "pulumi.dynamic.__main__"
SERVER_VARIABLE = "server"  # main()'s gRPC server in the host


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
    if not _serves_from_a_thread_pool(tree):
        problems.append(
            f"{HOST_MODULE}: main() no longer assigns `server = grpc.server(futures.ThreadPoolExecutor("
            "max_workers=...), ...)`, so operations would run only as many at once as the host chose"
        )
    return problems


def _serves_from_a_thread_pool(tree: ast.Module) -> bool:
    """main() holds `server = grpc.server(futures.ThreadPoolExecutor(max_workers=...), ...)`."""
    mains = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"]
    for node in (n for main in mains for n in ast.walk(main)):
        if not (isinstance(node, ast.Assign) and [_dotted(t) for t in node.targets] == [SERVER_VARIABLE]):
            continue
        call = node.value
        if isinstance(call, ast.Call) and _dotted(call.func) == "grpc.server" and call.args:
            pool = call.args[0]
            if isinstance(pool, ast.Call) and _dotted(pool.func) == "futures.ThreadPoolExecutor":
                return any(keyword.arg == "max_workers" for keyword in pool.keywords)
    return False


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


def run_all_at_once(host: ModuleType, workers: int) -> list[str]:
    """Let the running host's gRPC server run `workers` calls at once; what stops it, if anything."""
    server = _host_server(host)
    if server is None:
        return [
            f"{HOST_MODULE}: main()'s `{SERVER_VARIABLE}` was not found on the main thread: operations run only "
            "as many at once as the host chose"
        ]
    return widen(server, workers)


def widen(server: Any, workers: int) -> list[str]:
    """Raise the limit of a (sync) gRPC server's thread pool to `workers`, and start a thread for each call
    already waiting: the pool starts threads only when work is submitted, and the waiting calls were."""
    pool = getattr(getattr(server, "_state", None), "thread_pool", None)
    if not isinstance(pool, ThreadPoolExecutor) or not _resizable(pool):
        return [
            "grpc's server no longer keeps its ThreadPoolExecutor (with _max_workers and _work_queue) in "
            "_state.thread_pool: operations run only as many at once as the host chose"
        ]
    if pool._max_workers >= workers:  # noqa: SLF001 (the shape checked above)
        return []
    pool._max_workers = workers  # noqa: SLF001
    for _ in range(pool._work_queue.qsize()):  # noqa: SLF001
        pool.submit(_nothing)  # each submit starts a thread, which takes the oldest waiting call first
    return []


def _resizable(pool: ThreadPoolExecutor) -> bool:
    return isinstance(getattr(pool, "_max_workers", None), int) and hasattr(getattr(pool, "_work_queue", None), "qsize")


def _nothing() -> None:
    pass


def _host_server(host: ModuleType) -> Any:
    """main()'s `server`, from the frame main() waits in on the main thread (it never returns while serving)."""
    for frame in _main_thread_frames():
        if frame.f_code.co_name == "main" and frame.f_globals is vars(host):
            return frame.f_locals.get(SERVER_VARIABLE)
    return None


def _main_thread_frames() -> Iterator[FrameType]:
    frame = sys._current_frames().get(threading.main_thread().ident or 0)  # noqa: SLF001 (documented in sys)
    while frame is not None:
        yield frame
        frame = frame.f_back


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
