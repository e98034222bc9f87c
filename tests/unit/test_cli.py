"""`python -m mypos_provider list`: what an account holds, and code that adopts it, secrets masked."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

SECRET = "listed-secret-value-0001"


@pytest.fixture
def populated(outofband):
    hook = outofband.create_webhook("https://shop.example.com/mypos/orders", SECRET)
    outofband.subscribe(hook["id"], "pos.payment.completed", ["90004889"])
    outofband.subscribe(hook["id"], "pos.payment.cancelled")
    return hook


def run_list(emulator, account, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MYPOS_CLIENT_ID": account.client_id,
        "MYPOS_CLIENT_SECRET": account.client_secret,
        "MYPOS_AUTH_URL": emulator.url,
        "MYPOS_API_URL": emulator.api_url,
        "MYPOS_DOTENV": "/nonexistent",
    }
    return subprocess.run(
        [sys.executable, "-m", "mypos_provider", "list", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_python_output_is_valid_code_adopting_every_object(emulator, account, populated):
    out = run_list(emulator, account).stdout

    tree = ast.parse(out)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("Webhook", "Subscription")
    ]
    adopt_ids = [kw.value.value for c in calls for kw in c.keywords if kw.arg == "adopt_id"]
    assert [c.func.id for c in calls] == ["Webhook", "Subscription", "Subscription"]
    assert populated["id"] in adopt_ids and len(set(adopt_ids)) == 3
    assert "terminal_ids=['90004889']" in out


def test_secrets_are_masked_unless_asked_for(emulator, account, populated):
    assert SECRET not in run_list(emulator, account).stdout
    assert SECRET not in run_list(emulator, account, "--format", "yaml").stdout
    assert f"pulumi.Output.secret('{SECRET}')" in run_list(emulator, account, "--show-secrets").stdout


def test_yaml_output_is_stack_config_for_the_stack_program(emulator, account, populated):
    out = run_list(emulator, account, "--format", "yaml").stdout

    assert out.startswith("  mypos:webhooks:")
    assert f"adoptId: {populated['id']}" in out and 'terminalIds: ["90004889"]' in out


def test_json_output_lists_webhooks_with_their_subscriptions(emulator, account, populated):
    listed = json.loads(run_list(emulator, account, "--format", "json").stdout)["webhooks"]

    assert [w["id"] for w in listed] == [populated["id"]]
    assert sorted(s["event"] for s in listed[0]["subscriptions"]) == ["pos.payment.cancelled", "pos.payment.completed"]


def test_missing_credentials_are_one_line_naming_the_settings(emulator):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPOS_")} | {"MYPOS_DOTENV": "/nonexistent"}
    done = subprocess.run([sys.executable, "-m", "mypos_provider", "list"], env=env, capture_output=True, text=True)

    assert done.returncode == 1
    assert done.stderr.startswith("error: mypos:clientId is not set") and "Traceback" not in done.stderr


def list_in(directory, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypos_provider", "list"],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_in_a_foreign_directory_never_reads_its_dotenv(emulator, account, tmp_path):
    (tmp_path / ".env").write_text("MYPOS_AUTH_URL=http://127.0.0.1:9\nMYPOS_API_URL=http://127.0.0.1:9/v1\n")
    env = {
        **os.environ,
        "MYPOS_CLIENT_ID": account.client_id,
        "MYPOS_CLIENT_SECRET": account.client_secret,
        "MYPOS_AUTH_URL": emulator.url,
        "MYPOS_API_URL": emulator.api_url,
    }
    env.pop("MYPOS_DOTENV", None)

    done = list_in(tmp_path, env)

    assert done.returncode == 0, done.stderr
    assert "settings read from" not in done.stderr


def test_list_in_a_pulumi_project_names_the_dotenv_it_read(emulator, account, tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: merchant\nruntime: python\n")
    (tmp_path / ".env").write_text(
        f"MYPOS_CLIENT_ID={account.client_id}\nMYPOS_CLIENT_SECRET={account.client_secret}\n"
    )
    env = {**os.environ, "MYPOS_AUTH_URL": emulator.url, "MYPOS_API_URL": emulator.api_url}
    for name in ("MYPOS_DOTENV", "MYPOS_CLIENT_ID", "MYPOS_CLIENT_SECRET"):
        env.pop(name, None)

    done = list_in(tmp_path, env)

    assert done.returncode == 0, done.stderr
    assert f"note: settings read from {tmp_path / '.env'}" in done.stderr


def test_import_format_prints_a_pulumi_import_command_per_unmanaged_object(emulator, account, populated):
    out = run_list(emulator, account, "--format", "import").stdout

    commands = [line.split() for line in out.splitlines() if line.startswith("pulumi import")]
    assert [(c[2], c[4]) for c in commands][0] == ("mypos:index:Webhook", populated["id"])
    assert [c[2] for c in commands] == ["mypos:index:Webhook", "mypos:index:Subscription", "mypos:index:Subscription"]
    assert SECRET not in out


def test_the_python_output_points_to_the_import_commands(emulator, account, populated):
    assert "--format import` prints the `pulumi import` commands" in run_list(emulator, account).stdout
