"""What a preview's steps change, in the terms a reviewer reads: resources, actions and property values.

`pulumi preview --json` lists steps in the order the engine runs them, so a webhook comes before the
subscriptions that depend on it; that order is kept. Values are masked where they are secret, and a value
the engine will only know after the deployment (an id not made yet) reads as such, never as the engine's
placeholder string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .. import tokens

MASK = "[secret]"
KNOWN_AFTER_DEPLOY = "(known after deploy)"
# The engine's spelling of a value not known yet in `--json` output (pulumi.runtime.rpc.UNKNOWN; the unit
# tier checks they agree).
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_PROPERTIES = frozenset({"secret", "client_secret", "clientSecret", "token"})
ACTIONS = ("create", "update", "replace", "delete")
# Each resource type of ours, by every token its state may record, with the name reports give it.
KINDS = MappingProxyType({token: kind.capitalize() for token, kind in tokens.KINDS.items()})


@dataclass(frozen=True)
class PropertyChange:
    name: str
    old: Any = None
    new: Any = None
    kind: str = "update"  # add, delete, update (the engine's detailed-diff kinds, without -replace)


@dataclass(frozen=True)
class Change:
    action: str  # create, update, replace, delete
    name: str
    type: str
    properties: tuple[PropertyChange, ...] = ()

    @property
    def kind(self) -> str:
        return KINDS.get(self.type, self.type)


@dataclass(frozen=True)
class Plan:
    """The changes of a preview in the engine's order, and how many of our resources stay as they are."""

    changes: tuple[Change, ...]
    unchanged: int

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


def plan_of(steps: Iterable[Mapping[str, Any]], *, state: str = "inputs") -> Plan:
    """The plan of a preview's steps (`pulumi preview --json --show-sames`), secrets masked.

    `state`: which half of each resource's state to compare ("inputs": what the program declares)."""
    changes: list[Change] = []
    unchanged = 0
    for step in steps:
        type_token = step_type(step)
        if type_token.startswith("pulumi:"):
            continue  # the stack itself and providers: not what a reviewer counts
        action = step.get("op", "")
        if action == "same":
            unchanged += 1
        elif action in ACTIONS:
            old = (step.get("oldState") or {}).get(state) or {}
            new = (step.get("newState") or {}).get(state) or {}
            urn = str(step.get("urn", ""))
            changes.append(Change(action, resource_name(urn), type_token, property_changes(action, step, old, new)))
    return Plan(tuple(changes), unchanged)


def step_type(step: Mapping[str, Any]) -> str:
    state = step.get("newState") or step.get("oldState") or {}
    urn = str(step.get("urn", ""))
    return str(state.get("type") or (urn.split("::")[-2] if "::" in urn else ""))


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def property_changes(
    action: str, step: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[PropertyChange, ...]:
    if action == "create":
        return tuple(PropertyChange(k, None, shown_value(k, v), "add") for k, v in sorted(new.items()) if shown(k, v))
    if action == "delete":
        return tuple(
            PropertyChange(k, shown_value(k, v), None, "delete") for k, v in sorted(old.items()) if shown(k, v)
        )
    detailed = step.get("detailedDiff") or {}
    names = sorted(
        {top_property(path) for path in detailed}
        | set(step.get("diffReasons") or ())
        | set(step.get("replaceReasons") or ())
    )
    kinds = {top_property(path): diff.get("kind", "update") for path, diff in detailed.items()}
    return tuple(
        PropertyChange(
            n, shown_value(n, old.get(n)), shown_value(n, new.get(n)), kinds.get(n, "update").removesuffix("-replace")
        )
        for n in names
        if not n.startswith("__")
    )


def top_property(path: str) -> str:
    """`terminal_ids[0]` or `filter.tids` -> the top-level property the report names."""
    return path.split(".")[0].split("[")[0]


def shown(name: str, value: Any) -> bool:
    return not name.startswith("__") and value is not None  # __provider and the rules' bookkeeping


def shown_value(name: str, value: Any) -> Any:
    """A value as a report shows it: secrets masked, values not known yet said so, at any depth."""
    if value is None:
        return None
    if is_secret_name(name):
        return MASK
    if value == ENGINE_UNKNOWN:
        return KNOWN_AFTER_DEPLOY
    if isinstance(value, list):
        return [shown_value(name, v) for v in value]
    if isinstance(value, dict):
        return {k: shown_value(k, v) for k, v in value.items()}
    return value


def is_secret_name(name: str) -> bool:
    return name in SECRET_PROPERTIES or "secret" in name.lower()


def masked_outputs(outputs: Any, name: str = "") -> Any:
    """Stack outputs as `pulumi stack output --json` prints them, with secret-named values masked too."""
    if isinstance(outputs, dict):
        return {k: masked_outputs(v, k) for k, v in outputs.items()}
    if isinstance(outputs, list):
        return [masked_outputs(v, name) for v in outputs]
    return MASK if outputs is not None and is_secret_name(name) else outputs
