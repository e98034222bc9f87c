"""The Markdown the CI commands write for pull requests and issues: one renderer for every report.

A report starts with a hidden marker that lets a CI job find the comment or issue it wrote before and update
it, then has a heading, paragraphs, tables and `diff` blocks. Cells and values are escaped here, so no
value of a stack (a URL, a resource name) can break the table or the block it stands in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from .changes import KNOWN_AFTER_DEPLOY, MASK


def marker(kind: str, stack: str) -> str:
    """A hidden line that lets a CI job find its own earlier comment or issue and update it."""
    return f"<!-- mypos-pulumi:{kind}:{stack} -->"


class Report:
    """A Markdown document built block by block; `text()` joins them with blank lines."""

    def __init__(self, kind: str, stack: str, heading: str) -> None:
        self._blocks: list[str] = [f"{marker(kind, stack)}\n### {heading}"]

    def paragraph(self, text: str) -> Report:
        self._blocks.append(text)
        return self

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Report:
        lines = [row_line(header), "|" + "---|" * len(header)]
        lines += [row_line(row) for row in rows]
        self._blocks.append("\n".join(lines))
        return self

    def code(self, lines: Iterable[str], language: str = "") -> Report:
        body = [line.replace("```", "`\u200b``") for line in lines]  # a value cannot end the block
        self._blocks.append("\n".join([f"```{language}", *body, "```"]))
        return self

    def text(self) -> str:
        return "\n\n".join(self._blocks) + "\n"


def row_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def cell(text: str) -> str:
    """Text for a Markdown table cell: a pipe would end the cell, a newline the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def code_name(text: str) -> str:
    """A name shown as code in a table cell."""
    return f"`{cell(text)}`"


def show(value: Any) -> str:
    """A property value in a diff block: JSON, except the mask and "known after deploy", which are words."""
    if value in (MASK, KNOWN_AFTER_DEPLOY):
        return str(value)
    return json.dumps(value, sort_keys=True)


def report_command(commands: Any, name: str, summary: str, example_stack: str, run: Callable[..., int]) -> None:
    """Add a command that writes a Markdown report of a stack: `NAME --stack S [--output FILE]`."""
    command = commands.add_parser(name, help=summary)
    command.add_argument("--stack", required=True, help=f"the stack to report on, e.g. {example_stack}")
    command.add_argument("--output", type=Path, help="also write the report to this file")
    command.set_defaults(run=run)


def emit(report: str, output: Path | None, out: TextIO) -> None:
    """Print the report, and write it to `output` too (for a CI step that posts it)."""
    out.write(report)
    if output is not None:
        output.write_text(report)
