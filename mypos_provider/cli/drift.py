"""`drift --stack S [--output FILE]`: does the myPOS account differ from what the stack declares?

Drift is measured against the program and its config, not against the saved state, so it also sees what a
`refresh` already dropped from the state and what a stack declares but never deployed. Three reads, none of
which writes the state:

* `pulumi preview --refresh --json --diff`: what a deployment would change after reading myPOS: objects
  whose live values differ from the declared ones, objects declared but absent, objects no longer declared;
* `pulumi refresh --preview-only --json`: which of those were changed or deleted outside Pulumi since the
  last deployment (the rest are declared changes not deployed yet);
* the account's listing, against every stack of the project: objects no stack manages, among them the
  duplicates of this stack's resources (core/reconcile.py: same content, made after the resource was first
  attempted; `recover --delete-duplicates` removes them) and what an interrupted run's pending creates made
  (`recover` records it). `--ignore-url-prefix` leaves out webhooks of other projects sharing the account.

A deployment of the stack that is alive during the check (its lock's holder, cli/locks.py; or, where the lock
cannot be read here, a state written while the check ran) changes the account under it: then nothing is
called drift, and the report says so (exit 3).

Exit 0: no drift. 1: drift, with a Markdown report naming each object and field (secrets masked). 2: the
check could not run (reported on stderr and in the report). 3: a deployment was running: not checked. The
deploy (`python -m mypos_provider deploy`, which refreshes first) resolves all but the unmanaged objects and
the duplicates, and a drift check right after it is clean.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TextIO

from .. import tokens
from ..client import Subscription, Webhook
from ..core import reconcile
from ..settings import load_settings
from . import duplicates
from .changes import KINDS, Change, Plan, plan_of, resource_name, step_type
from .errors import CliError
from .locks import AssessedLock
from .markdown import Report, cell, code_name, emit, report_command, show
from .pulumi import error_text, parse_json, run_pulumi
from .stack import PulumiStack, StackResource, pending_creates

EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, EXIT_RUNNING = 0, 1, 2, 3


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
    duplicates: list[reconcile.Duplicate] = field(default_factory=list)
    pending: list[tuple[LiveObject, str]] = field(default_factory=list)  # made by the pending create of a resource
    running: str | None = None  # the deployment that was alive during the check
    ignored: int = 0  # objects left out by --ignore-url-prefix

    @property
    def clean(self) -> bool:
        return not (self.drifted or self.unmanaged or self.duplicates or self.pending)


def register(commands: Any) -> None:
    summary = "compare the live myPOS account with what the stack declares; exit 1 with a report on drift"
    report_command(commands, "drift", summary, "production", run)
    command = commands.choices["drift"]
    command.add_argument(
        "--ignore-url-prefix",
        action="append",
        default=[],
        metavar="PREFIX",
        help="leave out unmanaged webhooks whose payload URL starts with PREFIX, and their subscriptions (objects "
        "of other projects sharing the myPOS account); repeatable",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        report = check_drift(args.stack, ignore_url_prefixes=tuple(getattr(args, "ignore_url_prefix", ()) or ()))
    except Exception as error:  # noqa: BLE001 - any failure of the check itself is reported, not raised
        message = str(error) or type(error).__name__
        text = Report("drift", args.stack, f"Drift check of `{args.stack}` could not run").code([message]).text()
        emit(text, args.output, out)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    emit(render_drift(report), args.output, out)
    if report.running:
        return EXIT_RUNNING
    return EXIT_CLEAN if report.clean else EXIT_DRIFT


def check_drift(name: str, *, ignore_url_prefixes: tuple[str, ...] = ()) -> DriftReport:
    stack = PulumiStack(name)
    written_before, held_before = stack.last_checkpoint(), stack.locks()
    preview_steps = _steps(name, "preview", "--refresh", "--diff")
    outside = outside_changes(_steps(name, "refresh", "--preview-only"))
    deployment = stack.deployment()
    managed = stack.managed_ids()
    live = read_account(stack)
    held_after = stack.locks()
    running = deployment_running(held_before, held_after, written_before, stack.last_checkpoint())
    native = any(step_type(step) in tokens.NATIVE_TYPES for step in preview_steps)
    report = DriftReport(name, native=native, running=running)
    if running:
        return report
    report.drifted = drifted_objects(plan_of(preview_steps), outside)
    report.duplicates = duplicates.duplicates_in(deployment, live, managed)
    taken = {d.obj.id for d in report.duplicates}
    pending = [(r.name, key) for r, key in zip(_pending(deployment), _pending_keys(deployment), strict=True)]
    ignored = ignored_ids(live, ignore_url_prefixes)
    for obj in live:
        if obj.id in managed or obj.id in taken:
            continue
        if maker := next((n for n, key in pending if reconcile.matches(key, obj)), None):
            report.pending.append((live_object(obj), maker))
        elif obj.id in ignored:
            report.ignored += 1
        else:
            report.unmanaged.append(live_object(obj))
    return report


def deployment_running(
    held_before: list[AssessedLock] | None,
    held_after: list[AssessedLock] | None,
    written_before: datetime | None,
    written_after: datetime | None,
) -> str | None:
    """Who was deploying the stack while the check read it: a live lock before or after the reads, or, where
    the lock cannot be read here, a state written in between."""
    for held in (held_before, held_after):
        if live := [h for h in held or [] if h.liveness.alive]:
            return "; ".join(h.describe() for h in live)
    if held_before is None and written_before != written_after:
        return "a deployment wrote the stack's state while this check ran"
    return None


def ignored_ids(live: list[Webhook | Subscription], prefixes: tuple[str, ...]) -> set[str]:
    """Webhooks under one of `prefixes` (other projects' objects) and their subscriptions."""
    hooks = {o.id for o in live if isinstance(o, Webhook) and prefixes and o.payload_url.startswith(prefixes)}
    return hooks | {o.id for o in live if isinstance(o, Subscription) and o.webhook_id in hooks}


def _pending(deployment: dict[str, Any]) -> list[StackResource]:
    return pending_creates(deployment)


def _pending_keys(deployment: dict[str, Any]) -> list[reconcile.Key]:
    return duplicates.pending_keys(pending_creates(deployment))


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


def read_account(stack: PulumiStack) -> list[Webhook | Subscription]:
    """Every webhook and subscription in the myPOS account the stack deploys to.

    The one place where this module reads myPOS: the stack's credentials (from its config, as the provider
    resolves them) and the client's listing."""
    client = load_settings(stack.config()).connect()
    return [*(w for w in client.iter_webhooks() if not w.is_deleted), *client.iter_subscriptions()]


def live_object(obj: Webhook | Subscription) -> LiveObject:
    if isinstance(obj, Webhook):
        return LiveObject("webhook", obj.id, obj.payload_url)
    return LiveObject("subscription", obj.id, f"{obj.event_name} of webhook {obj.webhook_id}")


def render_drift(report: DriftReport) -> str:
    ignored = (
        f" ({report.ignored} object(s) of other projects left out by --ignore-url-prefix)" if report.ignored else ""
    )
    if report.running:
        return (
            Report("drift", report.stack, f"Not checked: a deployment of `{report.stack}` is running")
            .paragraph(
                f"A deployment of the stack was alive while this check read the account ({report.running}), so "
                "the account is changing under it: what that deployment does is not drift, and nothing is "
                f"reported as drift. Check again when it has ended (`python -m mypos_provider drift --stack "
                f"{report.stack}`)."
            )
            .text()
        )
    if report.clean:
        return (
            Report("drift", report.stack, f"No drift in `{report.stack}`")
            .paragraph(f"The myPOS account matches what the stack declares{ignored}.")
            .text()
        )
    document = Report(
        "drift",
        report.stack,
        f"Drift in `{report.stack}`: {len(report.drifted)} differ from the stack, "
        f"{len(report.duplicates)} duplicate(s), {len(report.unmanaged)} not managed by any stack",
    )
    if report.drifted:
        document.table(("Resource", "Type", "What happened", "Fields"), [drift_row(d) for d in report.drifted])
        document.code([line for d in report.drifted for line in drift_diff(d)], "diff")
    if report.duplicates:
        document.paragraph(
            "Duplicates of the stack's own resources (made by its creates, recorded by no stack: every event "
            f"they get is delivered twice). `python -m mypos_provider recover --stack {report.stack} "
            "--delete-duplicates` lists them, `... --delete-duplicates --yes` deletes exactly them:"
        )
        document.table(
            ("Kind", "Id", "Duplicate of", "Why"),
            [
                (
                    d.obj.__class__.__name__.lower(),
                    code_name(d.obj.id),
                    code_name(d.of.name),
                    cell(duplicates.describe(d)),
                )
                for d in report.duplicates
            ],
        )
    if report.pending:
        document.paragraph(
            "Made by the pending create of an interrupted deployment, not yet recorded: "
            f"`python -m mypos_provider recover --stack {report.stack}` records them:"
        )
        document.table(
            ("Kind", "Id", "Pending create of"),
            [(o.kind, code_name(o.id), code_name(name)) for o, name in report.pending],
        )
    if report.unmanaged:
        document.paragraph(f"Objects in the myPOS account that no stack manages (added by hand){ignored}:")
        document.table(
            ("Kind", "Id", "What"), [(o.kind, code_name(o.id), cell(o.description)) for o in report.unmanaged]
        )
    return document.paragraph(
        f"To restore the declared values, recreate what was deleted and remove what is no longer declared, run the "
        f"deploy (`python -m mypos_provider deploy --stack {report.stack}`, which reads myPOS first), or merge a "
        f"change that declares what was set by hand.{' ' + adoption_advice(report) if report.unmanaged else ''}"
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
