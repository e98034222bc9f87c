"""The rules of a managed webhook: what its inputs may be, what changes in place, how it is made or adopted.

Inputs: `payload_url`, `secret` (optional: generated once and kept when omitted), `is_active` (default
true), `adopt_id` (take over an existing webhook instead of creating one). Every field updates in place.
The outputs repeat the inputs the webhook really has, plus `created_on`. Two internal keys are kept too:
whether the secret was generated here (it is then unique to this webhook, which `reconcile` relies on), and
the moment before which its create cannot have made anything (`values.NOT_BEFORE`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets as random_secrets
import string
from collections.abc import Mapping
from typing import Any

from ..client import NotFoundError, Webhook
from ..client.models import format_http_date
from . import reconcile, validation
from .context import DeploymentContext
from .values import (
    NOT_BEFORE,
    SECRET_GENERATED,
    Changes,
    Checked,
    Created,
    ObjectGone,
    Problem,
    Read,
    RuleError,
    is_unknown,
)

KIND = "webhook"
INPUTS = ("payload_url", "secret", "is_active", "adopt_id", SECRET_GENERATED, NOT_BEFORE)
MUTABLE = ("payload_url", "secret", "is_active")
SECRET_ALPHABET = string.ascii_letters + string.digits


def generate_secret() -> str:
    """32 random letters and digits (about 190 bits): the longest secret myPOS accepts."""
    return "".join(random_secrets.choice(SECRET_ALPHABET) for _ in range(validation.MAX_SECRET_LENGTH))


class WebhookRules:
    KIND = KIND

    def __init__(self, context: DeploymentContext) -> None:
        self._context = context
        self._client = context.client

    @staticmethod
    def describe(inputs: Mapping[str, Any]) -> str:
        """The webhook as an error names it before it has an id."""
        return f"webhook {validation.without_credentials(inputs.get('payload_url'))}"

    # ---- plan ---------------------------------------------------------------------------------------

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        """Validate and normalise the declared inputs (`olds`: the inputs recorded last time, if any)."""
        inputs = {name: news.get(name) for name in INPUTS}
        if inputs["is_active"] is None:
            inputs["is_active"] = True
        problems = validation.problems_of(
            inputs,
            {
                "payload_url": validation.payload_url_problem,
                "secret": validation.secret_problem,
                "is_active": validation.is_active_problem,
                "adopt_id": validation.adopt_id_problem,
            },
        )
        problems = [validation.concealed(p) if p.field == "payload_url" else p for p in problems]
        inputs["secret"], inputs[SECRET_GENERATED] = _secret_to_use(inputs, olds)
        inputs[NOT_BEFORE] = olds.get(NOT_BEFORE) if olds else self._context.not_before()
        if not olds and not problems and isinstance(inputs["adopt_id"], str):
            problems += self._review_adoption(inputs)
        return Checked(inputs, problems)

    def diff(self, webhook_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Changes:
        """`olds` are the recorded outputs; a webhook staying in the program keeps holding its object."""
        self._context.claims.hold(webhook_id)
        return Changes(updated=tuple(name for name in MUTABLE if _differs(olds, news, name)))

    # ---- apply --------------------------------------------------------------------------------------

    def create(self, inputs: Mapping[str, Any]) -> Created:
        webhook = self._adopt(inputs) if inputs.get("adopt_id") else self._create(inputs)
        self._context.account.remember_webhook(webhook)
        return Created(webhook.id, outputs(webhook, inputs))

    def read(self, webhook_id: str, recorded: Mapping[str, Any]) -> Read | None:
        """The live webhook as the state should record it; None (with a warning) when it is gone.

        Without a recorded URL, the caller asks for an existing webhook (a program's `Webhook.get`, an import),
        and a missing one is an error rather than something to drop from the state."""
        webhook = self._context.account.webhook(webhook_id)
        if webhook is None and not recorded.get("payload_url"):
            raise RuleError(
                f"webhook {webhook_id}: this account has no such webhook; list existing ones with "
                "`python -m mypos_provider list`"
            )
        if webhook is None:
            self._context.reporter.warn(
                f"webhook {webhook_id} ({recorded.get('payload_url', 'unknown URL')}) no longer exists in myPOS "
                "(deleted outside this stack); it was removed from the state and the next update recreates it"
            )
            return None
        inputs = {name: getattr(webhook, name) for name in MUTABLE}
        if not recorded.get("payload_url"):
            # Read for an import (or a lookup): the webhook keeps its own secret, as an adoption does, so the
            # inputs declare none, and no code generated from them shows it.
            del inputs["secret"]
        elif recorded.get(SECRET_GENERATED) and recorded.get("secret"):
            # A secret generated here is declared by the stack (its output is what the receiver was given): one
            # changed by hand is drift, so the inputs keep the recorded one and the next update restores it.
            inputs["secret"] = recorded["secret"]
        for carried in ("adopt_id", SECRET_GENERATED, NOT_BEFORE):
            if recorded.get(carried):
                inputs[carried] = recorded[carried]
        return Read(webhook_id, outputs(webhook, recorded), inputs)

    def update(self, webhook_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        changes = {name: news[name] for name in MUTABLE if _differs(olds, news, name)}
        if not changes:
            # An undeclared secret (None) means "keep the webhook's", as in diff(): it must not erase the output.
            kept = {name: news[name] for name in INPUTS if name in news and not _undeclared_secret(name, news)}
            return {**olds, **kept}
        try:
            webhook = self._client.update_webhook(webhook_id, **changes)
        except NotFoundError:
            raise ObjectGone(KIND, webhook_id) from None
        self._context.account.remember_webhook(webhook)
        return outputs(webhook, news)

    def delete(self, webhook_id: str, recorded: Mapping[str, Any]) -> None:
        if self._context.claims.is_held(webhook_id):
            self._context.reporter.warn(
                f"webhook {webhook_id} ({recorded.get('payload_url')}) is held by another resource of this "
                "deployment: it was released from the removed resource, not deleted"
            )
            return
        with contextlib.suppress(NotFoundError):  # already gone: exactly what delete wants
            self._client.delete_webhook(webhook_id)
        self._context.account.forget_webhook(webhook_id)

    # ---- helpers ------------------------------------------------------------------------------------

    def _create(self, inputs: Mapping[str, Any]) -> Webhook:
        key = reconcile.WebhookKey(inputs["payload_url"], inputs["secret"])
        look_up = reconcile.attempt_look_up(
            self._client.iter_webhooks,
            key,
            since=reconcile.attempt_started(self._context.server_now()),
            exclude=self._context.excluded(),
        )
        made = self._client.create_webhook(key.payload_url, key.secret, look_up=look_up)
        webhook = made.object
        self._context.claims.created(webhook.id)
        if made.unresolved_attempts:
            self._context.reporter.warn(reconcile.unresolved_warning(KIND, webhook.id, webhook.payload_url))
        if made.found_by_look_up and not inputs.get(SECRET_GENERATED):
            self._context.reporter.warn(
                f"webhook {webhook.id} ({webhook.payload_url}) was adopted after an interrupted create: it has the "
                "declared URL and secret and appeared after the create began; a declared secret could be "
                "shared with another stack, so check it is this one's (`python -m mypos_provider list`)"
            )
        if inputs.get("is_active") is False:
            webhook = self._client.update_webhook(webhook.id, is_active=False)
        return webhook

    def _adopt(self, inputs: Mapping[str, Any]) -> Webhook:
        """Bring an existing webhook under management: verify it exists, then converge it in place."""
        adopt_id = str(inputs["adopt_id"])
        live = self._live(adopt_id)
        if live is None:
            raise RuleError(_no_such_webhook(adopt_id), field="adopt_id")
        self._context.claims.hold(adopt_id)
        changes = _adoption_changes(live, inputs)
        if not changes:
            return live
        updated = self._client.update_webhook(adopt_id, **changes)
        return dataclasses.replace(updated, events=updated.events or live.events)

    def _review_adoption(self, inputs: Mapping[str, Any]) -> list[Problem]:
        """Before anything is written: the webhook to adopt must exist; say what adopting will change."""
        adopt_id = str(inputs["adopt_id"])
        live = self._live(adopt_id)
        if live is None:
            return [Problem("adopt_id", _no_such_webhook(adopt_id))]
        changes = _adoption_changes(live, inputs)
        described = ", ".join(_describe_change(name, getattr(live, name), value) for name, value in changes.items())
        self._context.reporter.info(
            f"webhook {adopt_id} ({live.payload_url}) will be adopted "
            + (f"and changed in place: {described}" if changes else "as it is (nothing to change)")
        )
        return []

    def _live(self, webhook_id: str) -> Webhook | None:
        return self._context.account.webhook(webhook_id)


def _secret_to_use(inputs: Mapping[str, Any], old_inputs: Mapping[str, Any]) -> tuple[Any, bool]:
    """The secret of a webhook, and whether it was generated here.

    Declared: that one. Not declared: the one it already has, else (new) a generated one; an adopted
    webhook keeps its live secret (create() reads it), so adopting never rotates anything."""
    declared = inputs.get("secret")
    if declared is not None:
        return declared, False
    if old_inputs:
        return old_inputs.get("secret"), bool(old_inputs.get(SECRET_GENERATED))
    if inputs.get("adopt_id"):
        return None, False
    return generate_secret(), True


def _adoption_changes(live: Webhook, inputs: Mapping[str, Any]) -> dict[str, Any]:
    declared: dict[str, Any] = {"payload_url": inputs["payload_url"], "is_active": inputs.get("is_active", True)}
    if inputs.get("secret") is not None:
        declared["secret"] = inputs["secret"]
    return {name: value for name, value in declared.items() if getattr(live, name) != value}


def _describe_change(name: str, live: Any, declared: Any) -> str:
    if name == "secret":
        return "secret [secret] => [secret]"
    if is_unknown(declared):
        return f"{name} {_show(live)} => (known after the update)"
    return f"{name} {_show(live)} => {_show(declared)}"


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _no_such_webhook(adopt_id: str) -> str:
    return (
        f"adopt_id {adopt_id}: this account has no such webhook; list existing ones with "
        "`python -m mypos_provider list`, or remove adopt_id to create a new webhook"
    )


def outputs(webhook: Webhook, inputs: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "payload_url": webhook.payload_url,
        "secret": webhook.secret,
        "is_active": webhook.is_active,
        "created_on": format_http_date(webhook.created_on),
        SECRET_GENERATED: bool(inputs.get(SECRET_GENERATED)),
    }
    if inputs.get(NOT_BEFORE) is not None:
        result[NOT_BEFORE] = inputs[NOT_BEFORE]
    if inputs.get("adopt_id"):
        result["adopt_id"] = inputs["adopt_id"]
    return result


def _undeclared_secret(name: str, news: Mapping[str, Any]) -> bool:
    return name == "secret" and news.get(name) is None


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], name: str) -> bool:
    new = news.get(name)
    if is_unknown(new):
        return True
    if _undeclared_secret(name, news):
        return False  # not declared: keep whatever secret the webhook has
    return bool(olds.get(name) != new)
