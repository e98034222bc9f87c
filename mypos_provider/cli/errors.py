"""What the command line reports as one line, and exits non-zero for."""

from __future__ import annotations


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


class StackLocked(CliError):
    """A deployment holds the stack's lock (or a killed one left it)."""

    def __init__(self, stack: str, pulumi_message: str) -> None:
        super().__init__(
            f"stack {stack} is locked by a deployment, so nothing was changed. If it is still running, wait for it "
            f"to end; if it was killed, release the lock with `pulumi cancel --stack {stack}` first.\n"
            f"pulumi says: {pulumi_message}"
        )
