"""Commands for a team's CI: a preview report for code review, a deployment, and a drift check.

    python -m mypos_provider preview-report --stack NAME [--output FILE]
    python -m mypos_provider deploy --stack NAME [--refresh]
    python -m mypos_provider drift --stack NAME [--output FILE]

Each drives the Pulumi CLI of the project in the working directory through its machine-readable output
(`pulumi preview --json --diff`, `pulumi refresh --preview-only --json`, `pulumi stack output --json`) and
needs what any `pulumi` command of that stack needs: the backend (`PULUMI_BACKEND_URL` or `pulumi login`) and
the secrets provider (`PULUMI_CONFIG_PASSPHRASE`). Nothing they print contains a secret in clear: the CLI
masks secret values as `[secret]` unless asked to show them, which these commands never do, and properties
named like a secret are masked again here.

Exit status: 0 when all is well; 1 when the preview or deployment failed, or when drift was found;
2 when the drift check itself could not run (reported on stderr and in the report).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..settings import load_settings
from ..tokens import SUBSCRIPTION_TYPE, WEBHOOK_TYPE
from .errors import CliError
from .stack import LOCKED_MARKER, PulumiStack, pulumi_binary

MASK = "[secret]"
SECRET_PROPERTIES = frozenset({"secret", "client_secret", "clientSecret", "token"})
ACTIONS = ("create", "update", "replace", "delete")
EXIT_OK, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2


class CiError(CliError):
    """The command could not do its job; printed as one line."""


# ---- registration -----------------------------------------------------------------------------------


def register(commands: Any) -> None:
    """Add the CI subcommands to `python -m mypos_provider` (commands: argparse's subparsers object)."""
    preview = commands.add_parser(
        "preview-report", help="run `pulumi preview --diff` and print a Markdown report for a pull request"
    )
    preview.add_argument("--stack", required=True, help="the stack to preview, e.g. sandbox")
    preview.add_argument("--output", type=Path, help="also write the report to this file")
    preview.set_defaults(run=run_preview_report)

    deploy = commands.add_parser("deploy", help="run `pulumi up` non-interactively and print the stack's outputs")
    deploy.add_argument("--stack", required=True, help="the stack to deploy, e.g. sandbox")
    deploy.add_argument("--refresh", action="store_true", help="refresh the state from myPOS before the update")
    deploy.set_defaults(run=run_deploy)

    drift = commands.add_parser(
        "drift", help="compare the live myPOS account with the stack; exit 1 with a Markdown report on drift"
    )
    drift.add_argument("--stack", required=True, help="the stack to check, e.g. production")
    drift.add_argument("--output", type=Path, help="also write the report to this file")
    drift.set_defaults(run=run_drift)


# ---- the Pulumi CLI ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_pulumi(*args: str) -> Outcome:
    done = subprocess.run(
        [pulumi_binary(), *args, "--non-interactive"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def parse_json(outcome: Outcome, command: str) -> dict[str, Any]:
    try:
        parsed = json.loads(outcome.stdout)
    except json.JSONDecodeError as error:
        raise CiError(f"`pulumi {command}` failed: {last_line(outcome.stderr) or 'no JSON output'}") from error
    if not isinstance(parsed, dict):
        raise CiError(f"`pulumi {command}` printed unexpected JSON")
    return parsed


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


# ---- what a step changes ----------------------------------------------------------------------------


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
        return short_type(self.type)


def short_type(type_token: str) -> str:
    """`pulumi-python:dynamic/mypos:Webhook` -> `Webhook`; other types keep their token."""
    if type_token in (WEBHOOK_TYPE, SUBSCRIPTION_TYPE):
        return type_token.rsplit(":", 1)[-1]
    return type_token


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def masked(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in SECRET_PROPERTIES or "secret" in name.lower():
        return MASK
    return value


def changes_of(steps: Iterable[dict[str, Any]], *, state: str = "inputs") -> list[Change]:
    """The resource changes of a preview's steps (`pulumi preview --json`), secrets masked."""
    found = []
    for step in steps:
        action = step.get("op", "")
        if action not in ACTIONS:
            continue  # same, refresh (no drift), and the halves of a replacement
        urn = step.get("urn", "")
        type_token = (step.get("newState") or step.get("oldState") or {}).get("type") or urn.split("::")[-2]
        if type_token.startswith("pulumi:"):
            continue  # the stack itself and providers
        old = (step.get("oldState") or {}).get(state) or {}
        new = (step.get("newState") or {}).get(state) or {}
        found.append(Change(action, resource_name(urn), type_token, property_changes(action, step, old, new)))
    order = {a: i for i, a in enumerate(ACTIONS)}
    return sorted(found, key=lambda c: (order[c.action], c.kind, c.name))


def property_changes(
    action: str, step: dict[str, Any], old: dict[str, Any], new: dict[str, Any]
) -> tuple[PropertyChange, ...]:
    if action == "create":
        return tuple(PropertyChange(k, None, masked(k, v), "add") for k, v in sorted(new.items()) if shown(k, v))
    if action == "delete":
        return tuple(PropertyChange(k, masked(k, v), None, "delete") for k, v in sorted(old.items()) if shown(k, v))
    detailed = step.get("detailedDiff") or {}
    names = sorted(
        {top_property(path) for path in detailed}
        | set(step.get("diffReasons") or ())
        | set(step.get("replaceReasons") or ())
    )
    kinds = {top_property(path): diff.get("kind", "update") for path, diff in detailed.items()}
    return tuple(
        PropertyChange(n, masked(n, old.get(n)), masked(n, new.get(n)), kinds.get(n, "update").removesuffix("-replace"))
        for n in names
        if not n.startswith("__")
    )


def top_property(path: str) -> str:
    """`terminal_ids[0]` or `filter.tids` -> the top-level property the report names."""
    return path.split(".")[0].split("[")[0]


def shown(name: str, value: Any) -> bool:
    return not name.startswith("__") and value is not None  # __provider and the rules' bookkeeping


# ---- preview report ---------------------------------------------------------------------------------


def marker(kind: str, stack: str) -> str:
    """A hidden line that lets a CI job find its own earlier comment or issue and update it."""
    return f"<!-- mypos-pulumi:{kind}:{stack} -->"


def run_preview_report(args: argparse.Namespace, out: TextIO) -> int:
    outcome = run_pulumi("preview", "--json", "--diff", "--stack", args.stack)
    report, code = preview_report(args.stack, outcome)
    emit(report, args.output, out)
    return code


def preview_report(stack: str, outcome: Outcome) -> tuple[str, int]:
    try:
        preview = parse_json(outcome, "preview")
    except CiError as error:
        return failure_report(stack, [str(error)]), EXIT_CHANGED
    errors = [d.get("message", "").strip() for d in preview.get("diagnostics") or [] if d.get("severity") == "error"]
    if outcome.code != 0:
        reasons = [e for e in errors if "Resource monitor has terminated" not in e] or [
            last_line(outcome.stderr) or f"pulumi exited with status {outcome.code}"
        ]
        return failure_report(stack, reasons), EXIT_CHANGED
    changes = changes_of(preview.get("steps") or [])
    unchanged = (preview.get("changeSummary") or {}).get("same", 0)
    return render_preview(stack, changes, unchanged), EXIT_OK


def render_preview(stack: str, changes: list[Change], unchanged: int) -> str:
    counts = {a: sum(1 for c in changes if c.action == a) for a in ACTIONS}
    lines = [
        marker("preview", stack),
        f"### Pulumi preview of `{stack}`",
        "",
        f"**{counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, "
        f"{counts['delete']} to delete**; {unchanged} unchanged.",
        "",
    ]
    if not changes:
        lines.append("No changes: the deployment would leave myPOS and the state as they are.")
        return "\n".join(lines) + "\n"
    lines += ["| Action | Resource | Type |", "|---|---|---|"]
    lines += [f"| {c.action} | `{cell(c.name)}` | {cell(c.kind)} |" for c in changes]
    lines += ["", "#### Property changes", "", "```diff"]
    for change in changes:
        lines += render_property_diff(change)
    lines += ["```", ""]
    return "\n".join(lines)


SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def render_property_diff(change: Change) -> list[str]:
    lines = [f"{SIGNS[change.action]} {change.kind} {change.name} ({change.action})"]
    for prop in change.properties:
        if prop.kind == "add" or prop.old is None:
            lines.append(f"+     {prop.name}: {show(prop.new)}")
        elif prop.kind == "delete" or prop.new is None:
            lines.append(f"-     {prop.name}: {show(prop.old)}")
        else:
            lines.append(f"-     {prop.name}: {show(prop.old)}")
            lines.append(f"+     {prop.name}: {show(prop.new)}")
    return lines


def show(value: Any) -> str:
    if value == MASK:
        return MASK
    return json.dumps(value, sort_keys=True)


def cell(text: str) -> str:
    """Text for a Markdown table cell: a pipe would end the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def failure_report(stack: str, reasons: list[str]) -> str:
    lines = [marker("preview", stack), f"### Pulumi preview of `{stack}` failed", "", "```"]
    lines += [reason for reason in reasons if reason]
    lines += ["```", "", "Fix the cause above and push again; nothing was changed."]
    return "\n".join(lines) + "\n"


def emit(report: str, output: Path | None, out: TextIO) -> None:
    out.write(report)
    if output is not None:
        output.write_text(report)


# ---- deploy -----------------------------------------------------------------------------------------


def run_deploy(args: argparse.Namespace, out: TextIO) -> int:
    command = [pulumi_binary(), "up", "--yes", "--non-interactive", "--diff", "--stack", args.stack]
    if args.refresh:
        command.append("--refresh")
    print(f"$ pulumi {' '.join(command[1:])}", file=out, flush=True)
    code, tail = stream(command, out)
    if code != 0:
        print(
            f"error: `pulumi up` of stack {args.stack} failed (exit {code}){deploy_hint(tail, args.stack)}",
            file=sys.stderr,
        )
        return EXIT_CHANGED
    outputs = run_pulumi("stack", "output", "--json", "--stack", args.stack)
    if outputs.code != 0:
        raise CiError(f"deployed, but `pulumi stack output` failed: {last_line(outputs.stderr)}")
    print(f"\nOutputs of stack {args.stack} (secrets masked):", file=out)
    print(json.dumps(mask_outputs(json.loads(outputs.stdout or "{}")), indent=2, sort_keys=True), file=out)
    return EXIT_OK


def stream(command: list[str], out: TextIO) -> tuple[int, list[str]]:
    """Run a command with its output going to ours as it comes; keep its last lines for diagnosis."""
    tail: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            out.flush()
            tail = [*tail[-49:], line]
    return process.returncode, tail


def deploy_hint(tail: list[str], stack: str) -> str:
    if any(LOCKED_MARKER in line for line in tail):
        return (
            f": another deployment holds the lock of {stack}; wait for it, or if it was killed, recover as "
            "docs/team.md describes (pulumi cancel, python -m mypos_provider recover, pulumi up)"
        )
    return ""


def mask_outputs(outputs: Any, name: str = "") -> Any:
    """Stack outputs as `pulumi stack output --json` prints them, with secret-named values masked too."""
    if isinstance(outputs, dict):
        return {k: mask_outputs(v, k) for k, v in outputs.items()}
    if isinstance(outputs, list):
        return [mask_outputs(v, name) for v in outputs]
    return masked(name, outputs)


# ---- drift ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveObject:
    """A webhook or subscription as it exists in the myPOS account."""

    kind: str  # webhook or subscription
    id: str
    description: str  # payload URL of a webhook; event and webhook of a subscription


@dataclass
class DriftReport:
    stack: str
    drifted: list[Change] = field(default_factory=list)
    unmanaged: list[LiveObject] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drifted and not self.unmanaged


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


def run_drift(args: argparse.Namespace, out: TextIO) -> int:
    try:
        report = check_drift(args.stack)
    except Exception as error:  # noqa: BLE001 - any failure of the check itself is reported, not raised
        message = str(error) or type(error).__name__
        text = "\n".join(
            [
                marker("drift", args.stack),
                f"### Drift check of `{args.stack}` could not run",
                "",
                "```",
                message,
                "```",
                "",
            ]
        )
        emit(text, args.output, out)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    emit(render_drift(report), args.output, out)
    return EXIT_OK if report.clean else EXIT_CHANGED


def check_drift(stack: str) -> DriftReport:
    outcome = run_pulumi("refresh", "--preview-only", "--json", "--stack", stack)
    refresh = parse_json(outcome, "refresh --preview-only")
    if outcome.code != 0:
        errors = [
            d.get("message", "").strip() for d in refresh.get("diagnostics") or [] if d.get("severity") == "error"
        ]
        raise CiError(f"`pulumi refresh --preview-only` failed: {'; '.join(errors) or last_line(outcome.stderr)}")
    drifted = changes_of(refresh.get("steps") or [], state="outputs")
    managed = managed_ids(stack)
    unmanaged = [o for o in read_account(stack) if o.id not in managed]
    return DriftReport(stack, drifted, unmanaged)


def managed_ids(stack: str) -> set[str]:
    """Ids of the objects every stack of this project records (another stack may share the account)."""
    listing = run_pulumi("stack", "ls", "--json")
    names = {stack}
    if listing.code == 0:
        names |= {entry["name"].rsplit("/", 1)[-1] for entry in json.loads(listing.stdout or "[]") if entry.get("name")}
    ids: set[str] = set()
    for name in sorted(names):
        exported = run_pulumi("stack", "export", "--stack", name)
        if exported.code != 0:
            if name == stack:
                raise CiError(f"`pulumi stack export --stack {name}` failed: {last_line(exported.stderr)}")
            continue
        resources = (json.loads(exported.stdout).get("deployment") or {}).get("resources") or []
        ids |= {r["id"] for r in resources if r.get("type") in (WEBHOOK_TYPE, SUBSCRIPTION_TYPE) and r.get("id")}
    return ids


DRIFT_WORDS = {"update": "changed outside Pulumi", "delete": "deleted outside Pulumi", "create": "appeared"}


def render_drift(report: DriftReport) -> str:
    lines = [marker("drift", report.stack)]
    if report.clean:
        lines += [f"### No drift in `{report.stack}`", "", "The myPOS account matches the stack's state.", ""]
        return "\n".join(lines)
    lines += [
        f"### Drift in `{report.stack}`: {len(report.drifted)} changed or deleted by hand, "
        f"{len(report.unmanaged)} not managed by any stack",
        "",
    ]
    if report.drifted:
        lines += ["| Resource | Type | What happened | Fields |", "|---|---|---|---|"]
        for change in report.drifted:
            fields = ", ".join(f"`{p.name}`" for p in change.properties) if change.action == "update" else ""
            what = DRIFT_WORDS.get(change.action, change.action)
            lines.append(f"| `{cell(change.name)}` | {cell(change.kind)} | {what} | {fields} |")
        lines += ["", "```diff"]
        for change in report.drifted:
            lines += drift_diff(change)
        lines += ["```", ""]
    if report.unmanaged:
        lines += ["Objects in the myPOS account that no stack manages (added by hand):", ""]
        lines += ["| Kind | Id | What |", "|---|---|---|"]
        lines += [f"| {o.kind} | `{cell(o.id)}` | {cell(o.description)} |" for o in report.unmanaged]
        lines.append("")
    lines += [
        "To restore the declared values, run `pulumi up` for this stack (or merge a change that declares the new "
        "ones); to adopt an object added by hand, declare it with `adopt_id` "
        "(`python -m mypos_provider list --stack " + report.stack + "`).",
        "",
    ]
    return "\n".join(lines)


def drift_diff(change: Change) -> list[str]:
    if change.action == "delete":
        return [f"- {change.kind} {change.name}: deleted outside Pulumi"]
    lines = [f"~ {change.kind} {change.name}"]
    for prop in change.properties:
        lines.append(f"-     {prop.name}: {show(prop.old)}   (recorded)")
        lines.append(f"+     {prop.name}: {show(prop.new)}   (live)")
    return lines
