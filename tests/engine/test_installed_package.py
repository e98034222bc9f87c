"""Another Pulumi project that only pip-installs mypos-pulumi (its wheel, as a package index serves it) can deploy
and destroy its resources."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from harness.engine import ROOT
from harness.packaging import plugin_tarball, wheels_of

pytestmark = pytest.mark.engine

PROGRAM = """
import pulumi
from mypos_provider import Subscription, Webhook

hook = Webhook("orders",
    payload_url="https://shop.example.com/mypos/callback",
    secret=pulumi.Output.secret("installed-package-secret"),
    is_active=True)
paid = Subscription("orders-paid",
    webhook_id=hook.id,
    event="pos.payment.completed",
    terminal_ids=["90004889"])
pulumi.export("webhook_id", hook.id)
pulumi.export("subscription_id", paid.id)
"""

PROJECT = """name: merchant-infra
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
"""


def make_installed_project(directory: Path, wheels: Path) -> Path:
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(PROJECT)
    (directory / "__main__.py").write_text(PROGRAM)
    venv.create(directory / "venv", with_pip=False)  # this venv's pip installs into it (--python)
    # A plain (non-editable) install of the package's wheel and its dependencies' (scripts/build-plugin's,
    # built from this checkout), as any other project would do it from a package index.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(directory / "venv" / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # bytecode is written as the program imports it: only for what it uses
            "--no-index",
            "--find-links",
            str(wheels),
            "mypos-pulumi",
        ],
        check=True,
        timeout=600,
    )
    return directory


def test_a_project_that_pip_installs_the_package_deploys_and_destroys(
    tmp_path, tmp_path_factory, deploy, account, control
):
    project = make_installed_project(tmp_path / "merchant", wheels_of(plugin_tarball(tmp_path_factory), tmp_path))
    deployment = deploy(project_dir=project)

    up = deployment.up()

    webhook = control.live_webhooks(account.client_id)[0]
    subscription = control.live_subscriptions(account.client_id)[0]
    assert up.outputs["webhook_id"].value == webhook["id"]
    assert (subscription["id"], subscription["event"], subscription["filter"]) == (
        up.outputs["subscription_id"].value,
        "pos.payment.completed",
        {"tids": ["90004889"]},
    )
    installed = subprocess.run(
        [str(project / "venv" / "bin" / "python"), "-c", "import mypos_provider; print(mypos_provider.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(ROOT) not in installed  # the provider ran from the installed copy, not this checkout

    deployment.preview(expect_no_changes=True)
    deployment.destroy()
    assert control.live_webhooks(account.client_id) == []
