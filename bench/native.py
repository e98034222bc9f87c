"""Benchmark: the native provider against the dynamic provider and the floor, through the real engine.

    PATH=$PWD/.tools/bin:$PATH venv/bin/python bench/native.py              # N 40, 200 x 0.1 s, 0.5 s; 3 rounds
    PATH=$PWD/.tools/bin:$PATH venv/bin/python bench/native.py --sizes 40 --latencies 0.5 --repeat 1

For each N and emulator latency, one emulator serves three deployments of the same Python program shape
(N webhooks, `--subscriptions` adds one subscription to each), all run with `--parallel P` (default 64):
the native provider (`mypos:index:*`, pulumi-resource-mypos), the dynamic provider (the package's
`Webhook`/`Subscription`) and the no-request plugin (`benchfloor:index:*`, bench/floor_provider.py). Steps:
first `up`, no-op `preview`, `destroy`. The floor of a step is the no-request plugin's wall time plus the
requests the emulator saw from the native provider x latency / P. Rounds (`--repeat`) interleave the
variants; medians are quoted. Results: bench/results/native.csv (every sample), bench/results/native.md
(the table). See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from pulumi import automation as auto  # noqa: E402
from run import RESULTS, start_emulator, step_action, write_rows  # noqa: E402

from harness.emulator import EmulatorControl, route_of  # noqa: E402
from harness.engine import Deployment, copy_project, new_deployment  # noqa: E402
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402

VARIANTS = ("native", "dynamic", "floor")
STEPS = ("first up", "no-op preview", "destroy")
NATIVE_PLUGIN_DIR = ROOT / "venv" / "bin"  # pulumi-resource-mypos, the editable install's console script
FLOOR_PACKAGE = "benchfloor"

# Each variant defines webhook() and subscription(); the loop below is the same for all three, so the
# programs differ only in which provider serves the resources. The native resources are classes, as a
# generated SDK declares them (pulumi_mypos.Webhook): the Python SDK records a resource's stack trace in the
# state only for a class below CustomResource, as it does for the dynamic Webhook, and that trace is most of
# a resource's state (about 1.1 KB of 2.8 KB), which the file backend rewrites after every step.
NATIVE_HELPERS = """
class Webhook(pulumi.CustomResource):
    def __init__(self, name, props):
        super().__init__("{package}:index:Webhook", name, props)


class Subscription(pulumi.CustomResource):
    def __init__(self, name, props):
        super().__init__("{package}:index:Subscription", name, props)


def webhook(name, url, secret):
    return Webhook(name, {{"payloadUrl": url, "secret": secret}})


def subscription(name, webhook_id, event):
    return Subscription(name, {{"webhookId": webhook_id, "event": event}})
"""
DYNAMIC_HELPERS = """
from mypos_provider import Subscription, Webhook


def webhook(name, url, secret):
    return Webhook(name, payload_url=url, secret=secret)


def subscription(name, webhook_id, event):
    return Subscription(name, webhook_id=webhook_id, event=event)
"""
LOOP = """
for i in range({n}):
    hook = webhook(f"h{{i:04}}", f"https://shop.example.com/mypos/{{i}}", pulumi.Output.secret(f"bench-{{i:04}}"))
    if {subscriptions}:
        subscription(f"h{{i:04}}-paid", hook.id, "pos.payment.completed")
"""


@dataclass
class Sample:
    """One step of one variant in one round, as the CSV holds it."""

    round: int
    n: int
    latency_ms: int
    parallel: int
    shape: str  # "webhooks" or "webhooks+subscriptions"
    variant: str  # native, dynamic or floor
    step: str
    wall_s: float | None  # None: the step failed or was not run (error says why)
    requests: int  # requests the emulator saw during the step
    peak_in_flight: int  # most requests at the emulator at once (a lower bound, see peak_in_flight())
    detail: str = field(default="")  # requests by route
    error: str = field(default="")


@dataclass
class Summary:
    """One row of the table: medians over the rounds of one (N, latency, step)."""

    n: int
    latency_ms: int
    step: str
    native_s: float | None
    dynamic_s: float | None
    noop_s: float | None  # the no-request plugin
    native_requests: float | None
    floor_s: float | None  # noop_s + native_requests x latency / parallel
    native_peak: int
    dynamic_peak: int
    problems: str  # failed samples, by variant

    def ratio(self, top: float | None, bottom: float | None) -> float | None:
        return round(top / bottom, 2) if top and bottom else None


# ---- the programs and their projects ------------------------------------------------------------------


def program(variant: str, n: int, subscriptions: bool) -> str:
    package = FLOOR_PACKAGE if variant == "floor" else "mypos"
    helpers = DYNAMIC_HELPERS if variant == "dynamic" else NATIVE_HELPERS.format(package=package)
    return "import pulumi\n" + helpers + LOOP.format(n=n, subscriptions=subscriptions)


def floor_launcher(directory: Path) -> Path:
    """A directory holding `pulumi-resource-benchfloor`, run by this benchmark's Python (the venv's)."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / f"pulumi-resource-{FLOOR_PACKAGE}"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "bench" / "floor_provider.py"}" "$@"\n')
    launcher.chmod(0o755)
    return directory


def plugin_section(variant: str, tmp: Path) -> str:
    """Pulumi.yaml's `plugins:`, so the engine runs our plugin binaries whatever PATH holds."""
    if variant == "dynamic":
        return ""  # the SDK's dynamic-provider host, from .tools/bin
    if variant == "native":
        if not (NATIVE_PLUGIN_DIR / "pulumi-resource-mypos").exists():
            raise SystemExit("venv/bin/pulumi-resource-mypos is missing: run scripts/bootstrap-venv")
        name, path = "mypos", NATIVE_PLUGIN_DIR
    else:
        name, path = FLOOR_PACKAGE, floor_launcher(tmp / "plugins")
    return f"plugins:\n  providers:\n    - name: {name}\n      path: {path}\n"


def deployment_for(variant: str, n: int, subscriptions: bool, url: str, tmp: Path) -> Deployment:
    project = copy_project(tmp / "project", program=program(variant, n, subscriptions))
    pulumi_yaml = project / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text() + plugin_section(variant, tmp))
    return new_deployment(
        tmp, auth_url=url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, project_dir=project
    )


# ---- measuring -------------------------------------------------------------------------------------


def peak_in_flight(arrivals: Sequence[float], latency: float) -> int:
    """Most requests at the emulator at once. The log has each request's arrival; the emulator sleeps the
    latency before answering, so each request took at least [arrival, arrival + latency]: counting those
    windows gives a lower bound of the true peak (0 without latency, where it says nothing)."""
    if latency <= 0:
        return 0
    # At equal times an end (-1) sorts before a start (+1): back-to-back requests do not overlap.
    events = sorted([(t, 1) for t in arrivals] + [(t + latency, -1) for t in arrivals])
    peak = current = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


def expected_changes(step: str, resources: int) -> dict[str, int]:
    """What the engine must report for the step to count: every resource made, none touched, all gone
    (the stack itself is one more resource)."""
    return {"first up": {"create": resources + 1}, "no-op preview": {"same": resources + 1}}.get(
        step, {"delete": resources + 1}
    )


def outcome_problem(step: str, result: Any, resources: int) -> str:
    changes = result.change_summary if step == "no-op preview" else result.summary.resource_changes
    wanted = expected_changes(step, resources)
    if {k: v for k, v in (changes or {}).items() if v} != wanted:
        return f"the engine reported {dict(changes or {})}, expected {wanted}"
    return ""


# Lines the engine adds to every failure, which say nothing about its cause.
GENERIC_ERRORS = ("Resource monitor has terminated", "update failed", "destroy failed", "preview failed")


def first_error(error: Exception) -> str:
    """The provider's error line, not the Automation API's wrapping of the whole output nor the engine's
    generic follow-ups (their order in the diagnostics varies)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line[line.index("error:") :] for line in lines if "error:" in line]
    specific = [line for line in errors if not any(g in line for g in GENERIC_ERRORS)]
    chosen = (specific or errors or lines or [repr(error)])[0]
    return chosen[:400]


def run_variant(
    variant: str, n: int, latency: float, url: str, args: argparse.Namespace, repetition: int
) -> list[Sample]:
    """Every step of one variant on a fresh stack; after a failure the later steps are not run."""
    resources = n * (2 if args.subscriptions else 1)
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as tmp:
        failure, deployment = "", None
        try:
            deployment = deployment_for(variant, n, args.subscriptions, url, Path(tmp))
        except auto.CommandError as error:
            failure = f"stack set-up failed: {first_error(error)}"
        for step in STEPS:
            base = Sample(repetition, n, round(latency * 1000), args.parallel, shape(args), variant, step, None, 0, 0)
            if failure or deployment is None:
                sample = replace(base, error=f"not run: {failure}")
            else:
                sample = measure_step(deployment, base, EmulatorControl(url), latency, resources)
                failure = sample.error
            samples.append(sample)
            print(format_sample(sample), flush=True)
        if failure and deployment is not None:
            clean_up(deployment)
    return samples


def measure_step(
    deployment: Deployment, base: Sample, control: EmulatorControl, latency: float, resources: int
) -> Sample:
    """One timed step, with the requests the emulator saw during it; a failure gives no wall time."""
    control.clear_requests()
    started = time.perf_counter()
    try:
        result = step_action(deployment, base.step)(parallel=base.parallel)
        wall = round(time.perf_counter() - started, 2)
        failure = outcome_problem(base.step, result, resources)
    except auto.CommandError as error:
        wall, failure = 0.0, first_error(error)
    seen = control.requests()
    routes = Counter(f"{r['method']} {route_of(r['path'])}" for r in seen)
    return replace(
        base,
        wall_s=None if failure else wall,
        requests=len(seen),
        peak_in_flight=peak_in_flight([r["time"] for r in seen], latency),
        detail="; ".join(f"{k} x{v}" for k, v in sorted(routes.items())),
        error=failure,
    )


def clean_up(deployment: Deployment) -> None:
    """Untimed: what a failed run made must not linger in the emulator's account for the next variant."""
    try:
        deployment.destroy()
    except auto.CommandError as error:
        print(f"      clean-up destroy failed too: {first_error(error)}", flush=True)


def shape(args: argparse.Namespace) -> str:
    return "webhooks+subscriptions" if args.subscriptions else "webhooks"


def run_block(n: int, latency: float, order: Sequence[str], args: argparse.Namespace, repetition: int) -> list[Sample]:
    """The variants of one (N, latency) one after the other against one emulator, so a burst of load on a
    shared machine hits the variants of one round alike."""
    process, url = start_emulator(latency)
    try:
        return [s for variant in order for s in run_variant(variant, n, latency, url, args, repetition)]
    finally:
        process.terminate()
        process.wait()


def rotated(variants: Sequence[str], by: int) -> list[str]:
    """Each block starts with another variant, so none is always first after an emulator starts."""
    shift = by % len(variants)
    return [*variants[shift:], *variants[:shift]]


# ---- the summary ------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def summarize(samples: Sequence[Sample], args: argparse.Namespace) -> list[Summary]:
    rows = []
    for n in args.sizes:
        for latency in args.latencies:
            for step in STEPS:
                chosen = [s for s in samples if (s.n, s.latency_ms, s.step) == (n, round(latency * 1000), step)]
                rows.append(summary_of(chosen, n, latency, step, args))
    return rows


def summary_of(samples: Sequence[Sample], n: int, latency: float, step: str, args: argparse.Namespace) -> Summary:
    def good(variant: str) -> list[Sample]:
        return [s for s in samples if s.variant == variant and s.wall_s is not None]

    walls = {v: median([s.wall_s for s in good(v) if s.wall_s is not None]) for v in VARIANTS}
    native_requests = median([s.requests for s in good("native")])
    noop = walls["floor"]
    failed = Counter(s.variant for s in samples if s.wall_s is None)
    return Summary(
        n=n,
        latency_ms=round(latency * 1000),
        step=step,
        native_s=walls["native"],
        dynamic_s=walls["dynamic"],
        noop_s=noop,
        native_requests=native_requests,
        floor_s=round(noop + native_requests * latency / args.parallel, 2) if noop and native_requests else None,
        native_peak=max((s.peak_in_flight for s in good("native")), default=0),
        dynamic_peak=max((s.peak_in_flight for s in good("dynamic")), default=0),
        problems=", ".join(f"{v} failed {k} of {args.repeat}" for v, k in sorted(failed.items())),
    )


def seconds(value: float | None, measured: bool = True) -> str:
    if not measured:
        return "-"  # a variant left out with --variants
    return "failed" if value is None else f"{value:.2f} s"


def times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def bold(text: str) -> str:
    return f"**{text}**" if text else ""


COLUMNS = (
    "N",
    "latency",
    "step",
    "native",
    "dynamic",
    "no-request",
    "native requests",
    "floor",
    "**native / floor**",
    "**dynamic / native**",
    "native - no-request",
    "peak in flight native / dynamic",
    "problems",
)


def added(r: Summary) -> str:
    """What the native provider adds over the no-request plugin, also in latencies: requests that wait for
    one another (the token, then the event catalogue, then the writes) add a latency each."""
    if r.native_s is None or r.noop_s is None:
        return ""
    extra = r.native_s - r.noop_s
    return f"{extra:.2f} s" + (f" ({extra / (r.latency_ms / 1000):.1f} x latency)" if r.latency_ms else "")


def cells(r: Summary, variants: Sequence[str]) -> list[str]:
    """A table row, in the order of COLUMNS; a ratio is left empty where a side is missing."""
    return [
        str(r.n),
        f"{r.latency_ms} ms",
        r.step,
        seconds(r.native_s, "native" in variants),
        seconds(r.dynamic_s, "dynamic" in variants),
        seconds(r.noop_s, "floor" in variants),
        "" if r.native_requests is None else f"{r.native_requests:g}",
        "" if r.floor_s is None else seconds(r.floor_s),
        bold(times(r.ratio(r.native_s, r.floor_s))),
        bold(times(r.ratio(r.dynamic_s, r.native_s))),
        added(r),
        f"{r.native_peak} / {r.dynamic_peak}",
        r.problems,
    ]


def markdown(rows: Sequence[Summary], samples: Sequence[Sample], args: argparse.Namespace) -> str:
    lines = [
        f"`--parallel {args.parallel}`, {shape(args)} (Python programs), median of {args.repeat} round(s). "
        "floor = no-request + native requests x latency / parallel; see bench/README.md.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(cells(r, args.variants)) + " |" for r in rows),
    ]
    return "\n".join([*lines, "", *goals(rows), *failures(samples)])


def failures(samples: Sequence[Sample]) -> list[str]:
    """Each distinct error once, so the table's "failed" cells can be read without the CSV."""
    seen = dict.fromkeys((s.variant, s.step, s.error) for s in samples if s.error and not s.error.startswith("not run"))
    return ["", "Failures:", *(f"- {variant}, {step}: {error}" for variant, step, error in seen)] if seen else []


def goals(rows: Sequence[Summary]) -> list[str]:
    """The goals of the dynamic entry at native speed, read off the table (never asserted: measurements)."""
    return [
        goal_line("dynamic within 1.3x of native", rows, lambda r: r.ratio(r.dynamic_s, r.native_s), 1.3),
        goal_line("native within 1.2x of the floor", rows, lambda r: r.ratio(r.native_s, r.floor_s), 1.2),
    ]


def goal_line(name: str, rows: Sequence[Summary], ratio: Callable[[Summary], float | None], limit: float) -> str:
    measured = [(r, value) for r in rows if (value := ratio(r)) is not None]
    missed = [f"N = {r.n}, {r.latency_ms} ms, {r.step}: {value:.2f}x" for r, value in measured if value > limit]
    verdict = "met" if not missed else "missed at " + "; ".join(missed)
    return f"- {name}: {len(measured) - len(missed)} of {len(measured)} measured rows ({verdict})"


# ---- output -----------------------------------------------------------------------------------------

HEADER = f"{'round':>5} {'N':>4} {'lat':>4} {'variant':<8} {'step':<14} {'wall s':>7} {'req':>5} {'peak':>5}  detail"


def format_sample(s: Sample) -> str:
    skipped = s.error.startswith("not run")
    wall = "-" if skipped else "FAILED" if s.wall_s is None else str(s.wall_s)
    tail = f"  {s.error}" if skipped else f"  FAILED: {s.error}" if s.error else ""
    return (
        f"{s.round:>5} {s.n:>4} {s.latency_ms:>4} {s.variant:<8} {s.step:<14} {wall:>7} {s.requests:>5} "
        f"{s.peak_in_flight:>5}  {s.detail}{tail}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="40,200", help="comma-separated N (default 40,200)")
    parser.add_argument(
        "--latencies", default="0.1,0.5", help="comma-separated emulator latencies, s (default 0.1,0.5)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are quoted (default 3)")
    parser.add_argument("--parallel", type=int, default=64, help="pulumi --parallel for every step (default 64)")
    parser.add_argument("--subscriptions", action="store_true", help="give each webhook one subscription")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="a subset of native,dynamic,floor")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for native.csv and native.md")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.latencies = [float(s) for s in args.latencies.split(",") if s]
    args.variants = [v for v in args.variants.split(",") if v]
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {', '.join(sorted(unknown))}: choose from {', '.join(VARIANTS)}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / "native.csv"
    csv_path.unlink(missing_ok=True)  # one run per file: the table is computed from this run alone
    samples: list[Sample] = []
    print(HEADER, flush=True)
    block = 0
    for repetition in range(1, args.repeat + 1):
        for n in args.sizes:
            for latency in args.latencies:
                measured = run_block(n, latency, rotated(args.variants, block), args, repetition)
                write_rows(measured, csv_path, [f.name for f in fields(Sample)])  # kept if interrupted
                samples += measured
                block += 1
    table = markdown(summarize(samples, args), samples, args)
    (args.out / "native.md").write_text(table + "\n")
    print("\n" + table + f"\n\nwrote {csv_path} and {args.out / 'native.md'}")


if __name__ == "__main__":
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    main()
