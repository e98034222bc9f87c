"""`preview-report --stack S [--output FILE]`: `pulumi preview --diff` as a Markdown report for a pull request.

The report counts what the deployment would create, update, replace and delete (our resources only, not the
stack), lists them in the order the engine would run them, then every property change, secrets masked and
values not known before the deployment (a new webhook's id) said so. Exit 0 when the preview ran, 1 when it
failed; the report then says why, in Pulumi's words.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from .changes import Change, Plan, plan_of
from .errors import CliError
from .markdown import Report, cell, code_name, emit, report_command, show
from .pulumi import Outcome, error_text, parse_json, run_pulumi

EXIT_OK, EXIT_FAILED = 0, 1
SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}
ENGINE_NOISE = "Resource monitor has terminated"  # follows every failed program; says nothing of the cause


def register(commands: Any) -> None:
    summary = "run `pulumi preview --diff` and print a Markdown report for a pull request"
    report_command(commands, "preview-report", summary, "sandbox", run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    outcome = run_pulumi("preview", "--json", "--diff", "--show-sames", "--stack", args.stack)
    report, code = preview_report(args.stack, outcome)
    emit(report, args.output, out)
    return code


def preview_report(stack: str, outcome: Outcome) -> tuple[str, int]:
    try:
        preview = parse_json(outcome, "preview")
    except CliError as error:
        return failure_report(stack, [str(error)]), EXIT_FAILED
    if outcome.code != 0:
        errors = [
            d.get("message", "").strip() for d in preview.get("diagnostics") or [] if d.get("severity") == "error"
        ]
        reasons = [e for e in errors if ENGINE_NOISE not in e] or [
            error_text(outcome.stderr) or f"pulumi exited with status {outcome.code}"
        ]
        return failure_report(stack, reasons), EXIT_FAILED
    return render_preview(stack, plan_of(preview.get("steps") or [])), EXIT_OK


def render_preview(stack: str, plan: Plan) -> str:
    report = Report("preview", stack, f"Pulumi preview of `{stack}`").paragraph(
        f"**{plan.count('create')} to create, {plan.count('update')} to update, {plan.count('replace')} to "
        f"replace, {plan.count('delete')} to delete**; {plan.unchanged} unchanged."
    )
    if not plan.changes:
        return report.paragraph("No changes: the deployment would leave myPOS and the state as they are.").text()
    report.table(("Action", "Resource", "Type"), [(c.action, code_name(c.name), cell(c.kind)) for c in plan.changes])
    report.paragraph("#### Property changes")
    return report.code([line for change in plan.changes for line in property_diff(change)], "diff").text()


def property_diff(change: Change) -> list[str]:
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


def failure_report(stack: str, reasons: list[str]) -> str:
    report = Report("preview", stack, f"Pulumi preview of `{stack}` failed")
    report.code([reason for reason in reasons if reason])
    return report.paragraph("Fix the cause above and push again; nothing was changed.").text()
