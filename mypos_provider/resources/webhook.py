"""The `Webhook` resource: a thin shell over `core.webhooks` (the rules live there)."""

from __future__ import annotations

import pulumi
from pulumi.dynamic import Resource

from .. import tokens
from ..core.webhooks import WebhookRules
from .shell import DynamicProvider


class WebhookProvider(DynamicProvider):
    """Pickled by reference into every Webhook's state: its module path and name are a long-term contract."""

    rules = WebhookRules


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
