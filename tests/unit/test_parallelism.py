"""provider/parallelism.py: how many operations the engine may send at once, read where the CLI reads it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mypos_provider.provider import parallelism
from mypos_provider.provider.parallelism import BOUND, MOST, SPARE, UNRECOGNISED

PLUGIN, WRAPPER, CLI, SHELL = 4000, 3000, 2000, 1000


def processes(cli_argv: list[str], *, via_wrapper: bool = True) -> parallelism.CommandLineOf:
    """A process table: a plugin started by the CLI, through the dynamic host's shell wrapper or directly."""
    table = {
        PLUGIN: (WRAPPER if via_wrapper else CLI, ["python", "-u", "-m", "pulumi.dynamic", "127.0.0.1:4100"]),
        WRAPPER: (CLI, ["/bin/sh", "/home/me/.pulumi/bin/pulumi-resource-pulumi-python", "127.0.0.1:4100"]),
        CLI: (SHELL, cli_argv),
        SHELL: (1, ["-bash"]),
    }
    return table.get


def at_once(cli_argv: list[str], environ: dict[str, str] | None = None, **kw: object) -> int:
    return parallelism.operations_at_once(environ or {}, processes(cli_argv, **kw), pid=PLUGIN, cpus=2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "flags",
    [["--parallel", "40"], ["--parallel=40"], ["-p", "40"], ["-p40"], ["-p=40"], ["-p", "8", "--parallel=40"]],
)
def test_the_clis_parallel_flag_sizes_the_pool_in_each_spelling(flags):
    assert at_once(["/usr/bin/pulumi", "up", "--yes", *flags]) == 40 + SPARE


def test_a_plugin_the_cli_starts_directly_reads_the_same_flag():
    assert at_once(["pulumi", "destroy", "--parallel=12"], via_wrapper=False) == 12 + SPARE


def test_without_the_flag_the_clis_default_counts_four_per_cpu():
    assert at_once(["pulumi", "preview"]) == 4 * 2 + SPARE


def test_without_the_flag_pulumi_parallel_is_the_default_as_for_the_cli():
    assert at_once(["pulumi", "up"], {"PULUMI_PARALLEL": "100"}) == 100 + SPARE


def test_the_flag_wins_over_pulumi_parallel():
    assert at_once(["pulumi", "up", "-p", "16"], {"PULUMI_PARALLEL": "100"}) == 16 + SPARE


def test_the_clis_default_follows_gomaxprocs():
    assert at_once(["pulumi", "up"], {"GOMAXPROCS": "3"}) == 12 + SPARE


def test_an_unbounded_parallel_is_capped():
    assert at_once(["pulumi", "up", "--parallel", "2147483647"]) == MOST + SPARE


def test_a_serial_run_still_has_its_spares():
    assert at_once(["pulumi", "up", "--parallel", "0"]) == 1 + SPARE


@pytest.mark.parametrize("argv", [["pulumi", "up", "-yp", "40"], ["pulumi", "up", "--parallel", "many"]])
def test_a_flag_spelling_not_read_here_counts_as_unknown(argv):
    assert parallelism.parallel_flag(argv) is UNRECOGNISED
    assert at_once(argv) == BOUND + SPARE
    assert at_once(argv, {"PULUMI_PARALLEL": "100"}) == 100 + SPARE


def test_arguments_after_a_double_dash_are_not_flags():
    assert parallelism.parallel_flag(["pulumi", "up", "--", "-p", "40"]) is None


def test_without_a_pulumi_process_above_the_bound_applies():
    table = {PLUGIN: (CLI, ["python"]), CLI: (SHELL, ["node", "automation.js"]), SHELL: (1, ["-bash"])}

    assert parallelism.operations_at_once({}, table.get, pid=PLUGIN, cpus=2) == BOUND + SPARE
    assert parallelism.operations_at_once({"PULUMI_PARALLEL": "9"}, table.get, pid=PLUGIN, cpus=2) == 9 + SPARE


def test_without_proc_the_bound_applies():
    assert parallelism.operations_at_once({}, lambda pid: None, pid=PLUGIN) == BOUND + SPARE


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="/proc is Linux's")
def test_proc_gives_this_processs_parent_and_a_childs_command_line():
    waiting = [sys.executable, "-c", "import sys; sys.stdin.read()", "--parallel=7"]
    child = subprocess.Popen(waiting, stdin=subprocess.PIPE)
    try:
        parent, argv = parallelism.proc_command_line(child.pid)  # type: ignore[misc]
    finally:
        child.communicate(b"")

    assert parent == os.getpid()
    assert argv[1:] == ["-c", "import sys; sys.stdin.read()", "--parallel=7"]
    assert parallelism.proc_command_line(2**22 + 12345) is None  # no such process
