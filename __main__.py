"""The stack program: a merchant's myPOS webhooks and subscriptions, declared in stack config.

Each stack (local, sandbox, production) lists its webhooks under `mypos:webhooks` in
`stacks/Pulumi.<stack>.yaml`; see README.md, "The stack program", for the format.
"""

from __future__ import annotations

import pulumi

from mypos_provider import Subscription, Webhook
from mypos_provider.stack_config import WebhookSpec, load_webhook_specs


def declare(spec: WebhookSpec) -> tuple[Webhook, dict[str, Subscription]]:
    hook = Webhook(
        spec.name,
        payload_url=spec.payload_url,
        secret=pulumi.Output.secret(spec.secret) if spec.secret is not None else None,
        is_active=spec.active,
        adopt_id=spec.adopt_id,
        opts=renamed_from(spec.aliases),
    )
    subscriptions = {
        event.event: Subscription(
            spec.subscription_name(event),
            webhook_id=hook.id,
            event=event.event,
            terminal_ids=event.terminal_ids,
            adopt_id=event.adopt_id,
            opts=renamed_from([spec.subscription_name(event, alias) for alias in spec.aliases]),
        )
        for event in spec.events
    }
    return hook, subscriptions


def renamed_from(names: list[str] | tuple[str, ...]) -> pulumi.ResourceOptions | None:
    """Earlier names as Pulumi aliases: the engine then sees a rename, not a delete and a create."""
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name) for name in names]) if names else None


specs = load_webhook_specs()
for warning in (w for spec in specs for w in spec.warnings()):
    pulumi.log.warn(warning)
declared = {spec.name: declare(spec) for spec in specs}

pulumi.export(
    "webhooks",
    {
        name: {
            "id": hook.id,
            "payloadUrl": hook.payload_url,
            "active": hook.is_active,
            "subscriptions": {event: sub.id for event, sub in subscriptions.items()},
        }
        for name, (hook, subscriptions) in declared.items()
    },
)
pulumi.export("webhookSecrets", pulumi.Output.secret({name: hook.secret for name, (hook, _) in declared.items()}))
