"""How many operations the engine sends a provider process at once, so that both shells can run them all.

The engine tells a resource provider nothing of its `--parallel` (docs/pulumi-dynamic-providers.md §7), but a
provider process is started by the `pulumi` CLI (the dynamic host through a shell wrapper, a plugin directly)
and inherits its environment, so the number is read where the CLI reads it: the `--parallel`/`-p` flag of the
nearest `pulumi` process above this one, else `PULUMI_PARALLEL`, else the CLI's default of four per CPU.
Command lines are read from /proc (Linux). Where that is impossible (another system, no `pulumi` process
above this one, a flag in a spelling not read here) the flag is unknown: `PULUMI_PARALLEL` then counts if set,
else `BOUND`.

A pool of that many threads costs nothing while idle: a thread starts only when a call finds none free.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

BOUND = 64  # operations at once when the engine's --parallel cannot be known (README, "Concurrency")
MOST = 256  # never more threads than this, whatever --parallel says (2147483647 means "unbounded")
# Calls the engine makes beside its `--parallel` steps: the step generator's check and diff of the next
# resource, and the host's own calls (Configure, GetPluginInfo, Cancel).
SPARE = 4
ENVIRONMENT_KEY = "PULUMI_PARALLEL"
CLI_NAMES = frozenset({"pulumi", "pulumi.exe"})
PARENT_LEVELS = 4  # the plugin, a shell wrapper, the CLI: a few levels are enough

CommandLineOf = Callable[[int], tuple[int, list[str]] | None]  # pid -> (parent pid, argv)


def operations_at_once(
    environ: Mapping[str, str] | None = None,
    command_line_of: CommandLineOf | None = None,
    *,
    pid: int | None = None,
    cpus: int | None = None,
) -> int:
    """Threads a shell needs to run every operation the engine may send at once, spares included."""
    environ = os.environ if environ is None else environ
    parallel = engine_parallel(environ, command_line_of or proc_command_line, pid=pid, cpus=cpus)
    return min(max(parallel if parallel is not None else BOUND, 1), MOST) + SPARE


def engine_parallel(
    environ: Mapping[str, str], command_line_of: CommandLineOf, *, pid: int | None = None, cpus: int | None = None
) -> int | None:
    """The `--parallel` of the CLI that started this process, as the CLI decides it; None when unknown."""
    from_environment = _positive(environ.get(ENVIRONMENT_KEY))
    argv = cli_command_line(command_line_of, os.getpid() if pid is None else pid)
    if argv is None:
        return from_environment
    flag = parallel_flag(argv)
    if flag is UNRECOGNISED:
        return from_environment
    if isinstance(flag, int):
        return flag
    return from_environment if from_environment is not None else 4 * _cli_cpus(environ, cpus)


class _Unrecognised:
    def __repr__(self) -> str:
        return "<unrecognised>"


UNRECOGNISED = _Unrecognised()


def parallel_flag(argv: Sequence[str]) -> int | None | _Unrecognised:
    """The value of `--parallel` in a `pulumi` command line (the last one wins, as for every flag of the CLI).

    None: the flag is not given. UNRECOGNISED: it may be given in a spelling this does not read (a group of
    short flags such as `-yp 8`), or with a value that is not a number."""
    found: int | None | _Unrecognised = None
    arguments = list(argv[1:])
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        value: str | None
        if argument in ("--parallel", "-p"):
            value = arguments[index + 1] if index + 1 < len(arguments) else None
        elif argument.startswith("--parallel="):
            value = argument.removeprefix("--parallel=")
        elif argument.startswith("-p") and not argument.startswith("--"):
            value = argument[2:].removeprefix("=")
        elif argument.startswith("-") and not argument.startswith("--") and "p" in argument[1:]:
            return UNRECOGNISED  # a group of short flags
        else:
            continue
        number = _integer(value)
        found = number if number is not None else UNRECOGNISED
    return found


def cli_command_line(command_line_of: CommandLineOf, pid: int) -> list[str] | None:
    """The command line of the nearest `pulumi` process above `pid`, or None."""
    current = pid
    for _ in range(PARENT_LEVELS):
        found = command_line_of(current)
        if found is None:
            return None
        parent, _argv = found
        if parent <= 1:
            return None
        above = command_line_of(parent)
        if above is None:
            return None
        if above[1] and Path(above[1][0]).name in CLI_NAMES:
            return above[1]
        current = parent
    return None


def proc_command_line(pid: int) -> tuple[int, list[str]] | None:
    """(parent pid, argv) of a process, from /proc; None where there is no /proc or it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # The command name (in parentheses) may hold spaces and parentheses: the fields after the last ")" are plain.
    fields = stat[stat.rfind(")") + 1 :].split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return int(fields[1]), argv


def _cli_cpus(environ: Mapping[str, str], cpus: int | None) -> int:
    """The CPUs the CLI's default counts (Go's GOMAXPROCS: the environment's, else the CPUs it may use)."""
    explicit = _positive(environ.get("GOMAXPROCS"))
    if explicit is not None:
        return explicit
    if cpus is not None:
        return cpus
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _positive(text: str | None) -> int | None:
    number = _integer(text)
    return number if number is not None and number > 0 else None
