"""Benchmark: the self-contained plugin of a release (scripts/dist's PyInstaller build) against the plugin as
a virtualenv runs it (the console script venv/bin/pulumi-resource-mypos), in one run.

    PATH=$PWD/.tools/bin:$PATH venv/bin/python bench/plugin.py                 # 15 starts, 3 ups of 40
    PATH=$PWD/.tools/bin:$PATH venv/bin/python bench/plugin.py --starts 5 --repeat 1 --dist dist

Two measures, each variant interleaved with the other round by round, medians quoted:

- start: `pulumi package get-schema PLUGIN`, the engine starting the plugin and reading its first answer;
  and the plugin alone, from its exec to the port line it prints for the engine;
- first up: a YAML program of N webhooks (default 40), the plugin named in `plugins.providers`, the emulator
  at `--latency` seconds (default 0.1), `--parallel 64`, on a fresh stack; then destroyed, untimed.

The release is built with scripts/dist into a temporary directory, unless `--dist` names one already built.
Results: bench/results/plugin.csv (every sample) and bench/results/plugin.md (the table). Goals (issue 26):
start at most 1.2x the venv plugin's, the first up equal.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from run import RESULTS, start_emulator  # noqa: E402

from harness.engine import PULUMI, new_deployment  # noqa: E402
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402

VARIANTS = ("self-contained", "venv")
VENV_PLUGIN = ROOT / "venv" / "bin" / "pulumi-resource-mypos"


@dataclass
class Sample:
    round: int
    measure: str  # "get-schema", "plugin start" or "first up of N"
    variant: str
    seconds: float


def unpacked_plugin(dist: Path | None, directory: Path) -> Path:
    """The release's plugin for this machine, unpacked: from `dist`, or from a scripts/dist run now."""
    if dist is None:
        dist = directory / "dist"
        subprocess.run([str(ROOT / "scripts" / "dist"), str(dist)], check=True)
    [tarball] = dist.glob("pulumi-resource-mypos-v*.tar.gz")
    shutil.unpack_archive(tarball, directory / "plugin")
    return directory / "plugin" / "pulumi-resource-mypos"


def time_get_schema(plugin: Path, home: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(PULUMI), "package", "get-schema", str(plugin)],
        check=True,
        capture_output=True,
        env={**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"},
    )
    return time.perf_counter() - started


def time_plugin_start(plugin: Path) -> float:
    """From exec to the port line: what the engine waits for before its first request."""
    started = time.perf_counter()
    process = subprocess.Popen([str(plugin), "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.kill()
    process.wait()
    return elapsed


def yaml_program(n: int, plugin_dir: Path) -> str:
    resources = "".join(
        f"  h{i:04}:\n    type: mypos:index:Webhook\n    properties:\n"
        f"      payloadUrl: https://shop.example.com/mypos/{i}\n      secret: bench-{i:04}\n"
        for i in range(n)
    )
    return (
        f"name: bench-plugin\nruntime: yaml\nplugins:\n  providers:\n    - name: mypos\n      path: {plugin_dir}\n"
        f"resources:\n{resources}"
    )


def time_first_up(plugin: Path, n: int, url: str, directory: Path) -> float:
    project = directory / "project"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(yaml_program(n, plugin.parent))
    deployment = new_deployment(
        directory, auth_url=url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, project_dir=project
    )
    started = time.perf_counter()
    outcome = deployment.up(parallel=64)
    elapsed = time.perf_counter() - started
    created = outcome.summary.resource_changes or {}
    assert created.get("create") == n + 1, f"the up reported {created}"
    deployment.destroy(parallel=64)
    return elapsed


def run(args: argparse.Namespace) -> list[Sample]:
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as tmp:
        plugins = {"self-contained": unpacked_plugin(args.dist, Path(tmp)), "venv": VENV_PLUGIN}
        for round_number in range(args.starts):
            for variant in VARIANTS if round_number % 2 == 0 else reversed(VARIANTS):
                home = Path(tmp) / f"home-{variant}"
                samples.append(Sample(round_number, "get-schema", variant, time_get_schema(plugins[variant], home)))
                samples.append(Sample(round_number, "plugin start", variant, time_plugin_start(plugins[variant])))
        emulator, url = start_emulator(args.latency)
        try:
            for round_number in range(args.repeat):
                for variant in VARIANTS if round_number % 2 == 0 else reversed(VARIANTS):
                    directory = Path(tmp) / f"up-{variant}-{round_number}"
                    seconds = time_first_up(plugins[variant], args.n, url, directory)
                    samples.append(Sample(round_number, f"first up of {args.n}", variant, seconds))
                    print(f"round {round_number} {variant}: first up {seconds:.2f} s", flush=True)
        finally:
            emulator.terminate()
            emulator.wait()
    return samples


def table(samples: Sequence[Sample], args: argparse.Namespace) -> str:
    measures = list(dict.fromkeys(s.measure for s in samples))
    lines = [
        f"# The self-contained plugin against the venv plugin (one run, {time.strftime('%Y-%m-%d')})",
        "",
        f"Medians of {args.starts} starts and {args.repeat} first ups (N = {args.n}, emulator latency "
        f"{args.latency} s, `--parallel 64`), the variants interleaved. Goals: start at most 1.2x, first up equal.",
        "",
        "| measure | self-contained | venv | ratio |",
        "|---|---|---|---|",
    ]
    for measure in measures:
        medians = {
            v: statistics.median(s.seconds for s in samples if s.measure == measure and s.variant == v)
            for v in VARIANTS
        }
        ratio = medians["self-contained"] / medians["venv"]
        lines.append(f"| {measure} | {medians['self-contained']:.3f} s | {medians['venv']:.3f} s | {ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--dist", type=Path, help="an already built dist/ (default: scripts/dist now)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not VENV_PLUGIN.exists():
        raise SystemExit("venv/bin/pulumi-resource-mypos is missing: run scripts/bootstrap-venv")
    samples = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "plugin.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)
    report = table(samples, args)
    (args.out / "plugin.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
