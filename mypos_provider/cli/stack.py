"""A Pulumi stack as the command line reads and writes it: through the `pulumi` CLI, whatever the backend.

Reading (config, state, outputs) never takes the stack's lock. Writing the state goes through
`pulumi stack import`, which takes the lock like every deployment does, so it fails (with Pulumi's own
message naming the lock) while a deployment runs: that is how `recover` refuses to race one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import tokens
from .errors import CliError, StackLocked
from .pulumi import LOCKED_MARKER, error_text, run_pulumi


@dataclass(frozen=True)
class StackResource:
    """One resource of the state: its name (the last part of its URN), type, id and properties."""

    name: str
    type: str
    id: str | None
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]

    @property
    def kind(self) -> str | None:
        return tokens.KINDS.get(self.type)


class Stack(Protocol):
    """What the commands need of a stack; `PulumiStack` is the real one, tests use recorded deployments."""

    name: str

    def config(self) -> dict[str, Any]: ...

    def deployment(self) -> dict[str, Any]: ...

    def replace_deployment(self, deployment: dict[str, Any]) -> None: ...


class PulumiStack:
    def __init__(self, name: str, *, cwd: Path | None = None) -> None:
        self.name = name
        self._cwd = cwd

    def config(self) -> dict[str, Any]:
        raw = json.loads(self._run("config", "--json", "--show-secrets"))
        return {key: entry.get("value") for key, entry in raw.items() if isinstance(entry, dict)}

    def deployment(self) -> dict[str, Any]:
        """The state with secrets in clear (`stack export --show-secrets`); keep it in memory only."""
        exported = json.loads(self._run("stack", "export", "--show-secrets"))
        return dict(exported.get("deployment") or {})

    def sealed_deployment(self) -> dict[str, Any]:
        """The state with its secrets still encrypted (`stack export`): for what needs no secret."""
        exported = json.loads(self._run("stack", "export"))
        return dict(exported.get("deployment") or {})

    def replace_deployment(self, deployment: dict[str, Any]) -> None:
        """`stack import`: takes the lock, so a running deployment makes it fail (StackLocked)."""
        document = json.dumps({"version": 3, "deployment": deployment})
        self._run("stack", "import", stdin=document)

    def _run(self, *args: str, stdin: str | None = None) -> str:
        done = run_pulumi(*args, "--stack", self.name, stdin=stdin, cwd=self._cwd)
        if done.code == 0:
            return done.stdout
        if LOCKED_MARKER in done.stderr:
            raise StackLocked(self.name, done.stderr[done.stderr.find(LOCKED_MARKER) :].strip())
        hint = ""
        if "passphrase" in done.stderr:
            hint = " (set PULUMI_CONFIG_PASSPHRASE; for the demo stack `local` it is mypos-local-demo)"
        detail = error_text(done.stderr) or f"exit {done.code}"
        raise CliError(f"`pulumi {' '.join(args[:2])} --stack {self.name}` failed: {detail}{hint}")


def resources(deployment: Mapping[str, Any]) -> list[StackResource]:
    return [stack_resource(raw) for raw in deployment.get("resources") or []]


def pending_creates(deployment: Mapping[str, Any]) -> list[StackResource]:
    """The creates a killed run started but never recorded, of our two types."""
    found = [
        stack_resource(op.get("resource") or {})
        for op in deployment.get("pending_operations") or []
        if op.get("type") == "creating"
    ]
    return [r for r in found if r.kind is not None]


def stack_resource(raw: Mapping[str, Any]) -> StackResource:
    """A resource of the state; a native one's properties under the core's names, like a dynamic one's."""
    type_token = str(raw.get("type", ""))
    kind = tokens.KINDS.get(type_token)

    def properties(part: str) -> dict[str, Any]:
        found = {key: plain(value) for key, value in (raw.get(part) or {}).items()}
        return tokens.core_names(kind, found) if kind and type_token in tokens.NATIVE_TYPES else found

    return StackResource(
        name=str(raw.get("urn", "")).rsplit("::", 1)[-1],
        type=type_token,
        id=raw.get("id") or None,
        inputs=properties("inputs"),
        outputs=properties("outputs"),
    )


SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def plain(value: Any) -> Any:
    """A property of `stack export --show-secrets`: a secret comes as {<sig>: <secret sig>, plaintext: <JSON>}."""
    if isinstance(value, dict) and "plaintext" in value:
        return json.loads(value["plaintext"])
    return value


def secret(value: Any) -> dict[str, str]:
    """The form `stack import` reads a secret in (the stack's secrets provider encrypts it)."""
    return {SECRET_SIGNATURE[0]: SECRET_SIGNATURE[1], "plaintext": json.dumps(value)}


def names_by_id(deployment: Mapping[str, Any]) -> dict[str, StackResource]:
    """The stack's webhooks and subscriptions by their myPOS ids."""
    return {r.id: r for r in resources(deployment) if r.kind is not None and r.id}
