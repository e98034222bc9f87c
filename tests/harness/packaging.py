"""The package as users get it: scripts/build-plugin's tarball (the plugin launcher and the wheels of the
package and its dependencies), built once per session for every test and worker that needs it."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from harness.engine import ROOT
from harness.workers import computed_once, coordination_dir


def plugin_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/pulumi-resource-mypos-v<version>-<os>-<arch>.tar.gz, built by scripts/build-plugin."""

    def build() -> str:
        out = coordination_dir(tmp_path_factory) / "dist"
        built = subprocess.run(
            [str(ROOT / "scripts" / "build-plugin"), str(out)], capture_output=True, text=True, timeout=600
        )
        assert built.returncode == 0, built.stderr
        return built.stdout.strip()

    return Path(computed_once(tmp_path_factory, "plugin-tarball", build))


def wheels_of(tarball: Path, directory: Path) -> Path:
    """The tarball's wheels (the package and every dependency) unpacked into `directory`."""
    with tarfile.open(tarball) as archive:
        archive.extractall(directory, members=[m for m in archive.getmembers() if m.name.startswith("wheels")])
    return directory / "wheels"


def python_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of wheels standing in for PyPI (`PIP_NO_INDEX=1 PIP_FIND_LINKS=<it>`), built once per session:
    the plugin tarball's (the package and every dependency, `pulumi` among them) and pip, setuptools and wheel,
    which Pulumi's pip toolchain upgrades in every virtualenv it installs into."""

    def build() -> str:
        wheels = wheels_of(plugin_tarball(tmp_path_factory), coordination_dir(tmp_path_factory) / "wheelhouse")
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--only-binary=:all:", "--dest", str(wheels), "pip", "setuptools", "wheel"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr
        return str(wheels)

    return Path(computed_once(tmp_path_factory, "python-wheelhouse", build))
