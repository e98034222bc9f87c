"""The GitHub Actions workflows: linted by actionlint (built by scripts/install-actionlint), and what they do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.engine import TOOLS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = TOOLS / "bin" / "actionlint"
STACKS = ["sandbox", "production"]


def load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps_running(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


@pytest.mark.parametrize("workflow", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflow_passes_actionlint_with_shellcheck(workflow):
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is missing at .tools/bin/actionlint: run scripts/install-actionlint", pytrace=False)
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is missing: scripts/install-actionlint installs it (or apt-get install shellcheck)")

    done = subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck", shellcheck, "-pyflakes", "", str(WORKFLOWS / workflow)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_every_workflow_is_linted():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["deploy.yml", "drift.yml", "preview.yml", "release.yml"]


def test_pull_requests_are_previewed_for_each_environment_in_one_comment():
    workflow = load("preview.yml")
    preview, comment = workflow["jobs"]["preview"], workflow["jobs"]["comment"]

    assert "pull_request" in workflow["on"]
    assert preview["strategy"]["matrix"]["stack"] == STACKS
    assert 'scripts/ci-preview "$STACK"' in steps_running(preview)
    assert comment["needs"] == "preview" and comment["if"].startswith("always()")
    script = steps_running(comment)
    assert "<!-- mypos-pulumi:preview -->" in script
    assert "-X PATCH" in script and "-X POST" in script, "one comment: updated when found, created otherwise"


def test_merges_deploy_sandbox_then_production_behind_its_protected_environment():
    workflow = load("deploy.yml")
    sandbox, production = workflow["jobs"]["sandbox"], workflow["jobs"]["production"]

    assert workflow["on"]["push"]["branches"] == ["main"]
    assert sandbox["environment"] == "sandbox" and "scripts/ci-deploy sandbox" in steps_running(sandbox)
    assert production["needs"] == "sandbox"
    assert production["environment"] == "production"
    assert "scripts/ci-deploy production" in steps_running(production)
    assert workflow["concurrency"]["cancel-in-progress"] is False, "a cancelled up leaves a lock behind"


def test_drift_is_checked_on_a_schedule_for_each_environment():
    workflow = load("drift.yml")
    drift = workflow["jobs"]["drift"]

    assert workflow["on"]["schedule"]
    assert drift["strategy"]["matrix"]["stack"] == STACKS
    assert 'scripts/drift-check "$STACK"' in steps_running(drift)
    assert "gh issue create" in steps_running(drift) and "gh issue edit" in steps_running(drift)


@pytest.mark.parametrize("workflow", ["preview.yml", "deploy.yml", "drift.yml"])
def test_credentials_come_from_the_ci_secret_store(workflow):
    jobs = load(workflow)["jobs"]
    for name, job in jobs.items():
        for key, value in (job.get("env") or {}).items():
            if key in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "MYPOS_CLIENT_SECRET"):
                assert "secrets." in str(value), f"{workflow} job {name}: {key} must come from secrets"
    text = (WORKFLOWS / workflow).read_text()
    assert "postgres://" not in text, "a database URL holds a password: it belongs in the secret store"


@pytest.mark.parametrize("workflow", ["preview.yml", "deploy.yml", "drift.yml"])
def test_every_workflow_writes_the_state_compressed(workflow):
    assert load(workflow)["env"]["PULUMI_DIY_BACKEND_ZSTD"] == "true", "as docs/team.md advises"


# ---- the release ---------------------------------------------------------------------------------------


def test_a_version_tag_releases_and_a_tag_unlike_the_package_version_is_refused():
    workflow = load("release.yml")

    assert workflow["on"]["push"]["tags"] == ["v*"]
    assert "mypos_provider/__init__.py" in steps_running(workflow["jobs"]["version"])
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_plugin_is_built_for_linux_darwin_and_windows_on_amd64_and_arm64_on_matching_runners():
    jobs = load("release.yml")["jobs"]
    platforms = {(p["os"], p["arch"]) for p in jobs["plugin"]["strategy"]["matrix"]["include"]}

    assert platforms | {("linux", "amd64")} == {
        (o, a) for o in ("linux", "darwin", "windows") for a in ("amd64", "arm64")
    }
    assert "scripts/dist --plugin-only" in steps_running(jobs["plugin"])
    assert "scripts/dist dist" in steps_running(jobs["linux"]), "the linux job builds linux-amd64 with the rest"


def test_the_linux_job_runs_the_artifact_tests_with_the_scripts_the_tests_run():
    linux = load("release.yml")["jobs"]["linux"]

    assert "scripts/test tests/unit/test_versions.py tests/engine/test_releases.py" in steps_running(linux)


def test_the_sdks_are_published_only_after_the_github_release_they_download_the_plugin_from():
    jobs = load("release.yml")["jobs"]

    assert set(jobs["github"]["needs"]) == {"version", "plugin", "linux"}
    assert "release_files.py checksums assets" in steps_running(jobs["github"]), "one SHA256SUMS over every asset"
    for publisher in ("pypi", "npm", "go"):
        needs = jobs[publisher]["needs"]
        assert "github" in ([needs] if isinstance(needs, str) else needs), publisher


def test_each_publisher_gets_only_the_permission_it_needs():
    jobs = load("release.yml")["jobs"]

    assert load("release.yml")["permissions"] == {"contents": "read"}
    assert jobs["github"]["permissions"] == {"contents": "write"}
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}, "PyPI trusted publishing, no token"
    assert jobs["npm"]["permissions"]["id-token"] == "write", "npm provenance"
    assert "--provenance" in steps_running(jobs["npm"])
    assert jobs["go"]["permissions"] == {"contents": "write"}
    assert 'git tag "sdk/go/mypos/$VERSION"' in steps_running(jobs["go"])
