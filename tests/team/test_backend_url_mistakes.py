"""PULUMI_BACKEND_URL mistakes through the real commands, in a clone of the project: each is named in one line with
its fix, before the CLI (which would ask for a Pulumi Cloud token) is asked anything, and the password is in
no output; a clone without it (and without the demo's file backend) is told to set it. Which URLs are
mistakes is a rule of tests/unit/test_backend_url.py; this proves the wiring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.engine import TOOLS, copy_project

pytestmark = pytest.mark.engine

PASSWORD = "Pa55/w0rd?x#y"


@pytest.mark.parametrize(
    ("command", "url", "fix"),
    [
        ("deploy", f"postgresql://pulumi:{PASSWORD}@db.example.com:5432/pulumi", "spelled postgres://"),
        ("drift", f"postgres://pulumi:{PASSWORD}@db.example.com:5432/pulumi", "percent-encode them"),
        ("preview-report", f"postgres://pulumi:{PASSWORD}@db.example.com/pulumi?sslmode=require", "percent-encode"),
        ("deploy", None, "set PULUMI_BACKEND_URL"),  # a clone without the demo's .pulumi-state: a hint
    ],
    ids=["postgresql-scheme", "unescaped-password-drift", "unescaped-password-preview", "unset"],
)
def test_a_backend_url_mistake_is_named_with_its_fix_and_the_password_nowhere(tmp_path, command, url, fix):
    done = run_in_clone(tmp_path / "clone", command, url)

    assert done.returncode != 0
    assert fix in done.stderr, done.stdout + done.stderr
    if url is not None:  # refused before any pulumi call: one line
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert PASSWORD not in done.stdout + done.stderr and "Pa55" not in done.stdout + done.stderr


def run_in_clone(directory: Path, command: str, url: str | None) -> subprocess.CompletedProcess[str]:
    """`python -m mypos_provider COMMAND --stack sandbox` in a fresh clone, PULUMI_BACKEND_URL set to `url`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PULUMI_", "MYPOS_"))}
    env |= {
        "PULUMI_HOME": str(directory.parent / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_CONFIG_PASSPHRASE": "unused",
        "MYPOS_DOTENV": str(directory / "no.env"),
        "PATH": f"{TOOLS / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if url is not None:
        env["PULUMI_BACKEND_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "mypos_provider", command, "--stack", "sandbox"],
        cwd=copy_project(directory),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
