"""Benchmark: API requests and wall time of the provider through the real engine, against the raw floor.

    venv/bin/python bench/run.py                          # N in 10, 100, 1000; 50 ms latency; and 0 ms
    venv/bin/python bench/run.py --sizes 10,100 --latency 0.1

For each N (webhooks, one subscription each) and each latency, it runs the real Pulumi CLI (Automation
API, file backend) against the emulator: first `up`, no-op `preview`, no-op `up`, `refresh`, an update of
every secret, `destroy`. Per step it records the requests the emulator saw (by method and route), token
requests, wall time, the time a bare 4-thread client needs for the same requests (bench/raw_floor.py),
the provider process's peak memory, and state-file bytes. Results: bench/results/results.csv, a table on
stdout, bench/results/time_per_step.png. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from backends import VARIANTS, PostgresServer, Variant, postgres_server  # noqa: E402
from raw_floor import FloorClient, replay  # noqa: E402

from harness.emulator import EmulatorControl, route_of  # noqa: E402
from harness.engine import Deployment, new_deployment  # noqa: E402
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402

FLOOR_ID, FLOOR_SECRET = "FLOORCLIENT0000000000001", "FLOORSECRET" + "0" * 37
STEPS = ("first up", "no-op preview", "no-op up", "refresh", "update secrets", "destroy")
# The state backends are compared on the steps whose cost the backend changes most, and on a no-op.
BACKEND_STEPS = ("first up", "no-op preview", "destroy")
BACKEND_NOTE = "backend comparison"
RESULTS = ROOT / "bench" / "results"


@dataclass
class Row:
    n: int
    latency_ms: int
    step: str
    requests: int
    minimum: int
    token_requests: int
    wall_s: float
    floor_s: float
    ratio: float
    per_resource_ms: float
    provider_peak_mb: float
    state_bytes_per_resource: float
    provider_blob_bytes: int
    detail: str = field(default="")
    note: str = field(default="")
    backend: str = field(default="file")  # a name in backends.VARIANTS
    wal_mb: float = field(default=0.0)  # PostgreSQL write-ahead log written during the step
    round: int = field(default=1)  # repetition of the backend comparison (medians are quoted)
    noop_s: float = field(default=0.0)  # the same step with the no-request resource (bench/noop_provider.py)
    vs_noop: float = field(default=0.0)  # wall_s / noop_s: what the provider adds over the engine itself


def minimum(step: str, n: int) -> int:
    """Requests a step needs at least: its writes or listings, plus the token and the event catalogue with
    which every provider process proves the credentials and endpoints before its first operation."""
    pages = 2 * math.ceil(n / 100)  # webhooks and subscriptions, 100 per page
    proof = 2
    return (
        proof
        + {
            "first up": 2 * n,
            "no-op preview": 0,
            "no-op up": 0,
            "refresh": pages,
            "update secrets": n,
            "destroy": 2 * n,
        }[step]
    )


# The webhooks are declared in code: a thousand of them in the `mypos:webhooks` stack config would be
# one config value larger than the 128 KiB an environment string may hold, and the Python language host
# passes config to the program through the environment (see README, "The stack program").
PROGRAM = """
import pulumi
from mypos_provider import Subscription, Webhook

config = pulumi.Config("bench")
version = config.require("secretVersion")
for i in range(config.require_int("count")):
    hook = Webhook(f"h{i:04}", payload_url=f"https://shop.example.com/mypos/{i}",
                   secret=pulumi.Output.secret(f"bench-v{version}-{i:04}"))
    Subscription(f"h{i:04}-paid", webhook_id=hook.id, event="pos.payment.completed")
"""


# The same shape with the no-request resource: N pairs, the second taking the first one's id, a secret input.
NOOP_PROGRAM = """
import pulumi
from noop_provider import NoOp

config = pulumi.Config("bench")
version = config.require("secretVersion")
for i in range(config.require_int("count")):
    hook = NoOp(f"h{i:04}", {"payload_url": f"https://shop.example.com/mypos/{i}", "is_active": True,
                            "secret": pulumi.Output.secret(f"bench-v{version}-{i:04}")})
    NoOp(f"h{i:04}-paid", {"webhook_id": hook.id, "event": "pos.payment.completed"})
"""


class PeakMemory:
    """Polls /proc for the dynamic-provider process (python -m pulumi.dynamic) and keeps its peak RSS."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.1):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    if b"pulumi.dynamic" not in (proc / "cmdline").read_bytes():
                        continue
                    status = (proc / "status").read_text()
                except OSError:
                    continue
                found = re.search(r"VmHWM:\s+(\d+) kB", status)
                if found:
                    self.peak_kb = max(self.peak_kb, int(found.group(1)))


def start_emulator(latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mypos_emulator",
            "--port",
            "0",
            "--quiet",
            "--latency",
            str(latency),
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret",
            DEMO_CLIENT_SECRET,
            "--client-id",
            FLOOR_ID,
            "--client-secret",
            FLOOR_SECRET,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    return process, line.strip().rsplit(" ", 1)[-1]


def state_file(deployment: Deployment) -> Path:
    return next(
        p for p in (deployment.backend_dir / ".pulumi" / "stacks").rglob("*.json") if not p.name.endswith(".bak")
    )


def run_noop(n: int) -> dict[str, float]:
    """Wall time of each step with the no-request resource (no emulator needed: it sends nothing)."""
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        deployment = new_deployment(
            Path(tmp), auth_url="http://127.0.0.1:9", client_id="unused", client_secret="unused", program=NOOP_PROGRAM
        )
        shutil.copy(ROOT / "bench" / "noop_provider.py", deployment.work_dir / "noop_provider.py")
        deployment.set_config("bench:count", str(n))
        deployment.set_config("bench:secretVersion", "1")
        for step in STEPS:
            if step == "update secrets":
                deployment.set_config("bench:secretVersion", "2")
            started = time.perf_counter()
            step_action(deployment, step)()
            walls[step] = round(time.perf_counter() - started, 2)
            print(f"{n:>5}    - {step:<15} no-request resource: {walls[step]} s", flush=True)
    return walls


def step_action(deployment: Deployment, step: str) -> Any:
    return {
        "first up": deployment.up,
        "no-op preview": deployment.preview,
        "no-op up": deployment.up,
        "refresh": deployment.refresh,
        "update secrets": deployment.up,
        "destroy": deployment.destroy,
    }[step]


def run_suite(
    n: int,
    latency: float,
    extra_env: dict[str, str] | None = None,
    note: str = "",
    *,
    steps: tuple[str, ...] = STEPS,
    variant: Variant = VARIANTS["file"],
    server: PostgresServer | None = None,
    repetition: int = 1,
    noop: dict[str, float] | None = None,
) -> list[Row]:
    process, url = start_emulator(latency)
    control = EmulatorControl(url)
    rows: list[Row] = []
    env = {**(extra_env or {}), **variant.env}
    database = f"bench_{variant.name.replace('-', '_')}_{n}_{repetition}"
    if variant.kind == "postgres":
        assert server is not None, "a PostgreSQL variant needs the server"
        env["PULUMI_BACKEND_URL"] = server.new_database(database, variant)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            deployment = new_deployment(
                Path(tmp),
                auth_url=url,
                client_id=DEMO_CLIENT_ID,
                client_secret=DEMO_CLIENT_SECRET,
                program=PROGRAM,
                extra_env=env,
            )
            deployment.set_config("bench:count", str(n))
            deployment.set_config("bench:secretVersion", "1")
            floor = FloorClient(url, FLOOR_ID, FLOOR_SECRET)
            floor.prepare()
            state_bytes, blob = 0.0, 0
            for step in steps:
                if step == "update secrets":
                    deployment.set_config("bench:secretVersion", "2")
                control.clear_requests()
                wal_before = server.wal_bytes() if server and variant.kind == "postgres" else 0
                with PeakMemory() as memory:
                    started = time.perf_counter()
                    step_action(deployment, step)()
                    wall = time.perf_counter() - started
                wal = server.wal_bytes() - wal_before if server and variant.kind == "postgres" else 0
                routes = Counter(f"{r['method']} {route_of(r['path'])}" for r in control.requests())
                floor_s = replay(floor, routes) if routes else 0.0
                if step == "first up" and variant.kind == "postgres" and server:
                    state_bytes = server.state_bytes(database) / (2 * n)
                elif step == "first up" and not variant.env:
                    state = state_file(deployment)
                    state_bytes = state.stat().st_size / (2 * n)
                    blob = max(len(m) for m in re.findall(r'"__provider":\s*"([^"]+)"', state.read_text()))
                rows.append(
                    Row(
                        n=n,
                        latency_ms=round(latency * 1000),
                        step=step,
                        requests=sum(routes.values()),
                        minimum=minimum(step, n),
                        token_requests=routes["POST /oauth/token"],
                        wall_s=round(wall, 2),
                        floor_s=round(floor_s, 2),
                        ratio=round(wall / floor_s, 2) if floor_s else 0.0,
                        per_resource_ms=round(1000 * wall / (2 * n), 2),
                        provider_peak_mb=round(memory.peak_kb / 1024, 1),
                        state_bytes_per_resource=round(state_bytes),
                        provider_blob_bytes=blob,
                        detail="; ".join(f"{k} x{v}" for k, v in sorted(routes.items())),
                        note=note,
                        backend=variant.name,
                        wal_mb=round(wal / 2**20, 1),
                        round=repetition,
                        noop_s=(noop or {}).get(step, 0.0),
                        vs_noop=round(wall / noop[step], 2) if noop and noop.get(step) else 0.0,
                    )
                )
                print(format_row(rows[-1]), flush=True)
    finally:
        process.terminate()
        process.wait()
    return rows


HEADER = (
    f"{'N':>5} {'lat':>4} {'step':<15} {'requests':>9} {'min':>5} {'tok':>4} {'wall s':>7} {'floor s':>7} "
    f"{'ratio':>6} {'noop s':>7} {'x noop':>6} {'ms/res':>7} {'peak MB':>8}  detail"
)


def format_row(row: Row) -> str:
    return (
        f"{row.n:>5} {row.latency_ms:>4} {row.step:<15} {row.requests:>9} {row.minimum:>5} "
        f"{row.token_requests:>4} {row.wall_s:>7} {row.floor_s:>7} {row.ratio:>6} {row.noop_s:>7} {row.vs_noop:>6} "
        f"{row.per_resource_ms:>7} "
        f"{row.provider_peak_mb:>8}  {row.detail}{'  [' + row.note + ']' if row.note else ''}"
        f"{backend_label(row)}"
    )


def backend_label(row: Row) -> str:
    if row.backend == "file" and not row.wal_mb:
        return ""
    return f"  {{{row.backend}{f', WAL {row.wal_mb} MB' if row.wal_mb else ''}}}"


FIELDS = [f.name for f in Row.__dataclass_fields__.values()]


def append_csv(rows: list[Row], path: Path) -> None:
    """Rows are written as each suite ends, so an interrupted benchmark keeps what it measured."""
    if path.exists() and path.read_text().split("\n", 1)[0] != ",".join(FIELDS):
        # Written before a column was added: rewrite it with today's header (missing columns take defaults).
        earlier = read_csv(path)
        path.unlink()
        append_csv(earlier, path)
    write_rows(rows, path, FIELDS)


def write_rows(rows: Sequence[Any], path: Path, fields: Sequence[str]) -> None:
    """Appends dataclass rows to a CSV file, with a header line when the file is new."""
    new = not path.exists()
    with path.open("a", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def read_csv(path: Path) -> list[Row]:
    with path.open(newline="") as source:
        return [
            Row(**{k: type_of(k)(v) for k, v in record.items() if k in FIELDS and v is not None})
            for record in csv.DictReader(source)
        ]


def type_of(name: str) -> type:
    return {
        "n": int,
        "latency_ms": int,
        "requests": int,
        "minimum": int,
        "token_requests": int,
        "provider_blob_bytes": int,
        "step": str,
        "detail": str,
        "note": str,
        "backend": str,
        "round": int,
    }.get(name, float)


def plot(rows: list[Row], latency_ms: int, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: `venv/bin/pip install -r bench/requirements.txt` to draw the plot")
        return
    comparison = [r for r in rows if r.note == BACKEND_NOTE]
    figure, axes = plt.subplots(1, 2 if comparison else 1, figsize=(17 if comparison else 9, 6), squeeze=False)
    axis = axes[0][0]
    for index, step in enumerate(s for s in STEPS if "no-op" not in s):
        points = sorted(
            (r.n, r.wall_s, r.floor_s) for r in rows if r.step == step and r.latency_ms == latency_ms and not r.note
        )
        if not points:
            continue
        color = f"C{index}"
        axis.plot([p[0] for p in points], [p[1] for p in points], "o-", color=color, label=f"{step} (mypos-pulumi)")
        axis.plot([p[0] for p in points], [p[2] for p in points], "x--", color=color, label=f"{step} (raw floor)")
        noop = sorted(
            (r.n, r.noop_s) for r in rows if r.step == step and r.latency_ms == latency_ms and not r.note and r.noop_s
        )
        if noop:
            axis.plot(
                [p[0] for p in noop], [p[1] for p in noop], "s:", color=color, label=f"{step} (no-request resource)"
            )
    skipped = [r for r in rows if r.note == "PULUMI_SKIP_CHECKPOINTS" and r.step == "first up"]
    if skipped:
        axis.plot(
            [r.n for r in skipped],
            [r.wall_s for r in skipped],
            "*",
            color="black",
            markersize=12,
            label="first up, no checkpoints (PULUMI_SKIP_CHECKPOINTS, 0 ms)",
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("webhooks (each with one subscription)")
    axis.set_ylabel("wall time, seconds")
    axis.set_title(
        f"mypos-pulumi through the real engine vs a raw 4-thread client and a no-request resource, {latency_ms} ms",
        fontsize=9,
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    if comparison:
        plot_backends(axes[0][1], comparison)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_backends(axis: Any, rows: list[Row]) -> None:
    """Grouped bars: wall time of each step and N, one bar per state backend variant."""
    groups = sorted({(r.n, r.step) for r in rows}, key=lambda g: (g[0], BACKEND_STEPS.index(g[1])))
    variants = list(dict.fromkeys(r.backend for r in rows))
    width = 0.8 / len(variants)
    wall = median_walls(rows)
    for index, variant in enumerate(variants):
        xs = [g + index * width for g in range(len(groups))]
        axis.bar(xs, [wall.get((n, step, variant), 0) for n, step in groups], width, label=variant, color=f"C{index}")
    axis.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
    axis.set_xticklabels([f"{step}\nN = {n}" for n, step in groups], fontsize=8)
    axis.set_yscale("log")
    axis.set_ylabel("wall time, seconds")
    latency = rows[0].latency_ms
    rounds = max(r.round for r in rows)
    axis.set_title(f"state backends (DIY file:// and postgres://), {latency} ms latency, median of {rounds} round(s)")
    axis.grid(True, axis="y", which="both", alpha=0.3)
    axis.legend(fontsize=8)


def compare_backends(
    variants: list[Variant], sizes: list[int], latency: float, repeat: int, results: Path
) -> list[Row]:
    """Every variant at every N in one run and one PostgreSQL server. Rounds repeat the whole set, variants
    interleaved, so a burst of load on a shared machine hits one sample of each rather than one variant."""
    measured: list[Row] = []
    with postgres_server() as server:
        for repetition in range(1, repeat + 1):
            for n in sizes:
                for variant in variants:
                    rows = run_suite(
                        n,
                        latency,
                        steps=BACKEND_STEPS,
                        note=BACKEND_NOTE,
                        variant=variant,
                        server=server,
                        repetition=repetition,
                    )
                    append_csv(rows, results)
                    measured += rows
    return measured


def median_walls(rows: list[Row]) -> dict[tuple[int, str, str], float]:
    """(N, step, backend) -> median wall time over the rounds."""
    samples: dict[tuple[int, str, str], list[float]] = {}
    for row in rows:
        samples.setdefault((row.n, row.step, row.backend), []).append(row.wall_s)
    return {key: statistics.median(values) for key, values in samples.items()}


def backend_ratios(rows: list[Row]) -> str:
    """Markdown: median wall time of each variant and its ratio to the file backend, per N and step."""
    medians = median_walls(rows)
    variants = list(dict.fromkeys(r.backend for r in rows))
    rounds = max(r.round for r in rows)
    lines = [
        f"Median of {rounds} round(s); ratio = variant / file backend, same N and step.",
        "",
        "| N | step | " + " | ".join(variants) + " |",
        "|---|---|" + "---|" * len(variants),
    ]
    for n in sorted({r.n for r in rows}):
        for step in BACKEND_STEPS:
            base = medians.get((n, step, "file"))
            cells = []
            for variant in variants:
                wall = medians.get((n, step, variant))
                ratio = f" ({wall / base:.2f}x)" if wall and base and variant != "file" else ""
                cells.append(f"{wall:.2f} s{ratio}" if wall is not None else "")
            lines.append(f"| {n} | {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated N (default 10,100,1000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request (default 0.05)")
    parser.add_argument(
        "--target-latency",
        type=float,
        default=0.1,
        help="latency of the extra N=100 run for the 1.5x-floor target (default 0.1; 0 skips)",
    )
    parser.add_argument("--no-zero-latency", action="store_true", help="skip the 0 ms runs (engine overhead)")
    parser.add_argument(
        "--skip-checkpoints-at",
        type=int,
        default=1000,
        help="also run this N with PULUMI_SKIP_CHECKPOINTS=true, to show what the file "
        "backend's per-step checkpoint costs (0 skips)",
    )
    parser.add_argument("--zero-latency-sizes", default=None, help="N for the 0 ms runs (default: --sizes)")
    parser.add_argument(
        "--backends",
        default="file,postgres",
        help="state backends to compare on first up, no-op preview and destroy (names in bench/backends.py; "
        f"default file,postgres; 'none' skips): {', '.join(VARIANTS)}",
    )
    parser.add_argument("--backend-sizes", default="10,100", help="N for the backend comparison (default 10,100)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the backend comparison (default 1)")
    parser.add_argument(
        "--only-backends", action="store_true", help="run only the backend comparison (with --append: keep the rest)"
    )
    parser.add_argument("--append", action="store_true", help="add to results.csv instead of starting it anew")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot-only", action="store_true", help="redraw the plot from results.csv")
    args = parser.parse_args()
    if args.plot_only:
        plot(read_csv(args.out / "results.csv"), round(args.latency * 1000), args.out / "time_per_step.png")
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    zero_sizes = sizes if args.zero_latency_sizes is None else [int(s) for s in args.zero_latency_sizes.split(",") if s]
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    if not args.append:
        results.unlink(missing_ok=True)

    print(HEADER)
    if args.only_backends:
        sizes, zero_sizes, args.target_latency, args.skip_checkpoints_at = [], [], 0, 0
    suites: list[tuple[int, float, dict[str, str] | None, str]] = [(n, args.latency, None, "") for n in sizes]
    if not args.no_zero_latency:
        suites += [(n, 0.0, None, "") for n in zero_sizes]
    if args.target_latency:
        suites.append((100, args.target_latency, None, ""))
    if args.skip_checkpoints_at:
        suites.append((args.skip_checkpoints_at, 0.0, {"PULUMI_SKIP_CHECKPOINTS": "true"}, "PULUMI_SKIP_CHECKPOINTS"))
    # The no-request resource sends nothing, so its time depends on N only: measured once per N of this run.
    noop = {n: run_noop(n) for n in sorted({n for n, _, env, _ in suites if not env})}
    for n, latency, env, note in suites:
        append_csv(run_suite(n, latency, env, note, noop=None if env else noop[n]), results)
    variants = [VARIANTS[name] for name in args.backends.split(",") if name and name != "none"]
    if variants:
        sizes = [int(s) for s in args.backend_sizes.split(",") if s]
        compared = compare_backends(variants, sizes, args.latency, args.repeat, results)
        summary = backend_ratios(compared)
        (args.out / "backends.md").write_text(summary + "\n")
        print("\n" + summary)
    plot(read_csv(results), round(args.latency * 1000), args.out / "time_per_step.png")
    print(f"\nwrote {results} and {args.out / 'time_per_step.png'}")


if __name__ == "__main__":
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    main()
