"""What the command line reports as one line, and exits non-zero for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .locks import AssessedLock


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


class StackLocked(CliError):
    """A deployment holds the stack's lock (or a killed one left it): nothing was changed. The message says
    whether the holder is alive, and only for a gone one names the command that releases its lock."""

    def __init__(self, stack: str, holders: list[AssessedLock]) -> None:
        self.stack = stack
        self.holders = holders
        super().__init__(locked_message(stack, holders, "nothing was changed"))

    @property
    def alive(self) -> bool:
        return not self.holders or any(h.liveness.alive for h in self.holders)


def locked_message(stack: str, holders: list[AssessedLock], outcome: str) -> str:
    named = "; ".join(h.describe() for h in holders) or "Pulumi named no holder"
    if not holders or any(h.liveness.alive for h in holders):
        return (
            f"stack {stack} is locked by a deployment that is alive, so {outcome}: {named}. Wait for it to end "
            f"(`python -m mypos_provider deploy --stack {stack} --wait` waits for it, then deploys); never release "
            "a live deployment's lock: two deployments at once make every object twice"
        )
    return (
        f"stack {stack} is locked by a deployment that is gone, so {outcome}: {named}. Release its lock, record "
        f"what it left and deploy: `{dead_lock_procedure(stack)}`"
    )


def dead_lock_procedure(stack: str) -> str:
    """The one command line that resumes after a deployment that died holding the lock."""
    return (
        f"python -m mypos_provider recover --stack {stack} --release-dead-lock && "
        f"python -m mypos_provider deploy --stack {stack}"
    )
