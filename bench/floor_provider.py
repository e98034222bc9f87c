"""`pulumi-resource-benchfloor`: a native provider plugin that sends no request, the floor of bench/native.py.

It stands where `pulumi-resource-mypos` stands (same SDK, `pulumi.provider.experimental`, same gRPC server,
same thread pool, sized as the real plugin sizes it, that every operation hops onto), with resources of the same shape
(`benchfloor:index:Webhook`, `benchfloor:index:Subscription`) whose operations do nothing but echo their
inputs. A deployment of these costs what the engine, the language host, the state backend and the plugin's
serving cost, and no API time: bench/native.py adds the API time the real provider cannot avoid on top.

bench/native.py writes a launcher for it (the engine runs `<dir>/pulumi-resource-benchfloor ENGINE`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

from pulumi.provider.experimental import provider as sdk

from mypos_provider.native.server import _serve  # the real plugin's server, so served the same way
from mypos_provider.provider.engine_watch import EngineWatch
from mypos_provider.provider.parallelism import operations_at_once

PACKAGE = "benchfloor"
T = TypeVar("T")


class FloorProvider(sdk.Provider):
    """Every operation runs (a no-op) on the pool, as the real provider runs its blocking work there."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool

    async def _hop(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def configure(self, request: sdk.ConfigureRequest) -> sdk.ConfigureResponse:
        # As the real provider answers: secrets accepted, no create during preview.
        return sdk.ConfigureResponse(accept_secrets=True, supports_preview=False)

    async def check(self, request: sdk.CheckRequest) -> sdk.CheckResponse:
        return sdk.CheckResponse(inputs=await self._hop(lambda: dict(request.new_inputs)), failures=[])

    async def diff(self, request: sdk.DiffRequest) -> sdk.DiffResponse:
        changed = await self._hop(lambda: [k for k, v in request.new_inputs.items() if request.old_state.get(k) != v])
        return sdk.DiffResponse(changes=bool(changed), diffs=changed)

    async def create(self, request: sdk.CreateRequest) -> sdk.CreateResponse:
        resource_id = await self._hop(lambda: str(uuid.uuid4()))
        return sdk.CreateResponse(resource_id=resource_id, properties=dict(request.properties))

    async def read(self, request: sdk.ReadRequest) -> sdk.ReadResponse:
        return sdk.ReadResponse(resource_id=request.resource_id, properties=request.properties, inputs=request.inputs)

    async def update(self, request: sdk.UpdateRequest) -> sdk.UpdateResponse:
        return sdk.UpdateResponse(properties=await self._hop(lambda: dict(request.news)))

    async def delete(self, request: sdk.DeleteRequest) -> None:
        await self._hop(lambda: None)


def main() -> None:
    args = sys.argv[1:]
    # The engine's address is the one positional argument; the engine may put flags (-v, --tracing) first.
    parser = argparse.ArgumentParser(prog=f"pulumi-resource-{PACKAGE}")
    parser.add_argument("engine")
    engine_address: str = parser.parse_known_args(args)[0].engine
    EngineWatch(engine_address).start()  # exits when the engine is gone, as the real plugin does
    pool = ThreadPoolExecutor(max_workers=operations_at_once(), thread_name_prefix=PACKAGE)
    with pool, contextlib.suppress(KeyboardInterrupt):  # the engine stopping us is no error
        asyncio.run(_serve(FloorProvider(pool), args, engine_address))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
