"""The `Webhook` resource: a thin shell over `core.webhooks` (the rules live there)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import tokens
from .base import MyPOSProvider, from_pulumi
from .process import Skipped


class WebhookProvider(MyPOSProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        with self.translating(f"webhook {news.get('payload_url')}"):
            return self.check_result(self.process().webhooks().check(from_pulumi(olds), from_pulumi(news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = None
        with self.translating(f"webhook {_id}"), suppress(Skipped):
            changes = self.process().webhooks(verified=False).diff(_id, from_pulumi(olds), from_pulumi(news))
        return self.diff_result(changes)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.translating(f"webhook {props.get('payload_url')}"):
            created = self.process().webhooks().create(from_pulumi(props))
        return CreateResult(created.id, created.outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if (kept := self.unread(id_, props)) is not None:
            return kept
        with self.translating(f"webhook {id_}"):
            # A program's Webhook.get() sends its own (empty) inputs; a refresh sends the recorded outputs.
            lookup = not props.get("payload_url")
            return self.read_result(self.process().webhooks().read(id_, from_pulumi(props), lookup=lookup))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        with self.translating(f"webhook {_id}"):
            return UpdateResult(self.process().webhooks().update(_id, from_pulumi(_olds), from_pulumi(_news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        with self.translating(f"webhook {_id}"):
            self.process().webhooks().delete(_id, from_pulumi(_props))


class Webhook(Resource, module=tokens.MODULE, name=tokens.WEBHOOK):
    """A myPOS webhook.

    :param payload_url: the https URL myPOS POSTs callbacks to (http only for loopback addresses).
    :param secret: the key myPOS signs callbacks with (1 to 32 characters). Omit it to have a strong
        32-character secret generated once and kept. Always stored as a Pulumi secret.
    :param is_active: whether myPOS delivers to this webhook (default True).
    :param adopt_id: the id of an existing webhook to bring under management instead of creating one.
    """

    id: pulumi.Output[str]
    payload_url: pulumi.Output[str]
    secret: pulumi.Output[str]
    is_active: pulumi.Output[bool]
    created_on: pulumi.Output[str]
    adopt_id: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        payload_url: pulumi.Input[str],
        secret: pulumi.Input[str] | None = None,
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "payload_url": payload_url,
            # Wrapped even when omitted: the engine then keeps a secret generated in check() encrypted.
            "secret": pulumi.Output.secret(secret),
            "is_active": is_active,
            "adopt_id": adopt_id,
            "created_on": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["secret"]))
        super().__init__(WebhookProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Webhook:
        """Read an existing webhook into the program without managing it: never changed, never deleted.

        Its `secret` output is a Pulumi secret. Fails when the account has no webhook with this id."""
        looked_up = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return Webhook(resource_name, payload_url=None, opts=looked_up)  # type: ignore[arg-type]
