"""`drift --stack S [--output FILE]`: does the myPOS account differ from what the stack declares?

Drift is measured against the program and its config, not against the saved state, so it also sees what a
`refresh` already dropped from the state and what a stack declares but never deployed. Three reads, none of
which writes the state:

* `pulumi preview --refresh --json --diff`: what a deployment would change after reading myPOS: objects
  whose live values differ from the declared ones, objects declared but absent, objects no longer declared;
* `pulumi refresh --preview-only --json`: which of those were changed or deleted outside Pulumi since the
  last deployment (the rest are declared changes not deployed yet);
* the account's listing, against every stack of the project: objects no stack manages.

Exit 0: no drift. 1: drift, with a Markdown report naming each object and field (secrets masked). 2: the
check could not run (reported on stderr and in the report). The deploy (`python -m mypos_provider deploy`,
which refreshes first) resolves all but the unmanaged objects, and a drift check right after it is clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TextIO

from .. import tokens
from ..settings import load_settings
from .changes import KINDS, Change, Plan, plan_of, resource_name, step_type
from .errors import CliError
from .markdown import Report, cell, code_name, emit, report_command, show
from .pulumi import error_text, parse_json, run_pulumi
from .stack import PulumiStack

EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class LiveObject:
    """A webhook or subscription as it exists in the myPOS account."""

    kind: str  # webhook or subscription
    id: str
    description: str  # payload URL of a webhook; event and webhook of a subscription


@dataclass(frozen=True)
class Drifted:
    """One object of the stack that differs from its declaration, and why."""

    change: Change  # what the deploy would do about it
    cause: str  # one of CAUSES


# Why an object differs from its declaration, as the report says it.
CAUSES = MappingProxyType(
    {
        "changed": "changed outside Pulumi",
        "deleted": "deleted outside Pulumi",
        "undeployed": "declared, not deployed yet",
        "pending": "declared change, not deployed yet",
        "undeclared": "no longer declared",
    }
)


@dataclass
class DriftReport:
    stack: str
    drifted: list[Drifted] = field(default_factory=list)
    unmanaged: list[LiveObject] = field(default_factory=list)
    native: bool = False  # the stack's resources are the native provider's (mypos:index:*)

    @property
    def clean(self) -> bool:
        return not self.drifted and not self.unmanaged


def register(commands: Any) -> None:
    summary = "compare the live myPOS account with what the stack declares; exit 1 with a report on drift"
    report_command(commands, "drift", summary, "production", run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        report = check_drift(args.stack)
    except Exception as error:  # noqa: BLE001 - any failure of the check itself is reported, not raised
        message = str(error) or type(error).__name__
        text = Report("drift", args.stack, f"Drift check of `{args.stack}` could not run").code([message]).text()
        emit(text, args.output, out)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    emit(render_drift(report), args.output, out)
    return EXIT_CLEAN if report.clean else EXIT_DRIFT


def check_drift(stack: str) -> DriftReport:
    preview_steps = _steps(stack, "preview", "--refresh", "--diff")
    outside = outside_changes(_steps(stack, "refresh", "--preview-only"))
    managed = managed_ids(stack)
    unmanaged = [o for o in read_account(stack) if o.id not in managed]
    native = any(step_type(step) in tokens.NATIVE_TYPES for step in preview_steps)
    return DriftReport(stack, drifted_objects(plan_of(preview_steps), outside), unmanaged, native)


def _steps(stack: str, command: str, *flags: str) -> list[dict[str, Any]]:
    outcome = run_pulumi(command, *flags, "--json", "--stack", stack)
    what = " ".join((command, *flags))
    parsed = parse_json(outcome, what)
    if outcome.code != 0:
        errors = [d.get("message", "").strip() for d in parsed.get("diagnostics") or [] if d.get("severity") == "error"]
        raise CliError(f"`pulumi {what}` failed: {'; '.join(errors) or error_text(outcome.stderr)}")
    return list(parsed.get("steps") or [])


def outside_changes(refresh_steps: list[dict[str, Any]]) -> dict[str, str]:
    """Resource name -> "changed" or "deleted", for what a refresh finds different in myPOS."""
    found = {}
    for step in refresh_steps:
        if step_type(step) not in KINDS:
            continue
        if step.get("op") == "update":
            found[resource_name(str(step.get("urn", "")))] = "changed"
        elif step.get("op") == "delete":
            found[resource_name(str(step.get("urn", "")))] = "deleted"
    return found


def drifted_objects(declared: Plan, outside: dict[str, str]) -> list[Drifted]:
    drifted = []
    for change in declared.changes:
        by_hand = outside.get(change.name)
        if change.action == "create":
            cause = "deleted" if by_hand == "deleted" else "undeployed"
        elif change.action == "delete":
            cause = "undeclared"
        else:
            cause = "changed" if by_hand == "changed" else "pending"
        drifted.append(Drifted(change, cause))
    return drifted


def read_account(stack: str) -> list[LiveObject]:
    """Every webhook and subscription in the myPOS account the stack deploys to.

    The one place where this module reads myPOS: the stack's credentials (from its config, as the provider
    resolves them) and the client's listing."""
    client = load_settings(PulumiStack(stack).config()).connect()
    objects = [LiveObject("webhook", w.id, w.payload_url) for w in client.iter_webhooks()]
    objects += [
        LiveObject("subscription", s.id, f"{s.event_name} of webhook {s.webhook_id}")
        for s in client.iter_subscriptions()
    ]
    return objects


def managed_ids(stack: str) -> set[str]:
    """Ids of the objects every stack of this project records (another stack may share the account)."""
    listing = run_pulumi("stack", "ls", "--json")
    names = {stack}
    if listing.code == 0:
        names |= {entry["name"].rsplit("/", 1)[-1] for entry in json.loads(listing.stdout or "[]") if entry.get("name")}
    ids: set[str] = set()
    for name in sorted(names):
        try:
            resources = PulumiStack(name).sealed_deployment().get("resources") or []
        except CliError:
            if name == stack:
                raise
            continue
        ids |= {r["id"] for r in resources if r.get("type") in KINDS and r.get("id")}
    return ids


def render_drift(report: DriftReport) -> str:
    if report.clean:
        return (
            Report("drift", report.stack, f"No drift in `{report.stack}`")
            .paragraph("The myPOS account matches what the stack declares.")
            .text()
        )
    document = Report(
        "drift",
        report.stack,
        f"Drift in `{report.stack}`: {len(report.drifted)} differ from the stack, "
        f"{len(report.unmanaged)} not managed by any stack",
    )
    if report.drifted:
        document.table(("Resource", "Type", "What happened", "Fields"), [drift_row(d) for d in report.drifted])
        document.code([line for d in report.drifted for line in drift_diff(d)], "diff")
    if report.unmanaged:
        document.paragraph("Objects in the myPOS account that no stack manages (added by hand):")
        document.table(
            ("Kind", "Id", "What"), [(o.kind, code_name(o.id), cell(o.description)) for o in report.unmanaged]
        )
    return document.paragraph(
        f"To restore the declared values, recreate what was deleted and remove what is no longer declared, run the "
        f"deploy (`python -m mypos_provider deploy --stack {report.stack}`, which reads myPOS first), or merge a "
        f"change that declares what was set by hand. {adoption_advice(report)}"
    ).text()


def adoption_advice(report: DriftReport) -> str:
    """How to take over an object added by hand: `pulumi import` for native resources, else `adopt_id`."""
    if report.native:
        return (
            "To take over an object added by hand, import it (`python -m mypos_provider list --stack "
            f"{report.stack} --format import` prints the `pulumi import` commands)."
        )
    return (
        "To adopt an object added by hand, declare it with `adopt_id` "
        f"(`python -m mypos_provider list --stack {report.stack}`)."
    )


def drift_row(drifted: Drifted) -> tuple[str, str, str, str]:
    change = drifted.change
    fields = ", ".join(f"`{p.name}`" for p in change.properties) if change.action in ("update", "replace") else ""
    return (code_name(change.name), cell(change.kind), CAUSES[drifted.cause], fields)


def drift_diff(drifted: Drifted) -> list[str]:
    change = drifted.change
    if change.action == "create":
        return [f"+ {change.kind} {change.name}: {CAUSES[drifted.cause]} (the deploy creates it)"]
    if change.action == "delete":
        return [f"- {change.kind} {change.name}: {CAUSES[drifted.cause]} (the deploy deletes it)"]
    lines = [f"~ {change.kind} {change.name}: {CAUSES[drifted.cause]}"]
    for prop in change.properties:
        lines.append(f"-     {prop.name}: {show(prop.old)}   (live)")
        lines.append(f"+     {prop.name}: {show(prop.new)}   (declared)")
    return lines
