"""`python -m mypos_provider.emulator`: one ready line, real serving, clean shutdown, loud bad state files."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mypos_provider.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"^mypos emulator listening on (http://127\.0\.0\.1:(\d+))\n$")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mypos_provider.emulator", "--port", "0", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )


def read_line(process: subprocess.Popen[str], timeout: float = 5) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no line on stdout within {timeout} s")
    return process.stdout.readline()


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = spawn("--quiet")
    line = read_line(process)
    match = READY_LINE.match(line)
    assert match, line
    yield process, match.group(1)
    if process.poll() is None:
        process.kill()
        process.wait()


def test_prints_exactly_one_ready_line_with_the_real_port(running: tuple[subprocess.Popen[str], str]) -> None:
    process, url = running

    assert int(url.rsplit(":", 1)[1]) > 0
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=5)
    assert rest == ""


def test_serves_the_demo_account_on_the_printed_url(running: tuple[subprocess.Popen[str], str]) -> None:
    _, url = running

    answer = requests.post(
        f"{url}/oauth/token",
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )

    assert answer.status_code == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_sigterm_and_ctrl_c(running: tuple[subprocess.Popen[str], str], signum: int) -> None:
    process, _ = running

    process.send_signal(signum)
    _, stderr = process.communicate(timeout=5)

    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_help_prints_the_demo_credentials() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypos_provider.emulator", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 0
    assert DEMO_CLIENT_ID in result.stdout and DEMO_CLIENT_SECRET in result.stdout


def test_client_id_flags_replace_the_demo_account() -> None:
    process = spawn("--quiet", "--client-id", "MINE", "--client-secret", "SECRET")
    try:
        url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
        form = {"grant_type": "client_credentials"}
        mine = requests.post(f"{url}/oauth/token", auth=("MINE", "SECRET"), data=form, timeout=5)
        demo = requests.post(f"{url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=form, timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=5)

    assert (mine.status_code, demo.status_code) == (200, 401)


def test_setting_flags_apply(tmp_path: Path) -> None:
    process = spawn("--quiet", "--token-lifetime", "60", "--event-naming", "eu", "--body-style", "python-default")
    try:
        url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
        settings = requests.get(f"{url}/_emulator/settings", timeout=5).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=5)

    applied = (settings["token_lifetime"], settings["event_naming"], settings["body_style"])
    assert applied == (60, "eu", "python-default")


def test_sigterm_flushes_the_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    process = spawn("--quiet", "--state-file", str(state_file))
    url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
    requests.post(f"{url}/_emulator/accounts", json={"client_id": "ADDED", "client_secret": "S"}, timeout=5)

    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=5)

    assert "ADDED" in json.loads(state_file.read_text())["accounts"]


def test_corrupt_state_file_exits_2_with_one_line_naming_the_file(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text("{definitely not json")

    result = subprocess.run(
        [sys.executable, "-m", "mypos_provider.emulator", "--port", "0", "--state-file", str(state_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert str(state_file) in result.stderr
    assert state_file.read_text() == "{definitely not json"


def test_logs_requests_to_stderr_unless_quiet() -> None:
    process = spawn()
    try:
        url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
        requests.get(f"{url}/v1/events", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=5)

    assert "/v1/events" in stderr
