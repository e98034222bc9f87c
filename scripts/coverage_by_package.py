"""Print the combined coverage data (`.coverage`) by package, and fail when it is under a floor.

    python scripts/coverage_by_package.py                       print only
    python scripts/coverage_by_package.py --fail-under-config   also fail under [tool.coverage.report] fail_under
    python scripts/coverage_by_package.py --branch-floor 90 mypos_provider/core mypos_provider/stack_config.py
                                                                also fail when those files' branches are under 90%

"Total" is coverage.py's figure (statements and branches together), the one `fail_under` compares with;
"Branches" counts branch outcomes alone. Run by scripts/test and scripts/test-unit after `coverage combine`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import coverage


@dataclass
class Tally:
    statements: int = 0
    covered_statements: int = 0
    branches: int = 0
    covered_branches: int = 0

    def add(self, summary: dict[str, int]) -> None:
        self.statements += summary["num_statements"]
        self.covered_statements += summary["covered_lines"]
        self.branches += summary.get("num_branches", 0)
        self.covered_branches += summary.get("covered_branches", 0)

    @property
    def total(self) -> float:
        return percent(self.covered_statements + self.covered_branches, self.statements + self.branches)

    @property
    def branch_share(self) -> float:
        return percent(self.covered_branches, self.branches)


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


def package_of(path: str) -> str:
    """`mypos_provider/core/webhooks.py` -> `mypos_provider.core`; top-level modules stay under `mypos_provider`;
    `packages/mypos-emulator/mypos_emulator/core.py` (a distribution of packages/) -> `mypos_emulator`."""
    parts = Path(path).parent.parts
    return ".".join(parts[2:] if parts[:1] == ("packages",) else parts)


def file_summaries(cov: coverage.Coverage) -> dict[str, dict[str, int]]:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "coverage.json"
        cov.json_report(outfile=str(report))
        files = json.loads(report.read_text())["files"]
    return {name: data["summary"] for name, data in files.items()}


def tally(summaries: dict[str, dict[str, int]], paths: Iterable[str] | None = None) -> Tally:
    chosen = tuple(paths) if paths is not None else None
    result = Tally()
    for name, summary in summaries.items():
        if chosen is None or name.startswith(chosen):
            result.add(summary)
    return result


def print_table(summaries: dict[str, dict[str, int]]) -> Tally:
    packages: dict[str, Tally] = {}
    for name, summary in summaries.items():
        packages.setdefault(package_of(name), Tally()).add(summary)
    overall = tally(summaries)
    print(f"{'Package':<28}{'Statements':>16}{'Branches':>16}{'Total':>9}")
    for package, counts in sorted(packages.items()) + [("TOTAL", overall)]:
        statements = f"{counts.covered_statements}/{counts.statements}"
        branches = f"{counts.covered_branches}/{counts.branches}"
        print(f"{package:<28}{statements:>16}{branches:>16}{counts.total:>8.1f}%")
    return overall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fail-under-config", action="store_true", help="enforce [tool.coverage.report] fail_under")
    parser.add_argument("--branch-floor", type=float, help="the least share of branches PATHS must cover")
    parser.add_argument("paths", nargs="*", help="files or directories (prefixes) the branch floor applies to")
    args = parser.parse_args()

    cov = coverage.Coverage()
    cov.load()
    summaries = file_summaries(cov)
    overall = print_table(summaries)
    failures = []
    if args.fail_under_config:
        floor = float(cov.get_option("report:fail_under") or 0)
        if overall.total < floor:
            failures.append(f"total coverage {overall.total:.1f}% is under fail_under = {floor:g}% (pyproject.toml)")
    if args.branch_floor is not None:
        chosen = tally(summaries, args.paths)
        print(f"Branches of {', '.join(args.paths)}: {chosen.branch_share:.1f}%")
        if chosen.branch_share < args.branch_floor:
            failures.append(f"branch coverage {chosen.branch_share:.1f}% is under {args.branch_floor:g}%")
    for failure in failures:
        print(f"coverage: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
