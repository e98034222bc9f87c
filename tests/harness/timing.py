"""A pytest plugin that prints where the suite's time goes: the seconds each test directory spent, and the
slowest modules.

Pytest's own `--durations=25` names the slowest tests; this adds one line per directory (unit, emulator,
engine, team, browser) and one per module of the 12 slowest, summed over every phase (setup, call, teardown)
of their tests. Under pytest-xdist
the reports reach the controller, so the sums cover every worker. The sums are test time, not wall time:
with three workers, the wall time of the run is about a third of their total.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

import pytest

SLOWEST_MODULES = 12


class Tally:
    """Seconds and test ids per group (a directory, a module)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.tests: defaultdict[str, set[str]] = defaultdict(set)

    def add(self, group: str, report: pytest.TestReport) -> None:
        self.seconds[group] += report.duration
        self.tests[group].add(report.nodeid)

    def lines(self, limit: int | None = None) -> list[str]:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:limit]
        return [f"{seconds:9.1f} s  {len(self.tests[group]):5d} tests  {group}" for group, seconds in ranked]


class DirectoryTimes:
    def __init__(self) -> None:
        self.directories = Tally()
        self.modules = Tally()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        module = report.nodeid.split("::", 1)[0]
        self.directories.add(str(PurePosixPath(module).parent), report)
        self.modules.add(module, report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.directories.seconds:
            return
        terminalreporter.section("time per test directory (setup + call + teardown, summed over workers)")
        for line in self.directories.lines():
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"{sum(self.directories.seconds.values()):9.1f} s  total")
        terminalreporter.section(f"the {SLOWEST_MODULES} slowest modules (summed the same way)")
        for line in self.modules.lines(SLOWEST_MODULES):
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # only the controller (or a run without xdist) prints
        config.pluginmanager.register(DirectoryTimes(), "directory-times")
