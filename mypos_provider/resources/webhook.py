"""The `Webhook` resource: where myPOS POSTs callbacks, and the secret it signs them with."""

from __future__ import annotations

import dataclasses
import secrets as random_secrets
import string
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..client import MyPOSError, NotFoundError
from ..client import Webhook as ApiWebhook
from ..client.models import format_http_date
from . import detailed_diff
from . import validation as v
from .base import MyPOSProvider
from .diagnostics import warn
from .errors import ProviderError, describe
from .runtime import RUNTIME

INPUTS = ("payload_url", "secret", "is_active", "adopt_id")
SECRET_ALPHABET = string.ascii_letters + string.digits


def generate_secret() -> str:
    """32 random letters and digits (about 190 bits): the longest secret myPOS accepts."""
    return "".join(random_secrets.choice(SECRET_ALPHABET) for _ in range(v.MAX_SECRET_LENGTH))


class WebhookProvider(MyPOSProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: news.get(k) for k in INPUTS}
        inputs["is_active"] = True if news.get("is_active") is None else news.get("is_active")
        failures = v.check_fields(
            inputs,
            {
                "payload_url": v.payload_url_problem,
                "secret": v.secret_problem,
                "is_active": lambda value: v.bool_problem("is_active", value),
                "adopt_id": v.adopt_id_problem,
            },
        )
        if inputs["secret"] is None:
            inputs["secret"] = _undeclared_secret(olds, adopting=bool(inputs["adopt_id"]))
        failures += _credentials_failures(verify_remotely=not olds and not failures)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [field for field in ("payload_url", "secret", "is_active") if _differs(olds, news, field)]
        detailed_diff.report(changed)
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            webhook = _adopt(props) if props.get("adopt_id") else _create(props)
        except MyPOSError as error:
            raise ProviderError(describe(error, props.get("payload_url"))) from None
        RUNTIME.snapshot_if_loaded_remember(webhook)
        return CreateResult(webhook.id, _outputs(webhook, props, events=_event_names(webhook) or []))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            webhook = RUNTIME.snapshot().webhook(id_)
        except MyPOSError as error:
            raise ProviderError(describe(error, props.get("payload_url") or id_)) from None
        if webhook is None:
            warn(
                f"webhook {id_} ({props.get('payload_url', 'unknown URL')}) no longer exists in myPOS (deleted "
                "outside Pulumi); it was removed from the stack's state, and the next `pulumi up` recreates it"
            )
            return ReadResult("", {})
        events = RUNTIME.snapshot().event_names_of(id_)
        if events is None:
            events = _event_names(webhook)
        outputs = _outputs(webhook, props, events=events if events is not None else props.get("events") or [])
        inputs = {"payload_url": webhook.payload_url, "secret": webhook.secret, "is_active": webhook.is_active}
        if props.get("adopt_id"):
            inputs["adopt_id"] = props["adopt_id"]
        return ReadResult(id_, outputs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes = {f: news[f] for f in ("payload_url", "secret", "is_active") if _differs(olds, news, f)}
        try:
            webhook = RUNTIME.client().update_webhook(id_, **changes) if changes else None
        except NotFoundError:
            raise ProviderError(
                f"webhook {id_} no longer exists in myPOS (deleted outside Pulumi): run `pulumi refresh` to drop "
                "it from the state, then `pulumi up` to recreate it"
            ) from None
        except MyPOSError as error:
            raise ProviderError(describe(error, news.get("payload_url"))) from None
        if webhook is None:
            return UpdateResult({**olds, **{k: news.get(k) for k in INPUTS if k in news}})
        RUNTIME.snapshot_if_loaded_remember(webhook)
        events = _event_names(webhook)
        return UpdateResult(_outputs(webhook, news, events=events if events is not None else olds.get("events") or []))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            RUNTIME.client().delete_webhook(id_)
        except NotFoundError:
            pass  # already gone: exactly what delete wants
        except MyPOSError as error:
            raise ProviderError(describe(error, props.get("payload_url") or id_)) from None
        RUNTIME.snapshot_if_loaded_forget_webhook(id_)


def _undeclared_secret(old_inputs: Mapping[str, Any], *, adopting: bool) -> str | None:
    """The secret of a webhook that declares none: the one it already has, else (new) a generated one.

    An adopted webhook keeps its live secret (create() reads it), so adopting never rotates anything."""
    if old_inputs:
        return old_inputs.get("secret")
    return None if adopting else generate_secret()


def _create(props: Mapping[str, Any]) -> ApiWebhook:
    client = RUNTIME.client()
    webhook = client.create_webhook(props["payload_url"], props["secret"])
    if props.get("is_active") is False:
        webhook = client.update_webhook(webhook.id, is_active=False)
    return webhook


def _adopt(props: Mapping[str, Any]) -> ApiWebhook:
    """Bring an existing webhook under management: verify it exists, then converge it in place."""
    client = RUNTIME.client()
    adopt_id = props["adopt_id"]
    try:
        webhook = client.get_webhook(adopt_id)
    except NotFoundError:
        webhook = None
    if webhook is None or webhook.is_deleted:
        raise ProviderError(
            f"adopt_id {adopt_id}: this account has no such webhook; list existing ones with "
            "`python -m mypos_provider list`, or remove adopt_id to create a new webhook"
        )
    declared = {"payload_url": props["payload_url"], "is_active": props.get("is_active", True)}
    if props.get("secret") is not None:
        declared["secret"] = props["secret"]
    live = {"payload_url": webhook.payload_url, "is_active": webhook.is_active, "secret": webhook.secret}
    changes = {k: value for k, value in declared.items() if live[k] != value}
    if not changes:
        return webhook
    updated = client.update_webhook(adopt_id, **changes)
    return dataclasses.replace(updated, events=updated.events or webhook.events)


def _outputs(webhook: ApiWebhook, props: Mapping[str, Any], *, events: list[str]) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "payload_url": webhook.payload_url,
        "secret": webhook.secret,
        "is_active": webhook.is_active,
        "created_on": format_http_date(webhook.created_on),
        "events": list(events),
    }
    if props.get("adopt_id"):
        outputs["adopt_id"] = props["adopt_id"]
    return outputs


def _event_names(webhook: ApiWebhook) -> list[str] | None:
    return None if webhook.events is None else sorted({e.name for e in webhook.events})


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], field: str) -> bool:
    new = news.get(field)
    if v.is_unknown(new):
        return True
    if field == "secret" and new is None:
        return False  # not declared: keep whatever secret the webhook has
    return olds.get(field) != new


def _credentials_failures(*, verify_remotely: bool) -> list[Any]:
    """Configuration problems, and (for a resource about to be created) whether myPOS accepts the credentials."""
    problem = RUNTIME.config_error()
    if problem is not None:
        return [v.failure(problem.field, str(problem))]
    if verify_remotely:
        try:
            RUNTIME.client().tokens.token()
        except MyPOSError as error:
            return [v.failure("mypos:clientId", str(error))]
    return []


class Webhook(Resource, module="mypos", name="Webhook"):
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
    events: pulumi.Output[list[str]]
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
            "events": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["secret"]))
        super().__init__(WebhookProvider(), resource_name, props, opts)
