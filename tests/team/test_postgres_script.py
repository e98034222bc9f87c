"""scripts/postgres: the project's PostgreSQL for Pulumi state, started and stopped by the project itself."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.postgres import SCRIPT, PostgresServer

MASKED_URL = re.compile(r"^running on postgres://pulumi:\*\*\*\*@127\.0\.0\.1:(\d+)/pulumi\?sslmode=disable$")


@pytest.fixture
def own_server():
    """A server of its own (not the session's), so it can be stopped and started again."""
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="mypos-test-pg-own-")))
    try:
        yield server
    finally:
        server.script("stop")
        shutil.rmtree(server.directory, ignore_errors=True)


def test_status_shows_the_url_with_the_password_masked(postgres):
    status = postgres.script("status").strip()

    assert MASKED_URL.match(status), status
    assert postgres.password not in status


def test_url_gives_the_state_role_a_working_connection(postgres):
    assert postgres.url.startswith("postgres://pulumi:")
    assert postgres.sql("SELECT current_user") == "pulumi"


def test_env_exports_the_url_without_the_password_and_the_password_for_the_driver(postgres):
    exports = postgres.script("env").splitlines()

    url, password = exports[0], exports[1]
    assert url.startswith("export PULUMI_BACKEND_URL='postgres://pulumi@127.0.0.1:") and postgres.password not in url
    assert password == f"export PGPASSWORD='{postgres.password}'"


def test_the_server_listens_on_loopback_only(postgres):
    assert postgres.sql("SHOW listen_addresses") == "127.0.0.1"


def test_start_is_idempotent_and_data_survives_a_restart(own_server):
    first = own_server.script("start").strip()
    own_server.sql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    assert own_server.script("start").strip() == first

    assert own_server.script("stop").strip() == "stopped"
    own_server.script("start")

    assert own_server.sql("SELECT n FROM kept") == "42"


def test_stop_leaves_no_server_running(own_server):
    own_server.script("start")
    port = int(MASKED_URL.match(own_server.script("status").strip()).group(1))

    own_server.script("stop")

    with pytest.raises(AssertionError, match="not running"):
        own_server.script("status")
    assert not (own_server.directory / "data" / "postmaster.pid").exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_the_reader_role_can_read_but_not_write(postgres):
    database = "reader_check"
    postgres.sql(f"DROP DATABASE IF EXISTS {database}")
    url = postgres.create_database(database)
    postgres.sql("CREATE TABLE pulumi_state (key text primary key, data json)", database)
    reader = postgres.reader_url(database)
    try:
        assert reader.startswith("postgres://pulumi_reader:") and url != reader
        assert run_as(reader, "SELECT count(*) FROM pulumi_state") == "0"
        with pytest.raises(AssertionError, match="permission denied"):
            run_as(reader, "INSERT INTO pulumi_state VALUES ('k', '{}')")
    finally:
        postgres.drop_database(database)


def run_as(url: str, statement: str) -> str:
    done = subprocess.run(["psql", url, "-qAt", "-c", statement], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    return done.stdout.strip()


def test_psql_before_any_start_says_in_one_line_to_start_the_server(own_server):
    done = subprocess.run(
        [str(SCRIPT), "psql", "-c", "SELECT 1"],
        env=own_server.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )

    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["postgres: no server yet: run scripts/postgres start"]
    assert done.stdout == ""
