"""`deploy --stack S`: the team's deployment. It resolves drift in one run and never duplicates an object.

1. Refused while the state holds pending operations (an interrupted run's creates that may have reached
   myPOS without reaching the state): `recover` must record them first, or this run would make them again.
2. `pulumi up --refresh --yes --non-interactive --diff`: the refresh reads every object from myPOS, so values
   changed by hand are restored and objects deleted by hand are recreated by the same run (`--no-refresh`
   skips it: faster, but drift then stays). Every property change is in the log.
3. The stack's outputs, secrets masked.

Ctrl-C reaches `pulumi up` once per press: once lets it finish what it started and record it; twice stops it
at once, which can leave pending operations for step 1 of the next run to name. Exit 0 deployed, 1 not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from .backend import missing_backend_hint
from .changes import masked_outputs, resource_name
from .errors import CliError
from .pulumi import LOCKED_MARKER, error_text, run_pulumi, stream_pulumi
from .stack import PulumiStack

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: Any) -> None:
    deploy = commands.add_parser(
        "deploy", help="refresh from myPOS, run `pulumi up` non-interactively, print the stack's outputs"
    )
    deploy.add_argument("--stack", required=True, help="the stack to deploy, e.g. sandbox")
    refresh = deploy.add_mutually_exclusive_group()
    refresh.add_argument(
        "--refresh", dest="refresh", action="store_true", default=True, help="refresh from myPOS first (the default)"
    )
    refresh.add_argument(
        "--no-refresh", dest="refresh", action="store_false", help="skip the refresh: drift then stays in place"
    )
    deploy.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    stack = args.stack
    if pending := pending_operations(stack):
        raise CliError(pending_refusal(stack, pending))
    command = ["up", "--yes", "--non-interactive", "--diff", "--stack", stack]
    if args.refresh:
        command.append("--refresh")
    print(f"$ pulumi {' '.join(command)}", file=out, flush=True)
    code, tail = stream_pulumi(command, out)
    if code != 0:
        print(f"error: `pulumi up` of stack {stack} failed (exit {code}){failure_hint(tail, stack)}", file=sys.stderr)
        return EXIT_FAILED
    outputs = run_pulumi("stack", "output", "--json", "--stack", stack)
    if outputs.code != 0:
        raise CliError(f"deployed, but `pulumi stack output` failed: {error_text(outputs.stderr)}")
    print(f"\nOutputs of stack {stack} (secrets masked):", file=out)
    print(json.dumps(masked_outputs(json.loads(outputs.stdout or "{}")), indent=2, sort_keys=True), file=out)
    return EXIT_OK


def pending_operations(stack: str) -> list[dict[str, Any]]:
    """The operations an interrupted run left in the state; none for a stack whose state cannot be read
    (a new stack: `pulumi up` then says what is wrong)."""
    try:
        deployment = PulumiStack(stack).sealed_deployment()
    except CliError:
        return []
    return list(deployment.get("pending_operations") or [])


def pending_refusal(stack: str, pending: list[dict[str, Any]]) -> str:
    what = ", ".join(
        f"{op.get('type', 'operation')} of {resource_name(str((op.get('resource') or {}).get('urn', '?')))}"
        for op in pending
    )
    return (
        f"stack {stack} holds {len(pending)} pending operation(s) left by an interrupted deployment ({what}): "
        f"nothing was deployed. Run `python -m mypos_provider recover --stack {stack}` first: it records what "
        "that run made, so this deployment does not make it a second time; then deploy again"
    )


def failure_hint(tail: list[str], stack: str) -> str:
    if hint := missing_backend_hint("".join(tail), os.environ):
        return hint
    if any(LOCKED_MARKER in line for line in tail):
        return (
            f": another deployment holds the lock of {stack}; wait for it, or if it was killed, recover as "
            "docs/team.md describes (pulumi cancel, python -m mypos_provider recover, deploy again)"
        )
    if pending := pending_operations(stack):
        return (
            f"; it was interrupted and left {len(pending)} pending operation(s): run "
            f"`python -m mypos_provider recover --stack {stack}`, then deploy again"
        )
    return ""
