"""A pytest plugin that prints where the suite's time goes: the seconds each test directory spent.

Pytest's own `--durations=25` names the slowest tests; this adds one line per directory (unit, emulator,
engine, team, browser), summed over every phase (setup, call, teardown) of its tests. Under pytest-xdist
the reports reach the controller, so the sums cover every worker. The sums are test time, not wall time:
with three workers, the wall time of the run is about a third of their total.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

import pytest


class DirectoryTimes:
    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.tests: defaultdict[str, set[str]] = defaultdict(set)

    @staticmethod
    def directory_of(nodeid: str) -> str:
        return str(PurePosixPath(nodeid.split("::", 1)[0]).parent)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        directory = self.directory_of(report.nodeid)
        self.seconds[directory] += report.duration
        self.tests[directory].add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.seconds:
            return
        terminalreporter.section("time per test directory (setup + call + teardown, summed over workers)")
        for directory, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            count = len(self.tests[directory])
            terminalreporter.write_line(f"{seconds:9.1f} s  {count:5d} tests  {directory}")
        terminalreporter.write_line(f"{sum(self.seconds.values()):9.1f} s  total")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # only the controller (or a run without xdist) prints
        config.pluginmanager.register(DirectoryTimes(), "directory-times")
