"""What a deployment's CLI printed from a point on, so that a scenario's step reads its own output only.

A step never clears `Deployment.output`: the scenario's leak scan reads every line the CLI ever printed."""

from __future__ import annotations

from harness.engine import Deployment


class Printed:
    """The lines `deployment` prints from now on: `printed = Printed(stack); stack.refresh(); printed.text`."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.start = len(deployment.output)

    @property
    def text(self) -> str:
        return "\n".join(self.deployment.output[self.start :])


def table_rows(report: str, header: list[str]) -> list[str]:
    """The rows of the Markdown table in `report` that starts with the two lines of `header`."""
    lines = report.splitlines()
    start = lines.index(header[0])
    assert lines[start + 1] == header[1]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows
