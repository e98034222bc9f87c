"""The project's PostgreSQL server (scripts/postgres) for tests and benchmarks, and what its state table holds.

One server serves a whole test session, also across pytest-xdist workers: the first worker to need it starts
it, the last one done stops it (a counter in a file, guarded by an flock).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness.workers import locked

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres"


@dataclass(frozen=True)
class StateRow:
    key: str
    content: str  # decoded: the file the DIY backend would have written (JSON text)


class PostgresServer:
    """A running server started by scripts/postgres with its data in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {**os.environ, "MYPOS_POSTGRES_DIR": str(directory)}

    def script(self, *args: str) -> str:
        done = subprocess.run(
            [str(SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise AssertionError(f"scripts/postgres {' '.join(args)} failed: {done.stderr}{done.stdout}")
        return done.stdout

    def start(self) -> None:
        self.script("start")

    def stop(self) -> None:
        self.script("stop")

    @property
    def url(self) -> str:
        return self.script("url").strip()

    @property
    def password(self) -> str:
        return (self.directory / "password").read_text().strip()

    def reader_url(self, database: str) -> str:
        """A role that may only read the state tables of `database` (scripts/postgres reader)."""
        return self.script("reader", database).strip()

    def database_url(self, database: str) -> str:
        return urlunsplit(urlsplit(self.url)._replace(path=f"/{database}"))

    def sql(self, statement: str, database: str = "pulumi") -> str:
        """Run SQL with psql as the state role, the way an operator would read the table."""
        done = subprocess.run(
            ["psql", self.database_url(database), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"psql failed: {done.stderr}")
        return done.stdout.strip()

    def create_database(self, name: str) -> str:
        self.sql(f"CREATE DATABASE {name}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def rows(self, database: str, table: str = "pulumi_state") -> list[StateRow]:
        """Every object of the backend's table, decoded from the base64 the DIY postgres backend stores."""
        exists = self.sql(f"SELECT to_regclass('{table}') IS NOT NULL", database=database)
        if exists != "t":
            return []
        listing = self.sql(f"SELECT json_build_object('key', key, 'data', data->>'data') FROM {table}", database)
        rows = []
        for line in listing.splitlines():
            record = json.loads(line)
            raw = base64.b64decode(record["data"])
            if record["key"].endswith(".gz") or record["key"].endswith(".gz.bak"):
                raw = gzip.decompress(raw)
            rows.append(StateRow(record["key"], raw.decode("utf-8", errors="replace")))
        return rows

    def lock_keys(self, database: str) -> list[str]:
        return [row.key for row in self.rows(database) if ".pulumi/locks/" in row.key]


@contextmanager
def shared_server(coordination_dir: Path) -> Iterator[PostgresServer]:
    """The session's server, shared by every process that passes the same coordination directory."""
    lock, record = coordination_dir / "postgres.lock", coordination_dir / "postgres.json"
    with locked(lock):
        state = json.loads(record.read_text()) if record.exists() else {"users": 0}
        if state["users"] == 0:
            # Under the system's temporary directory, not pytest's: run as root, the server runs as the
            # postgres user, who cannot enter pytest's private directories.
            state["dir"] = tempfile.mkdtemp(prefix="mypos-test-pg-")
            PostgresServer(Path(state["dir"])).start()
        state["users"] += 1
        record.write_text(json.dumps(state))
    server = PostgresServer(Path(state["dir"]))
    try:
        yield server
    finally:
        with locked(lock):
            state = json.loads(record.read_text())
            state["users"] -= 1
            if state["users"] == 0:
                server.stop()
                shutil.rmtree(server.directory, ignore_errors=True)
            record.write_text(json.dumps(state))
