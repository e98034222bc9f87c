"""`python -m mypos_provider emit EVENT --webhook-id ID` (and `--url`) as a receiver developer runs it: a webhook
made through the API, no stack, no pulumi CLI (a `pulumi` on PATH that would record any call), credentials from
the usual chain (MYPOS_* variables, or the project's .env); a sample with fields of one's choosing, every bad
option refused in one line before any request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.accounts import Account
from harness.emulator import EmulatorControl
from harness.outofband import OutOfBand
from harness.receiver import example_receiver
from mypos_emulator import Emulator

SECRET = "emit-command-secret-0123456789ab"
EVENT = "pos.payment.completed"


@pytest.fixture
def receiver() -> Iterator[Any]:
    with example_receiver().ReceiverServer(SECRET) as server:
        yield server


@pytest.fixture
def no_pulumi(tmp_path: Path) -> tuple[str, Path]:
    """A PATH whose only `pulumi` records that it was called, and the file it would write."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    called = tmp_path / "pulumi-was-called"
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/bin/sh\ntouch {called}\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    return f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", called


def settings_env(emulator: Emulator, account: Account, path: str) -> dict[str, str]:
    base = {name: value for name, value in os.environ.items() if not name.startswith("MYPOS_")}
    return {
        **base,
        "PATH": path,
        "MYPOS_CLIENT_ID": account.client_id,
        "MYPOS_CLIENT_SECRET": account.client_secret,
        "MYPOS_AUTH_URL": emulator.url,
        "MYPOS_API_URL": emulator.api_url,
        "MYPOS_DOTENV": "/nonexistent",
    }


def run_emit(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypos_provider", "emit", *args, "--wait", "1"]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def hook(outofband: OutOfBand, control: EmulatorControl, receiver: Any) -> dict[str, Any]:
    """A webhook made through the API, subscribed to payments on two terminals; retries off."""
    control.ok("PUT", "/settings", json={"delivery_retry_delays": []})
    created = outofband.create_webhook(f"{receiver.url}/mypos", SECRET)
    outofband.subscribe(created["id"], EVENT, ["90004889", "90004890"])
    return created


def test_emit_to_a_webhook_by_id_needs_no_stack_and_no_pulumi_cli(
    emulator: Emulator, account: Account, hook: dict[str, Any], receiver: Any, no_pulumi: tuple[str, Path]
) -> None:
    path, called = no_pulumi

    done = run_emit(settings_env(emulator, account, path), EVENT, "--webhook-id", hook["id"])

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"  delivered  webhook {hook['id']} ({receiver.url}/mypos): HTTP 200\n"
    assert [delivery.event for delivery in receiver.accepted] == [EVENT]
    assert not called.exists()


def test_emit_by_url_reaches_every_webhook_of_the_account_at_that_url(
    emulator: Emulator, account: Account, outofband: OutOfBand, hook: dict[str, Any], receiver: Any
) -> None:
    twin = outofband.create_webhook(f"{receiver.url}/mypos", SECRET)
    outofband.subscribe(twin["id"], EVENT)
    other = outofband.create_webhook(f"{receiver.url}/elsewhere", SECRET)
    outofband.subscribe(other["id"], EVENT)

    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--url", f"{receiver.url}/mypos")

    assert done.returncode == 0, done.stderr
    assert sorted(line.split()[2] for line in done.stdout.splitlines()) == sorted([hook["id"], twin["id"]])
    assert len(receiver.accepted) == 2


def test_the_settings_come_from_the_projects_dotenv_too(
    emulator: Emulator, account: Account, hook: dict[str, Any], receiver: Any, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: receiver\nruntime: python\n", encoding="utf-8")
    (project / ".env").write_text(
        f"MYPOS_CLIENT_ID={account.client_id}\nMYPOS_CLIENT_SECRET={account.client_secret}\n"
        f"MYPOS_AUTH_URL={emulator.url}\nMYPOS_API_URL={emulator.api_url}\n",
        encoding="utf-8",
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("MYPOS_")}

    done = run_emit(env, EVENT, "--webhook-id", hook["id"], cwd=project)

    assert done.returncode == 0, done.stderr
    assert f"note: settings read from {project / '.env'}" in done.stderr
    assert account.client_secret not in done.stdout + done.stderr


def test_set_and_terminal_id_shape_the_sample_the_receiver_gets(
    emulator: Emulator, account: Account, hook: dict[str, Any], receiver: Any
) -> None:
    env = settings_env(emulator, account, os.environ["PATH"])

    done = run_emit(
        env, EVENT, "--webhook-id", hook["id"], "--set", "data.amount=12.50", "--set", "id=evt-cli-1",
        "--terminal-id", "90004890",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    (delivery,) = receiver.accepted
    assert (delivery.payload["data"]["amount"], delivery.payload["data"]["terminal_id"]) == ("12.50", "90004890")
    assert delivery.idempotency_key == f"id:{EVENT}:evt-cli-1"


def test_a_failed_sample_is_reported_with_the_emulators_reason_at_once(
    emulator: Emulator, account: Account, outofband: OutOfBand, control: EmulatorControl
) -> None:
    control.ok("PUT", "/settings", json={"delivery_retry_delays": []})
    closed = outofband.create_webhook("http://127.0.0.1:9/closed", SECRET)
    outofband.subscribe(closed["id"], EVENT)

    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--webhook-id", closed["id"],
                    "--set", "data.amount=1.00")  # fmt: skip

    assert done.returncode == 1
    assert (
        f"FAILED     webhook {closed['id']} (http://127.0.0.1:9/closed): no answer: connection refused" in done.stdout
    )


def requests_of(control: EmulatorControl, account: Account) -> list[dict[str, Any]]:
    return [entry for entry in control.requests() if entry["account"] == account.client_id]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--set", "data.ammount=12.50"], "error: --set data.ammount: the pos.payment.completed sample has no field"),
        (["--set", "data.amount"], "error: --set 'data.amount': write it as --set PATH=VALUE"),
        (["--terminal-id", "90004889", "--set", "data=flat"], "error: --set data=flat: data takes an object"),
    ],
    ids=["unknown-field", "no-value", "not-json"],
)
def test_a_bad_setting_is_one_line_naming_it_before_any_request(
    emulator: Emulator, account: Account, control: EmulatorControl, hook: dict[str, Any], options: list[str], said: str
) -> None:
    control.clear_requests()

    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--webhook-id", hook["id"], *options)

    assert done.returncode == 1
    assert done.stderr.startswith(said) and len(done.stderr.splitlines()) == 1
    assert requests_of(control, account) == []


def test_a_terminal_the_subscription_filters_out_is_refused_before_the_sample_is_sent(
    emulator: Emulator, account: Account, control: EmulatorControl, hook: dict[str, Any], receiver: Any
) -> None:
    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--webhook-id", hook["id"],
                    "--terminal-id", "11111111")  # fmt: skip

    assert done.returncode == 1
    assert "terminal 11111111 would never reach" in done.stderr and "90004889, 90004890" in done.stderr
    assert receiver.accepted == [] and control.ok("GET", "/deliveries")["deliveries"] == []


def test_choosing_a_sample_for_mypos_itself_is_refused_before_any_request(account: Account, tmp_path: Path) -> None:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("MYPOS_")},
        "MYPOS_CLIENT_ID": account.client_id,
        "MYPOS_CLIENT_SECRET": account.client_secret,
        "MYPOS_ENVIRONMENT": "sandbox",
        "MYPOS_DOTENV": str(tmp_path / "none.env"),
    }

    done = run_emit(env, EVENT, "--webhook-id", "any", "--set", "data.amount=1.00")

    assert done.returncode == 1
    assert "only the emulator can send: myPOS's sample call" in done.stderr
    assert "https://sandbox-webhook-api.mypos.com/v1" in done.stderr


def test_an_unknown_webhook_id_says_where_the_webhooks_are_listed(
    emulator: Emulator, account: Account, hook: dict[str, Any]
) -> None:
    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--webhook-id", "no-such-webhook")

    assert done.returncode == 1
    assert done.stderr == (
        "error: the account has no webhook no-such-webhook: `python -m mypos_provider list` shows its webhooks\n"
    )


def test_a_webhook_not_subscribed_to_the_event_names_what_it_subscribes_to(
    emulator: Emulator, account: Account, hook: dict[str, Any]
) -> None:
    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), "pos.payment.cancelled", "--webhook-id",
                    hook["id"])  # fmt: skip

    assert done.returncode == 1
    assert f"does not subscribe to pos.payment.cancelled; it subscribes to {EVENT}" in done.stderr


def test_an_unknown_url_suggests_the_closest_webhook_url(
    emulator: Emulator, account: Account, hook: dict[str, Any], receiver: Any
) -> None:
    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--url", f"{receiver.url}/mypo")

    assert done.returncode == 1
    assert f"did you mean {receiver.url}/mypos?" in done.stderr


def test_a_webhook_id_and_a_url_together_are_refused(emulator: Emulator, account: Account) -> None:
    done = run_emit(settings_env(emulator, account, os.environ["PATH"]), EVENT, "--webhook-id", "a", "--url", "b")

    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_the_help_previews_the_samples_marked_invented() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypos_provider", "emit", "--help"], capture_output=True, text=True, timeout=60
    )

    assert "--webhook-id ID" in done.stdout and "--set PATH=VALUE" in done.stdout
    assert "sample payloads, invented by the emulator (myPOS documents none" in done.stdout
    preview = done.stdout.split("  account.out-bank-transfer.approved\n", 1)[1].split("\n\n", 1)[0]
    sample = json.loads(" ".join(line.strip() for line in preview.splitlines()))  # wrapped at spaces only
    assert sample["event"] == "account.out-bank-transfer.approved"
