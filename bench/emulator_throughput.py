"""Requests per second the myPOS emulator sustains on loopback. Not a test.

    venv/bin/python bench/emulator_throughput.py [--seconds 3] [--mode subprocess|inprocess]

Measures start-up (in-process `Emulator().start()` to a first answer, and the command line to its
ready line), then GET /v1/webhooks (a full 20-item page) and POST /v1/webhooks (create) with 1 and 4
client threads, each thread on its own keep-alive requests.Session. `subprocess` (the default) runs
the emulator as `python -m mypos_emulator`, so clients and server do not share a GIL;
`inprocess` runs it in this interpreter, as pytest fixtures do.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator  # noqa: E402

READY_LINE = re.compile(r"listening on (http://\S+)")


@dataclass
class Result:
    scenario: str
    threads: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else float("nan")


@contextmanager
def emulator_url(mode: str) -> Iterator[str]:
    if mode == "inprocess":
        with Emulator() as emulator:
            yield emulator.url
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "mypos_emulator", "--port", "0", "--quiet"],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = READY_LINE.search(process.stdout.readline())
        assert match, "emulator did not print its ready line"
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def logged_in_session(url: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    answer = session.post(
        f"{url}/oauth/token",
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        data={"grant_type": "client_credentials", "scope": "webhooks"},
        timeout=10,
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def list_webhooks(session: requests.Session, url: str) -> requests.Response:
    return session.get(f"{url}/v1/webhooks", timeout=10)


def create_webhook(session: requests.Session, url: str) -> requests.Response:
    form = {"payload_url": "https://bench.example/h", "secret": "s"}
    return session.post(f"{url}/v1/webhooks", data=form, timeout=10)


Call = Callable[[requests.Session, str], requests.Response]


def run(url: str, name: str, call: Call, threads: int, seconds: float) -> Result:
    sessions = [logged_in_session(url) for _ in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start_gate = threading.Barrier(threads + 1)
    deadline = 0.0

    def client(index: int) -> None:
        start_gate.wait()
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            answer = call(sessions[index], url)
            latencies[index].append(time.perf_counter() - began)
            if answer.status_code != 200:
                errors[index] += 1

    workers = [threading.Thread(target=client, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    start_gate.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    flat = [value for per_thread in latencies for value in per_thread]
    return Result(name, threads, len(flat), sum(errors), elapsed, flat)


def startup_seconds(samples: int) -> tuple[float, float]:
    """Medians: in-process start() to a first answered request, and `python -m` to the ready line."""
    in_process, command_line = [], []
    for _ in range(samples):
        started = time.perf_counter()
        with Emulator() as emulator:
            requests.get(f"{emulator.url}/_emulator/health", timeout=10).raise_for_status()
            in_process.append(time.perf_counter() - started)
        started = time.perf_counter()
        with emulator_url("subprocess"):
            command_line.append(time.perf_counter() - started)
    return statistics.median(in_process), statistics.median(command_line)


def print_table(results: list[Result], mode: str) -> None:
    print(f"\nmyPOS emulator throughput ({mode}, loopback, {sys.version.split()[0]})")
    header = f"{'scenario':<22}{'threads':>8}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.scenario:<22}{result.threads:>8}{result.requests:>10}{result.per_second:>10.0f}"
            f"{result.percentile(0.5):>9.2f}{result.percentile(0.99):>9.2f}{result.errors:>8}"
        )
    medians = statistics.median(result.per_second for result in results)
    print(f"\nmedian across scenarios: {medians:.0f} req/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement (default 3)")
    parser.add_argument("--mode", choices=("subprocess", "inprocess"), default="subprocess")
    parser.add_argument("--startup-samples", type=int, default=10, help="start-ups to time (default 10)")
    args = parser.parse_args()
    in_process, command_line = startup_seconds(args.startup_samples)
    print(
        f"start-up (median of {args.startup_samples}): in-process {in_process * 1000:.0f} ms to a first answer, "
        f"command line {command_line * 1000:.0f} ms to the ready line"
    )
    results: list[Result] = []
    with emulator_url(args.mode) as url:
        seed = logged_in_session(url)
        for _ in range(20):  # a full first page, so list answers are realistically sized
            create_webhook(seed, url)
        for threads in (1, 4):
            results.append(run(url, "GET /v1/webhooks", list_webhooks, threads, args.seconds))
        for threads in (1, 4):
            results.append(run(url, "POST /v1/webhooks", create_webhook, threads, args.seconds))
    print_table(results, args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
