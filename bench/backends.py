"""State backends for bench/run.py: the project's file backend and PostgreSQL (Pulumi's DIY postgres:// backend).

The PostgreSQL server is the project's own (scripts/postgres), started in a temporary directory for the run
and stopped after it. Each variant deploys into a database of its own, so server-side settings can differ per
variant (`ALTER DATABASE ... SET`) within one server and one run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "postgres"


@dataclass(frozen=True)
class Variant:
    """One way of keeping the state: a backend, engine environment and settings of the state database."""

    name: str
    kind: str  # "file" or "postgres"
    description: str
    crash_safe: bool = True
    env: dict[str, str] = field(default_factory=dict)
    database_settings: dict[str, str] = field(default_factory=dict)
    column_storage: str | None = None  # ALTER TABLE ... ALTER COLUMN data SET STORAGE <this>


VARIANTS = {
    v.name: v
    for v in (
        Variant("file", "file", "file backend, as the project's local stack uses it"),
        Variant("postgres", "postgres", "PostgreSQL 15, Debian's default settings"),
        Variant(
            "postgres-gzip",
            "postgres",
            "state written gzip-compressed by the CLI (PULUMI_DIY_BACKEND_GZIP=true)",
            env={"PULUMI_DIY_BACKEND_GZIP": "true"},
        ),
        Variant(
            "postgres-zstd",
            "postgres",
            "state written zstd-compressed by the CLI (PULUMI_DIY_BACKEND_ZSTD=true)",
            env={"PULUMI_DIY_BACKEND_ZSTD": "true"},
        ),
        Variant(
            "file-zstd",
            "file",
            "file backend, state zstd-compressed (PULUMI_DIY_BACKEND_ZSTD=true)",
            env={"PULUMI_DIY_BACKEND_ZSTD": "true"},
        ),
        Variant(
            "file-gzip",
            "file",
            "file backend, state gzip-compressed (PULUMI_DIY_BACKEND_GZIP=true)",
            env={"PULUMI_DIY_BACKEND_GZIP": "true"},
        ),
        Variant(
            "postgres-uncompressed-column",
            "postgres",
            "state column stored without TOAST compression (SET STORAGE EXTERNAL)",
            column_storage="EXTERNAL",
        ),
        Variant(
            "postgres-lz4",
            "postgres",
            "TOAST compression lz4 instead of pglz (default_toast_compression = lz4)",
            database_settings={"default_toast_compression": "lz4"},
        ),
        Variant(
            "postgres-gzip-uncompressed-column",
            "postgres",
            "gzip state from the CLI, stored without a second compression",
            env={"PULUMI_DIY_BACKEND_GZIP": "true"},
            column_storage="EXTERNAL",
        ),
        Variant(
            "postgres-async-commit",
            "postgres",
            "synchronous_commit = off: a crash of the database server can lose the last commits",
            crash_safe=False,
            database_settings={"synchronous_commit": "off"},
        ),
        Variant(
            "postgres-skip-checkpoints",
            "postgres",
            "PULUMI_SKIP_CHECKPOINTS=true: state written only at the end (a killed run loses its record)",
            crash_safe=False,
            env={"PULUMI_SKIP_CHECKPOINTS": "true"},
        ),
    )
}

# Same schema as Pulumi's DIY postgres backend creates on first use (pkg/backend/diy/postgres/schema.sql);
# created here first only when a variant changes the column's storage.
TABLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS pulumi_state (
    key TEXT PRIMARY KEY,
    data JSON NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pulumi_state_key_prefix_idx ON pulumi_state (key text_pattern_ops);
"""


class PostgresServer:
    """The project's PostgreSQL (scripts/postgres) in a directory of its own, for one benchmark run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {**os.environ, "MYPOS_POSTGRES_DIR": str(directory)}
        self.url = ""

    def start(self) -> None:
        subprocess.run([str(SCRIPT), "start"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        self.url = subprocess.run(
            [str(SCRIPT), "url"], env=self.env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop"], env=self.env, check=False, stdout=subprocess.DEVNULL)

    def database_url(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def sql(self, statement: str, database: str = "pulumi") -> str:
        done = subprocess.run(
            ["psql", self.database_url(database), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def new_database(self, name: str, variant: Variant) -> str:
        """A fresh database for one variant, with its settings applied; returns its postgres:// URL."""
        self.sql(f"DROP DATABASE IF EXISTS {name}")
        self.sql(f"CREATE DATABASE {name}")
        for key, value in variant.database_settings.items():
            self.sql(f"ALTER DATABASE {name} SET {key} = '{value}'")
        if variant.column_storage:
            self.sql(TABLE_SCHEMA, database=name)
            self.sql(f"ALTER TABLE pulumi_state ALTER COLUMN data SET STORAGE {variant.column_storage}", database=name)
        return self.database_url(name)

    def wal_bytes(self) -> int:
        """Position of the write-ahead log: the difference between two calls is what was written between."""
        return int(self.sql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"))

    def state_bytes(self, database: str) -> int:
        """Size of the stack's checkpoint as the CLI wrote it (the table holds it base64-encoded)."""
        size = self.sql(
            "SELECT coalesce(max(octet_length(data->>'data')) * 3 / 4, 0) FROM pulumi_state "
            "WHERE key LIKE '%.pulumi/stacks/%' AND key NOT LIKE '%.bak'",
            database=database,
        )
        return int(size or 0)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    # Under /tmp: when run as root, the server runs as `postgres`, which must be able to enter the directory.
    with tempfile.TemporaryDirectory(prefix="mypos-bench-pg-") as tmp:
        server = PostgresServer(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()
