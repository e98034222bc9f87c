"""`pulumi-resource-mypos`: serves `NativeProvider` to the engine over gRPC, as the engine expects a plugin to.

What the SDK's `pulumi.provider.experimental.server.main` does, plus three things it lacks:

* a thread pool of our own for the blocking HTTP calls (`asyncio.to_thread` would use `min(32, cpus + 4)`
  threads: 6 on two cores), as large as the engine's `--parallel` (provider/parallelism.py), so every
  operation the engine sends at once runs at once;
* one-line errors: the SDK's servicer appends a Python stack to every error; ours answers an error raised on
  purpose (`ProviderFailure`) with its message alone (MYPOS_DEBUG=1 keeps the stack);
* an `EngineWatch`, so the plugin exits when its engine is gone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from pulumi.provider.experimental import server as sdk_server
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from .. import __version__
from ..provider.engine_log import EngineLog, EngineReporter
from ..provider.engine_watch import EngineWatch
from ..provider.parallelism import operations_at_once
from ..provider.process import ProviderFailure
from ..settings import load_diagnostics
from .provider import NativeProvider

Rpc = Callable[[Any, Any, Any], Awaitable[Any]]


def provider_failure(error: BaseException) -> ProviderFailure | None:
    """Our failure behind an error: the SDK re-raises it as `Exception(message + stack)` from inside its
    `except`, so ours is the new error's context."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ProviderFailure):
            return seen
        seen = seen.__context__
    return None


def one_line(rpc: Rpc) -> Rpc:
    async def call(self: OneLineServicer, request: Any, context: Any) -> Any:
        try:
            return await rpc(self, request, context)
        except Exception as error:
            failure = provider_failure(error)
            if failure is None or self.debug:
                raise
            await context.abort(grpc.StatusCode.UNKNOWN, str(failure))

    return call


class OneLineServicer(sdk_server.ProviderServicer):
    def __init__(self, *args: Any, debug: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.debug = debug

    Configure = one_line(sdk_server.ProviderServicer.Configure)
    Check = one_line(sdk_server.ProviderServicer.Check)
    Diff = one_line(sdk_server.ProviderServicer.Diff)
    Create = one_line(sdk_server.ProviderServicer.Create)
    Read = one_line(sdk_server.ProviderServicer.Read)
    Update = one_line(sdk_server.ProviderServicer.Update)
    Delete = one_line(sdk_server.ProviderServicer.Delete)
    Invoke = one_line(sdk_server.ProviderServicer.Invoke)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="pulumi-resource-mypos", description="the myPOS provider plugin (gRPC)")
    parser.add_argument("engine", help="the engine's address, given by the Pulumi CLI")
    engine_address: str = parser.parse_known_args(args)[0].engine
    EngineWatch(engine_address).start()
    # Idle threads cost nothing (the pool starts them as work arrives); the client keeps as many connections.
    concurrency = operations_at_once()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mypos") as pool:
        provider = NativeProvider(
            pool=pool, reporter=EngineReporter(EngineLog(engine_address)), concurrency=concurrency
        )
        with contextlib.suppress(KeyboardInterrupt):  # the engine stopping us is no error
            asyncio.run(_serve(provider, args, engine_address))


async def _serve(provider: NativeProvider, args: list[str], engine_address: str) -> None:
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    debug = _debug()
    servicer = OneLineServicer(args, __version__, provider, engine_address=engine_address, debug=debug)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    await server.start()
    sys.stdout.buffer.write(f"{port}\n".encode())  # the engine reads the plugin's port from its first line
    sys.stdout.buffer.flush()
    await server.wait_for_termination()


def _debug() -> bool:
    try:
        return load_diagnostics().debug
    except Exception:  # noqa: BLE001 (a bad MYPOS_LOG_LEVEL is reported by the first operation instead)
        return False
