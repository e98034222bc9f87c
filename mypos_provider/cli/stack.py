"""A Pulumi stack as the command line reads and writes it: through the `pulumi` CLI, whatever the backend.

Reading (config, state, outputs) never takes the stack's lock. Writing the state goes through
`pulumi stack import`, which takes the lock like every deployment does, so it fails (with Pulumi's own
message naming the lock) while a deployment runs: that is how `recover` refuses to race one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from .. import tokens
from . import locks as lockfile
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

    def locks(self) -> list[lockfile.AssessedLock] | None: ...

    def release_lock(self) -> None: ...

    def managed_ids(self) -> set[str]: ...


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

    def locks(self) -> list[lockfile.AssessedLock] | None:
        """The stack's locks, each with whether its deployment is alive; None where the backend cannot be read
        here (then Pulumi's own refusal names the holders when a command meets the lock)."""
        directory = self._cwd or Path.cwd()
        backend = lockfile.backend_url_of(os.environ, directory)
        holders = lockfile.read_holders(self.name, backend, lockfile.project_name(directory), os.environ)
        if holders is None:
            return None
        return lockfile.assess_all(holders, self.last_checkpoint())

    def assess_refusal(self, pulumi_message: str) -> list[lockfile.AssessedLock]:
        """The holders Pulumi's lock refusal names, each with whether its deployment is alive."""
        return lockfile.assess_all(lockfile.parse_refusal(pulumi_message), self.last_checkpoint())

    def last_checkpoint(self) -> datetime | None:
        """When the state was last written (its manifest's time): Pulumi writes it after every step."""
        try:
            manifest = self.sealed_deployment().get("manifest") or {}
            return lockfile.parse_time(str(manifest["time"]))
        except (CliError, KeyError, ValueError):
            return None

    def release_lock(self) -> None:
        """`pulumi cancel`: only ever called for a lock whose holder is gone."""
        self._run("cancel", "--yes")

    def managed_ids(self) -> set[str]:
        """Ids of the objects every stack of this project records (another stack may share the account)."""
        listing = run_pulumi("stack", "ls", "--json", cwd=self._cwd)
        names = {self.name}
        if listing.code == 0:
            names |= {e["name"].rsplit("/", 1)[-1] for e in json.loads(listing.stdout or "[]") if e.get("name")}
        ids: set[str] = set()
        for name in sorted(names):
            try:
                found = resources(PulumiStack(name, cwd=self._cwd).sealed_deployment())
            except CliError:
                if name == self.name:
                    raise
                continue
            ids |= {r.id for r in found if r.kind is not None and r.id}
        return ids

    def _run(self, *args: str, stdin: str | None = None) -> str:
        done = run_pulumi(*args, "--stack", self.name, stdin=stdin, cwd=self._cwd)
        if done.code == 0:
            return done.stdout
        if LOCKED_MARKER in done.stderr:
            raise StackLocked(self.name, self.assess_refusal(done.stderr))
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
