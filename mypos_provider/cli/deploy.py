"""`deploy --stack S`: the team's deployment. It resolves drift in one run and never duplicates an object.

1. A stack locked by a live deployment is refused (`--wait`: waited for, within a bound, then deployed); a
   lock whose deployment is gone is refused with the one command that releases it and records what that
   deployment left (cli/locks.py tells the two apart). Never `pulumi cancel` on a live lock: two deployments
   at once make every object twice.
2. Refused while the state holds pending operations (an interrupted run's creates that may have reached
   myPOS without reaching the state): `recover` must record them first, or this run would make them again.
3. `pulumi up --refresh --yes --non-interactive --diff`: the refresh reads every object from myPOS, so values
   changed by hand are restored and objects deleted by hand are recreated by the same run (`--no-refresh`
   skips it: faster, but drift then stays). Every property change is in the log.
4. The stack's outputs, secrets masked; and, when a create of this run got no answer and was not found
   (myPOS may still commit it late, as a duplicate), when to check again.

A state backend that fails to save checkpoints (the database stopped) stops the run within a minute, with
the procedure for when it is back. Ctrl-C reaches `pulumi up` once per press: once lets it finish what it
started and record it; twice stops it at once, which can leave pending operations for step 2 of the next
run to name. Exit 0 deployed, 1 not.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from .backend import missing_backend_hint
from .changes import masked_outputs, resource_name
from .errors import CliError, dead_lock_procedure, locked_message
from .locks import AssessedLock
from .pulumi import BACKEND_DOWN_GRACE, BACKEND_FAILURE, LOCKED_MARKER, Streamed, error_text, run_pulumi, stream_pulumi
from .stack import PulumiStack

EXIT_OK, EXIT_FAILED = 0, 1
STARTED = "Previewing update ("  # the first line `pulumi up` prints once it holds the lock
POLL_SECONDS = 5.0
PROGRESS_SECONDS = 30.0
DEFAULT_WAIT_MINUTES = 30.0
# What the provider says of a create whose earlier attempt got no answer and was not found (core/webhooks.py,
# core/subscriptions.py): myPOS may still commit that attempt, late, as a duplicate of the resource.
UNRESOLVED_MARKER = "an earlier attempt of this create got no answer"
LATE_COMMIT_CHECK = timedelta(minutes=10)


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
    deploy.add_argument(
        "--wait",
        action="store_true",
        help="if a live deployment holds the stack's lock, wait for it to end, then deploy",
    )
    deploy.add_argument(
        "--wait-minutes",
        type=float,
        default=DEFAULT_WAIT_MINUTES,
        metavar="MINUTES",
        help=f"with --wait: give up after this long (default {DEFAULT_WAIT_MINUTES:g})",
    )
    deploy.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    stack = PulumiStack(args.stack)
    waiting = Waiting(stack.name, out, args.wait_minutes * 60 if args.wait else None)
    command = ["up", "--yes", "--non-interactive", "--diff", "--stack", stack.name]
    if args.refresh:
        command.append("--refresh")
    while True:
        held = stack.locks()
        if held:
            waiting.meet(held)
            continue
        if pending := pending_operations(stack.name):
            raise CliError(pending_refusal(stack.name, pending, lock_unknown=held is None))
        print(f"$ pulumi {' '.join(command)}", file=out, flush=True)
        streamed = stream_pulumi(command, out, hold_until=STARTED, collect=UNRESOLVED_MARKER)
        if streamed.held is not None and LOCKED_MARKER in streamed.held:
            waiting.meet(stack.assess_refusal(streamed.held))  # locked between our look and its start
            continue
        if streamed.held:
            out.write(streamed.held)
        break
    if streamed.code != 0:
        print(
            f"error: `pulumi up` of stack {stack.name} failed (exit {streamed.code}){failure_hint(streamed, stack)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    outputs = run_pulumi("stack", "output", "--json", "--stack", stack.name)
    if outputs.code != 0:
        raise CliError(f"deployed, but `pulumi stack output` failed: {error_text(outputs.stderr)}")
    print(f"\nOutputs of stack {stack.name} (secrets masked):", file=out)
    print(json.dumps(masked_outputs(json.loads(outputs.stdout or "{}")), indent=2, sort_keys=True), file=out)
    if streamed.collected:
        print(unresolved_notice(stack.name, streamed.collected, datetime.now(UTC)), file=sys.stderr)
    return EXIT_OK


class Waiting:
    """What deploy does about a lock in its way: waits for a live holder (with --wait, within a bound, saying so
    every half minute), and refuses otherwise, naming the one command for a holder that is gone."""

    def __init__(self, stack: str, out: TextIO, bound: float | None) -> None:
        self._stack = stack
        self._out = out
        self._bound = bound
        self._started: float | None = None
        self._said = 0.0

    def meet(self, held: list[AssessedLock]) -> None:
        """Returns after a pause when deploy should look again; raises when it should stop."""
        live = not held or any(h.liveness.alive for h in held)
        if not live or self._bound is None:
            raise CliError(locked_message(self._stack, held, "nothing was deployed"))
        now = time.monotonic()
        if self._started is None:
            self._started = self._said = now
            print(
                f"waiting for the deployment that holds the lock of {self._stack}: "
                f"{'; '.join(h.describe() for h in held) or 'Pulumi named no holder'} "
                f"(looking every {POLL_SECONDS:g} s, for up to {self._bound / 60:g} minutes)",
                file=self._out,
                flush=True,
            )
        elif now - self._started > self._bound:
            raise CliError(
                f"waited {self._bound / 60:g} minutes for the deployment that holds the lock of {self._stack}, and "
                f"it is still alive: {'; '.join(h.describe() for h in held)}; nothing was deployed. Wait longer "
                "(--wait-minutes), or find out what that deployment is doing"
            )
        elif now - self._said >= PROGRESS_SECONDS:
            self._said = now
            print(
                f"still waiting ({now - self._started:.0f} s): {held[0].describe() if held else ''}",
                file=self._out,
                flush=True,
            )
        time.sleep(POLL_SECONDS)


def pending_operations(stack: str) -> list[dict[str, Any]]:
    """The operations an interrupted run left in the state; none for a stack whose state cannot be read
    (a new stack: `pulumi up` then says what is wrong)."""
    try:
        deployment = PulumiStack(stack).sealed_deployment()
    except CliError:
        return []
    return list(deployment.get("pending_operations") or [])


def pending_refusal(stack: str, pending: list[dict[str, Any]], *, lock_unknown: bool = False) -> str:
    what = ", ".join(
        f"{op.get('type', 'operation')} of {resource_name(str((op.get('resource') or {}).get('urn', '?')))}"
        for op in pending
    )
    hedge = (
        " (this backend's lock cannot be read here: if a deployment of the stack is still running, these are its "
        f"operations in flight, so wait for it with `python -m mypos_provider deploy --stack {stack} --wait`)"
        if lock_unknown
        else ""
    )
    return (
        f"stack {stack} holds {len(pending)} pending operation(s) left by an interrupted deployment ({what}): "
        f"nothing was deployed{hedge}. Run `python -m mypos_provider recover --stack {stack}` first: it records what "
        "that run made, so this deployment does not make it a second time; then deploy again"
    )


def failure_hint(streamed: Streamed, stack: PulumiStack) -> str:
    text = "".join(streamed.tail)
    if hint := missing_backend_hint(text, os.environ):
        return hint
    if streamed.backend_down_since is not None:
        stopped = (
            f"it was stopped {BACKEND_DOWN_GRACE:g} s after the first `{BACKEND_FAILURE}`"
            if streamed.stopped
            else f"it reported `{BACKEND_FAILURE}`"
        )
        return (
            f": the state backend stopped answering, so {stopped}; what it did after the last saved checkpoint is "
            f"in myPOS but not in the state. The lock this run took ({getpass.getuser()}@{socket.gethostname()}) "
            "stays in the backend, held by no one now.\n"
            f"Once the database answers again (`pulumi stack export --stack {stack.name}` works), run:\n"
            f"  {dead_lock_procedure(stack.name)}"
        )
    if pending := pending_operations(stack.name):
        return (
            f"; it was interrupted and left {len(pending)} pending operation(s): run "
            f"`python -m mypos_provider recover --stack {stack.name}`, then deploy again"
        )
    return ""


def unresolved_notice(stack: str, warnings: list[str], now: datetime) -> str:
    again = (now + LATE_COMMIT_CHECK).strftime("%H:%M UTC")
    listed = "\n".join(f"  {w}" for w in warnings)
    return (
        f"note: {len(warnings)} create(s) of this deployment are unresolved: an attempt got no answer and was not "
        f"found, so myPOS may still commit it, late, as a duplicate:\n{listed}\n"
        f"Check again after {again} (in {int(LATE_COMMIT_CHECK.total_seconds() // 60)} minutes): "
        f"`python -m mypos_provider drift --stack {stack}` names any duplicate, and "
        f"`python -m mypos_provider recover --stack {stack} --delete-duplicates` removes it"
    )
