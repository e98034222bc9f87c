"""`NativeProvider`: the engine's calls for `mypos:index:*`, translated to the shared operations and back.

Every rule is the core's, run through `provider.operations.Operations` exactly as the dynamic resources run
it; this class only maps type tokens to rules, property values to the core's values (values.py) and the
core's field names to the schema's in what the user reads. The blocking work runs on the server's thread
pool, so as many operations run at once as the engine sends.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from types import MappingProxyType
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from .. import tokens
from ..client.models import format_http_date
from ..core.account import webhooks_with_subscriptions
from ..core.rules import ResourceRules
from ..core.subscriptions import SubscriptionRules
from ..core.values import Changes
from ..core.webhooks import WebhookRules
from ..provider.engine_log import EngineReporter
from ..provider.operations import Operations
from ..provider.process import ProviderFailure, ProviderProcess, Skipped, open_log
from . import schema
from .values import pulumi_value, to_core, to_pulumi

T = TypeVar("T")
RULES: Mapping[str, type[ResourceRules]] = MappingProxyType(
    {tokens.NATIVE_WEBHOOK_TYPE: WebhookRules, tokens.NATIVE_SUBSCRIPTION_TYPE: SubscriptionRules}
)


class NativeProvider(Provider):
    def __init__(self, *, pool: Executor, reporter: EngineReporter, concurrency: int) -> None:
        self._pool = pool
        self._reporter = reporter
        self._concurrency = concurrency
        self._process: ProviderProcess | None = None

    # ---- the provider itself --------------------------------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema.text())

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        # Every `mypos:*` key of the stack arrives here, the stack program's own (`mypos:webhooks`) too; the
        # settings know them all, so none is reported as a typo.
        process = ProviderProcess(
            stack_config(request.variables), reporter=self._reporter, concurrency=self._concurrency
        )
        if self._process is None:
            open_log(process.diagnostics)
        process.start_connection_check()  # the token is on its way before the first operation arrives
        self._process = process
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    # ---- resources ------------------------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        kind, operations = self._operations(request.type)
        olds, news = to_core(kind, request.old_inputs), to_core(kind, request.new_inputs)
        checked = await self._run(kind, lambda: operations.check(olds, news))
        failures = [
            CheckFailure("" if p.conceal else _schema_name(kind, p.field), _schema_words(kind, p.message))
            for p in checked.problems
        ]
        return CheckResponse(inputs=to_pulumi(kind, checked.inputs), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind, operations = self._operations(request.type)
        olds, news = to_core(kind, request.old_state), to_core(kind, request.new_inputs)
        changes = await self._run(kind, lambda: operations.diff(request.resource_id, olds, news))
        return _diff_response(kind, changes)

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind, operations = self._operations(request.type)
        inputs = to_core(kind, request.properties)
        created = await self._run(kind, lambda: operations.create(inputs))
        return CreateResponse(resource_id=created.id, properties=to_pulumi(kind, created.outputs))

    async def read(self, request: ReadRequest) -> ReadResponse:
        kind, operations = self._operations(request.type)
        recorded = to_core(kind, request.properties)
        read = await self._run(kind, lambda: operations.read(request.resource_id, recorded))
        if read is None:
            return ReadResponse(resource_id="")  # gone: the engine drops it from the state
        inputs = request.inputs if read.inputs is None else to_pulumi(kind, read.inputs)
        return ReadResponse(resource_id=read.id, properties=to_pulumi(kind, read.outputs), inputs=dict(inputs))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind, operations = self._operations(request.type)
        olds, news = to_core(kind, request.olds), to_core(kind, request.news)
        outputs = await self._run(kind, lambda: operations.update(request.resource_id, olds, news))
        return UpdateResponse(properties=to_pulumi(kind, outputs))

    async def delete(self, request: DeleteRequest) -> None:
        kind, operations = self._operations(request.type)
        recorded = to_core(kind, request.properties)
        await self._run(kind, lambda: operations.delete(request.resource_id, recorded))

    # ---- functions ------------------------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        functions: dict[str, Callable[[], dict[str, PropertyValue]]] = {
            tokens.GET_WEBHOOKS: self._webhooks,
            tokens.GET_EVENTS: self._events,
        }
        if request.tok not in functions:
            raise ProviderFailure(f"mypos has no function {request.tok}: it offers {', '.join(sorted(functions))}")
        return InvokeResponse(return_value=await self._run("webhook", functions[request.tok]))

    def _webhooks(self) -> dict[str, PropertyValue]:
        client = self._gate(tokens.GET_WEBHOOKS).client
        listed = [
            {
                "id": hook.id,
                "payloadUrl": hook.payload_url,
                "isActive": hook.is_active,
                "createdOn": format_http_date(hook.created_on),
                # No secret: every SDK makes a function's whole result secret when any part is (Webhook.get
                # reads one webhook's secret as a secret output instead).
                "subscriptions": [
                    {
                        "id": s.id,
                        "event": s.event_name,
                        "eventId": event.id if (event := client.event_by_name(s.event_name)) else "",
                        "terminalIds": list(s.terminal_ids or ()),
                    }
                    for s in subscriptions
                ],
            }
            for hook, subscriptions in webhooks_with_subscriptions(client)
        ]
        return {"webhooks": pulumi_value(listed)}

    def _events(self) -> dict[str, PropertyValue]:
        client = self._gate(tokens.GET_EVENTS).client
        return {"events": pulumi_value([{"id": e.id, "name": e.name} for e in client.list_events()])}

    def _gate(self, function: str) -> Any:
        try:
            return self._configured().gate()
        except Skipped as skipped:
            raise ProviderFailure(f"{function}: {skipped}") from None

    # ---- helpers --------------------------------------------------------------------------------------

    def _configured(self) -> ProviderProcess:
        if self._process is None:
            raise ProviderFailure("the provider was used before configure(): a bug of mypos-pulumi")
        return self._process

    def _operations(self, type_token: str) -> tuple[str, Operations]:
        rules = RULES.get(type_token)
        if rules is None:
            raise ProviderFailure(f"mypos has no resource type {type_token}: it offers {', '.join(sorted(RULES))}")
        return rules.KIND, Operations(self._configured(), rules)

    async def _run(self, kind: str, work: Callable[[], T]) -> T:
        """Run blocking work on the pool; a failure reads with the schema's names."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        except ProviderFailure as failure:
            raise type(failure)(_schema_words(kind, str(failure))) from None


def stack_config(variables: Mapping[str, str]) -> dict[str, str]:
    """The engine's configuration variables (`mypos:config:clientId`) as the settings read the stack config
    (`mypos:clientId`)."""
    return {key.replace(":config:", ":", 1): value for key, value in variables.items()}


def _diff_response(kind: str, changes: Changes | None) -> DiffResponse:
    if changes is None:  # not attempted: the process stopped on a problem its first operation reported
        return DiffResponse(changes=False)
    detailed = {
        _schema_name(kind, name): PropertyDiff(PropertyDiffKind.UPDATE, input_diff=True) for name in changes.updated
    } | {
        _schema_name(kind, name): PropertyDiff(PropertyDiffKind.UPDATE_REPLACE, input_diff=True)
        for name in changes.replaced
    }
    return DiffResponse(
        changes=changes.any,
        replaces=[_schema_name(kind, name) for name in changes.replaced],
        diffs=sorted(detailed),
        detailed_diff=detailed,
        delete_before_replace=False,
    )


def _schema_name(kind: str, name: str) -> str:
    return tokens.NATIVE_PROPERTIES[kind].get(name, name)


def _schema_words(kind: str, text: str) -> str:
    """A message of the core with its field names as the schema spells them (payload_url -> payloadUrl)."""
    names = {core: native for core, native in tokens.NATIVE_PROPERTIES[kind].items() if core != native}
    if not names:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda match: names[match.group(1)], text)
