"""The file work of scripts/dist, in Python because it is precise work on JSON and zip files:

    release_files.py stage ROOT STAGE --plugin-download-url URL
        copies the checkout (its tracked and untracked-but-not-ignored files) to STAGE, puts LICENSE into
        each distribution of packages/, and writes URL as the schema's pluginDownloadURL
    release_files.py go-module SDK_DIR PROXY_DIR
        writes the Go SDK module in SDK_DIR (its go.mod names it; its version is the schema's, in
        pulumi-plugin.json) into PROXY_DIR in the layout a Go module proxy serves (GOPROXY=<URL of PROXY_DIR>)
    release_files.py checksums DIR
        writes DIR/SHA256SUMS over every other file in DIR, in `sha256sum --check` format

Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

SCHEMA = Path("mypos_provider") / "native" / "schema.json"
CHECKSUMS = "SHA256SUMS"
# A fixed time in every archive entry, so one checkout builds byte-identical zips (and the same checksums).
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def stage(root: Path, stage_dir: Path, plugin_download_url: str) -> None:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():  # a tracked file deleted in the working tree is not part of this build
            target = stage_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for distribution in (stage_dir / "packages").iterdir():
        shutil.copy2(root / "LICENSE", distribution / "LICENSE")
    schema_path = stage_dir / SCHEMA
    schema = json.loads(schema_path.read_text())
    schema["pluginDownloadURL"] = plugin_download_url
    schema_path.write_text(json.dumps(schema, indent=2) + "\n")


def module_path(go_mod: str) -> str:
    for line in go_mod.splitlines():
        if line.startswith("module "):
            return line.split()[1].strip('"')
    raise SystemExit("go.mod names no module")


def escaped(path: str) -> str:
    """A module path as a proxy spells it in URLs: every capital letter as '!' and its lower case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def module_files(sdk_dir: Path) -> list[Path]:
    """What `go mod download` would unpack: every file but those of nested modules and version-control data."""
    nested = {p.parent for p in sdk_dir.rglob("go.mod") if p.parent != sdk_dir}
    return sorted(
        p
        for p in sdk_dir.rglob("*")
        if p.is_file()
        and not any(parent in nested for parent in p.parents)
        and not any(part in {".git", ".hg", ".svn", "vendor"} for part in p.relative_to(sdk_dir).parts)
    )


def go_module(sdk_dir: Path, proxy_dir: Path) -> Path:
    go_mod = (sdk_dir / "go.mod").read_text()
    module = module_path(go_mod)
    version = "v" + json.loads((sdk_dir / "pulumi-plugin.json").read_text())["version"]
    versions = proxy_dir / escaped(module) / "@v"
    versions.mkdir(parents=True, exist_ok=True)
    archive = versions / f"{version}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in module_files(sdk_dir):
            entry = zipfile.ZipInfo(f"{module}@{version}/{file.relative_to(sdk_dir).as_posix()}", ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zipped.writestr(entry, file.read_bytes())
    (versions / f"{version}.mod").write_text(go_mod)
    (versions / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2020-01-01T00:00:00Z"}))
    (versions / "list").write_text(f"{version}\n")
    return archive


def checksums(directory: Path) -> None:
    lines = []
    for file in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != CHECKSUMS):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        lines.append(f"{digest}  {file.relative_to(directory).as_posix()}\n")
    (directory / CHECKSUMS).write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    staging = commands.add_parser("stage")
    staging.add_argument("root", type=Path)
    staging.add_argument("stage_dir", type=Path)
    staging.add_argument("--plugin-download-url", required=True)
    module = commands.add_parser("go-module")
    module.add_argument("sdk_dir", type=Path)
    module.add_argument("proxy_dir", type=Path)
    summing = commands.add_parser("checksums")
    summing.add_argument("directory", type=Path)
    args = parser.parse_args()
    if args.command == "stage":
        stage(args.root, args.stage_dir, args.plugin_download_url)
    elif args.command == "go-module":
        print(go_module(args.sdk_dir, args.proxy_dir))
    else:
        checksums(args.directory)


if __name__ == "__main__":
    main()
