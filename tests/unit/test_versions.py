"""One version for everything a release ships: the package, the two distributions it depends on, the native
provider's schema (and so every SDK and the plugin), and what the README's quick starts name. scripts/dist builds every
artifact at this version; the release workflow refuses a tag that differs."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import mypos_emulator
import mypos_provider
import mypos_signature

ROOT = Path(__file__).resolve().parents[2]
VERSION = mypos_provider.__version__


def project_of(directory: Path) -> dict:
    return tomllib.loads((directory / "pyproject.toml").read_text())["project"]


def test_the_version_is_major_minor_patch():
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", VERSION)


def test_the_distributions_of_packages_have_the_packages_version():
    assert [project_of(ROOT / "packages" / name)["version"] for name in ("mypos-signature", "mypos-emulator")] == [
        VERSION,
        VERSION,
    ]


def test_mypos_pulumi_pins_its_two_distributions_at_its_own_version():
    requirements = project_of(ROOT)["dependencies"]

    assert f"mypos-signature=={VERSION}" in requirements
    assert f"mypos-emulator=={VERSION}" in requirements


def test_the_schema_and_so_every_sdk_has_the_packages_version():
    assert json.loads((ROOT / "mypos_provider" / "native" / "schema.json").read_text())["version"] == VERSION


def imported_modules(source: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_the_readme_names_the_packages_version_wherever_it_names_one():
    readme = (ROOT / "README.md").read_text()
    named = re.findall(r"resource mypos v?([0-9][0-9.]*[0-9])", readme)
    named += re.findall(r"sdk/go/mypos@v([0-9][0-9.]*[0-9])", readme)
    named += re.findall(r"mypos-pulumi-mypos-([0-9][0-9.]*[0-9])\.tgz", readme)
    named += re.findall(r"pulumi-resource-mypos-v([0-9][0-9.]*[0-9])-", readme)

    assert named and set(named) == {VERSION}


def test_the_split_distributions_import_only_the_standard_library_and_themselves():
    for package in (mypos_emulator, mypos_signature):
        directory = Path(package.__file__).parent
        for source in directory.rglob("*.py"):
            outside = {m for m in imported_modules(source) if m.split(".")[0] not in sys.stdlib_module_names}
            assert outside <= {package.__name__}, f"{source} imports {outside}"


def test_the_old_import_paths_are_the_new_modules():
    from mypos_provider import emulator, signature

    assert signature.verify_signature is mypos_signature.verify_signature
    assert emulator.Emulator is mypos_emulator.Emulator
    assert set(signature.__all__) == set(mypos_signature.__all__)
    assert set(emulator.__all__) == set(mypos_emulator.__all__)
