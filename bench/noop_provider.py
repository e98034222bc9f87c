"""The cheapest possible dynamic resource: a provider that makes no request and keeps nothing.

bench/run.py deploys N pairs of these beside the real provider's N webhooks and subscriptions, with the same
inputs and the same dependency (the second of each pair takes the first one's id), so the difference in wall
time is what mypos-pulumi adds over the engine and the Python dynamic-provider host themselves. The module
is copied into the benchmark's project directory, where the provider process can import it (pickled by
reference, as the real provider is).
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class NoOpProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(uuid.uuid4()), {k: v for k, v in props.items() if k != "__provider"})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in news if k != "__provider" and olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({k: v for k, v in news.items() if k != "__provider"})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NoOp(Resource, module="bench", name="NoOp"):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NoOpProvider(), name, props, opts)
