"""The structured stack config read by the stack program (`mypos:webhooks`).

    config:
      mypos:webhooks:
        - name: orders                                  # Pulumi resource name, unique in the stack
          aliases: [shop-orders]                        # optional: names it had before (a rename is no change)
          payloadUrl: https://shop.example.com/mypos/callback
          secret:                                       # optional; omit to have one generated
            secure: v1:...                              #   (set with `pulumi config set --secret --path ...`)
          active: true                                  # optional, default true
          adoptId: 647f091e-...                         # optional: adopt an existing webhook
          events:
            - pos.payment.completed                     # an event name, or:
            - event: pos.payment.failed
              terminalIds: ["90004889"]                 # optional terminal filter
              adoptId: 5f0c...                          # optional: adopt an existing subscription

Only the shape is checked here; values (URLs, secret length, event names) are checked by the resources,
which report every problem before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONFIG_KEY = "mypos:webhooks"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
WEBHOOK_KEYS = frozenset({"name", "aliases", "payloadUrl", "secret", "active", "adoptId", "events"})
EVENT_KEYS = frozenset({"event", "terminalIds", "adoptId"})


class StackConfigError(ValueError):
    pass


@dataclass(frozen=True)
class EventSpec:
    event: str
    terminal_ids: list[str] | None = None
    adopt_id: str | None = None


@dataclass(frozen=True)
class WebhookSpec:
    name: str
    payload_url: str
    secret: str | None = field(default=None, repr=False)
    active: bool = True
    adopt_id: str | None = None
    events: tuple[EventSpec, ...] = ()
    aliases: tuple[str, ...] = ()  # earlier names of this webhook: renaming it then changes nothing

    def subscription_name(self, event: EventSpec, webhook_name: str | None = None) -> str:
        return f"{webhook_name or self.name}-{event.event}"

    def warnings(self) -> list[str]:
        """What is valid but would surprise: a webhook no event reaches."""
        if self.events:
            return []
        return [
            f"webhook {self.name} declares no events (events: []): myPOS sends nothing to it until it has a "
            "subscription; list the events it should receive under events"
        ]


def parse_webhook_specs(raw: Any) -> list[WebhookSpec]:
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise StackConfigError(f"{CONFIG_KEY} is not valid structured config: {error}") from None
    if not isinstance(raw, list):
        raise StackConfigError(f"{CONFIG_KEY} must be a list of webhooks (YAML items starting with '- name: ...')")
    specs = [_webhook(item, index) for index, item in enumerate(raw)]
    _reject_duplicates([s.name for s in specs], "webhook name", CONFIG_KEY)
    _reject_duplicates([n for s in specs for n in (s.name, *s.aliases)], "webhook name or alias", CONFIG_KEY)
    return specs


def _webhook(item: Any, index: int) -> WebhookSpec:
    where = f"{CONFIG_KEY}[{index}]"
    if not isinstance(item, Mapping):
        raise StackConfigError(f"{where} must be a mapping with name, payloadUrl and events")
    _reject_unknown(item, WEBHOOK_KEYS, where)
    name = item.get("name")
    if name is None and set(item) <= {"secret"}:
        raise StackConfigError(
            f"{where} holds only a secret: `pulumi config set --path '{where}.secret' ...` replaced the whole "
            f"list because {CONFIG_KEY} was stored as one JSON string; restore the stack file (e.g. from git), "
            "then set the secret again"
        )
    if not isinstance(name, str) or not NAME.match(name):
        raise StackConfigError(
            f"{where}.name must be a short name of letters, digits, '-', '_' or '.', e.g. orders (got {name!r})"
        )
    where = f"{CONFIG_KEY}[{index}] ({name})"
    payload_url = item.get("payloadUrl")
    if not isinstance(payload_url, str):
        raise StackConfigError(f"{where}.payloadUrl is required: the https URL myPOS should POST callbacks to")
    secret = item.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise StackConfigError(
            f"{where}.secret must be a string; set it with "
            f"`pulumi config set --secret --path '{CONFIG_KEY}[{index}].secret' <value>`"
        )
    active = item.get("active", True)
    if not isinstance(active, bool):
        raise StackConfigError(f"{where}.active must be true or false (got {active!r})")
    events = item.get("events") or []
    if not isinstance(events, list):
        raise StackConfigError(f"{where}.events must be a list of event names or {{event, terminalIds}} items")
    specs = tuple(_event(e, f"{where}.events[{i}]") for i, e in enumerate(events))
    _reject_duplicates([e.event for e in specs], "event", f"{where}.events")
    aliases = _aliases(item.get("aliases"), name, where)
    return WebhookSpec(name, payload_url, secret, active, _optional_str(item, "adoptId", where), specs, aliases)


def _aliases(raw: Any, name: str, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, str) and NAME.match(a) for a in raw):
        raise StackConfigError(f"{where}.aliases must be a list of earlier names, e.g. [shop-orders]")
    if name in raw:
        raise StackConfigError(f"{where}.aliases lists the webhook's own name {name}: list only earlier names")
    return tuple(raw)


def _event(item: Any, where: str) -> EventSpec:
    if isinstance(item, str):
        return EventSpec(item)
    if not isinstance(item, Mapping):
        raise StackConfigError(f"{where} must be an event name or a mapping with event and terminalIds")
    _reject_unknown(item, EVENT_KEYS, where)
    event = item.get("event")
    if not isinstance(event, str) or not event:
        raise StackConfigError(f"{where}.event is required, e.g. pos.payment.completed")
    tids = item.get("terminalIds")
    if tids is not None and (not isinstance(tids, list) or not all(isinstance(t, (str, int)) for t in tids)):
        raise StackConfigError(f'{where}.terminalIds must be a list of terminal ids such as ["90004889"]')
    # YAML reads 90004889 as a number; terminal ids are strings to myPOS.
    terminal_ids = [str(t) for t in tids] if tids is not None else None
    return EventSpec(event, terminal_ids, _optional_str(item, "adoptId", where))


def _optional_str(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise StackConfigError(f"{where}.{key} must be a string id")
    return value


def _reject_unknown(item: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise StackConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
        )


def _reject_duplicates(values: list[str], what: str, where: str) -> None:
    seen = {v for v in values if values.count(v) > 1}
    if seen:
        raise StackConfigError(f"{where} lists the {what} {', '.join(sorted(seen))} more than once")


def load_webhook_specs() -> list[WebhookSpec]:
    """Read `mypos:webhooks` of the current stack; a malformed entry stops the program with one clear line."""
    import sys

    import pulumi
    from pulumi.runtime.config import get_config

    # Read the raw value: the secrets inside are wrapped one by one by the program (Output.secret), which
    # keeps payload URLs and ids readable in previews; reading the whole object as a secret would mask all.
    raw = get_config(CONFIG_KEY)
    try:
        return parse_webhook_specs(raw)
    except StackConfigError as error:
        # Logged synchronously, then exit code 32: the language host's "error already shown" signal, so the
        # CLI adds no second, generic "program exited with code 1" line.
        pulumi.log.error(str(error))
        sys.exit(32)
