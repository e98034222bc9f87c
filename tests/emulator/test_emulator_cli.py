"""`python -m mypos_emulator`: the ready line first, real serving, clean shutdown, loud bad state files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"^mypos emulator listening on (http://127\.0\.0\.1:(\d+))\n$")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mypos_emulator", "--port", "0", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )


def read_line(process: subprocess.Popen[str], timeout: float = 5) -> str:
    """The next stdout line. A thread, not a selector: the text wrapper may already hold the line."""
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines:
        raise AssertionError(f"no line on stdout within {timeout} s")
    return lines[0]


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


def test_prints_the_ready_line_first_with_the_real_port_then_only_the_dashboard_line(
    running: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = running

    assert int(url.rsplit(":", 1)[1]) > 0
    assert read_line(process) == f"mypos emulator dashboard: {url}/_emulator/ui\n"
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


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ((sys.executable, "-m", "mypos_emulator"), "usage: python -m mypos_emulator "),
        ((sys.executable, "-m", "mypos_provider.emulator"), "usage: python -m mypos_provider.emulator "),
        ((str(Path(sys.executable).parent / "mypos-emulator"),), "usage: mypos-emulator "),
    ],
    ids=["mypos_emulator", "the old name from mypos-pulumi", "console script"],
)
def test_help_names_the_command_and_prints_the_demo_credentials(command: tuple[str, ...], usage: str) -> None:
    result = subprocess.run([*command, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)

    assert result.returncode == 0
    assert result.stdout.startswith(usage)
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
    process = spawn(
        "--quiet",
        *("--token-lifetime", "60", "--event-naming", "eu", "--body-style", "python-default"),
        *("--retries-after-resend", "stop"),
    )
    try:
        url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
        settings = requests.get(f"{url}/_emulator/settings", timeout=5).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=5)

    applied = (settings["token_lifetime"], settings["event_naming"], settings["body_style"])
    assert applied == (60, "eu", "python-default")
    assert settings["retries_after_resend"] == "stop"


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
        [sys.executable, "-m", "mypos_emulator", "--port", "0", "--state-file", str(state_file)],
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


# Keeping secrets off the command line, and a control token for addresses beyond loopback

CONTROL_TOKEN = "cli-control-token-0123456789abcdef"
ANY_READY_LINE = re.compile(r"^mypos emulator listening on http://[^:]+:(\d+)\n$")


def run_to_exit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypos_emulator", "--port", "0", "--quiet", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        env={**clean_environment(), **(env or {})},
    )


def clean_environment() -> dict[str, str]:
    names = ("MYPOS_EMULATOR_CONTROL_TOKEN", "MYPOS_EMULATOR_CLIENT_SECRET")
    return {name: value for name, value in os.environ.items() if name not in names}


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mypos_emulator", "--port", "0", "--quiet", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean_environment(), **(env or {})},
    )
    try:
        match = ANY_READY_LINE.match(read_line(process))
    except AssertionError:
        process.kill()
        process.communicate()
        raise
    if match is None:
        stop(process)
        raise AssertionError("no ready line")
    return process, int(match.group(1))


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=5)


def token_status(port: int, client_id: str, client_secret: str) -> int:
    form = {"grant_type": "client_credentials"}
    url = f"http://127.0.0.1:{port}/oauth/token"
    return requests.post(url, auth=(client_id, client_secret), data=form, timeout=5).status_code


def test_client_secret_file_gives_the_secret_without_showing_it_in_ps(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("FROM-A-FILE-SECRET\n")
    process, port = start("--client-id", "MINE", "--client-secret-file", str(secret_file))
    try:
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        status = token_status(port, "MINE", "FROM-A-FILE-SECRET")
    finally:
        stop(process)

    assert status == 200
    assert b"FROM-A-FILE-SECRET" not in command_line


def test_client_secret_from_the_environment_serves_the_one_account() -> None:
    process, port = start("--client-id", "MINE", env={"MYPOS_EMULATOR_CLIENT_SECRET": "FROM-THE-ENVIRONMENT"})
    try:
        status = token_status(port, "MINE", "FROM-THE-ENVIRONMENT")
    finally:
        stop(process)

    assert status == 200


def test_client_secret_flags_and_files_pair_with_client_ids_in_order(tmp_path: Path) -> None:
    secret_file = tmp_path / "b.secret"
    secret_file.write_text("SECRET-B")
    process, port = start(
        "--client-id", "A", "--client-secret", "SECRET-A", "--client-id", "B", "--client-secret-file", str(secret_file)
    )
    try:
        statuses = (token_status(port, "A", "SECRET-A"), token_status(port, "B", "SECRET-B"))
    finally:
        stop(process)

    assert statuses == (200, 200)


def test_a_client_id_without_any_secret_exits_2_naming_the_options() -> None:
    result = run_to_exit("--client-id", "MINE")

    assert result.returncode == 2
    assert "--client-secret-file" in result.stderr and "MYPOS_EMULATOR_CLIENT_SECRET" in result.stderr


def test_an_unreadable_client_secret_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_to_exit("--client-id", "MINE", "--client-secret-file", str(tmp_path / "missing"))

    assert result.returncode == 2
    assert "--client-secret-file" in result.stderr.splitlines()[-1]


def test_all_interfaces_without_a_control_token_exits_2_saying_how_to_give_one() -> None:
    result = run_to_exit("--host", "0.0.0.0")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "MYPOS_EMULATOR_CONTROL_TOKEN" in line and "--control-token-file" in line


def test_all_interfaces_with_a_control_token_from_the_environment_guard_the_control_plane() -> None:
    process, port = start("--host", "0.0.0.0", env={"MYPOS_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN})
    try:
        url = f"http://127.0.0.1:{port}/_emulator/health"
        without = requests.get(url, timeout=5).status_code
        with_token = requests.get(url, headers={"Authorization": f"Bearer {CONTROL_TOKEN}"}, timeout=5).status_code
    finally:
        stdout, stderr = stop(process)

    assert (without, with_token) == (401, 200)
    assert CONTROL_TOKEN not in stdout + stderr


def test_a_control_token_file_guards_the_control_plane(tmp_path: Path) -> None:
    token_file = tmp_path / "control-token"
    token_file.write_text(CONTROL_TOKEN + "\n")
    process, port = start("--control-token-file", str(token_file))
    try:
        status = requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=5).status_code
        dashboard_line = read_line(process)
    finally:
        stop(process)

    assert status == 401
    assert dashboard_line.startswith(f"mypos emulator dashboard: http://127.0.0.1:{port}/_emulator/ui?token=<control")


def test_a_short_control_token_exits_2_with_one_line() -> None:
    result = run_to_exit(env={"MYPOS_EMULATOR_CONTROL_TOKEN": "tinytok"})

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "at least 16" in line and "tinytok" not in line


def test_the_request_log_on_stderr_never_shows_the_token_given_to_the_dashboard() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mypos_emulator", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean_environment(), "MYPOS_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN},
    )
    try:
        url = READY_LINE.match(read_line(process)).group(1)  # type: ignore[union-attr]
        answer = requests.get(f"{url}/_emulator/ui?token={CONTROL_TOKEN}", allow_redirects=False, timeout=5)
    finally:
        _, stderr = stop(process)

    assert answer.status_code == 303
    assert "/_emulator/ui?token=<redacted>" in stderr and CONTROL_TOKEN not in stderr
