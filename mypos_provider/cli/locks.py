"""Who holds a stack's lock, and whether that deployment is still alive.

Pulumi's DIY backend (files, PostgreSQL, object stores) locks a stack for the length of every deployment with
a small record naming the user, host and pid of the `pulumi` process and when it took the lock. A deployment
that is killed (SIGKILL, a lost CI runner, a database that stopped answering) leaves that record behind, and
only `pulumi cancel` removes it; but `pulumi cancel` removes a live deployment's lock just as well, and two
deployments then run at once and make every object twice. So no command advises `pulumi cancel` without
first telling a live holder from a gone one:

* on this host (the lock names it), the holder is alive while its pid is a running `pulumi` process;
* on another host, while the stack's state was written (a checkpoint: Pulumi writes one after every step of a
  deployment) or the lock taken within the last `QUIET_WINDOW`; a holder silent for longer is presumed gone.

The holders come from the backend itself where the commands can read it (a `file://` backend; a `postgres://`
one through `psql`), else from Pulumi's own refusal when a command meets the lock.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .backend import BACKEND_ENV

# A deployment on another host that has not written its state for this long is presumed gone. Pulumi writes
# a checkpoint after every step; a step (one myPOS request with its retries, mypos:requestDeadline 60 s by
# default) and a preview of a few hundred resources take minutes at most.
QUIET_WINDOW = timedelta(minutes=10)
LOCK_LINE = re.compile(
    r"(?P<where>\S+): created by (?P<user>[^@\s]*)@(?P<host>\S+) \(pid (?P<pid>\d+)\) at (?P<at>\S+)"
)
# libpq's connection parameters that may ride in a postgres:// URL; Pulumi's own (`table`) are not for psql.
LIBPQ_PARAMETERS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslpassword",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "channel_binding",
        "gssencmode",
        "keepalives",
        "service",
        "host",
        "port",
        "user",
        "dbname",
    }
)


@dataclass(frozen=True)
class LockHolder:
    """One lock of a stack: the deployment that took it."""

    user: str
    host: str
    pid: int
    taken_at: datetime

    def describe(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}, lock taken {_clock(self.taken_at)})"


@dataclass(frozen=True)
class Liveness:
    alive: bool
    reason: str  # a sentence fragment: why it is taken to be alive or gone


@dataclass(frozen=True)
class AssessedLock:
    holder: LockHolder
    liveness: Liveness

    def describe(self) -> str:
        state = "alive" if self.liveness.alive else "gone"
        return f"{self.holder.describe()}: {state}, {self.liveness.reason}"


def assess(
    holder: LockHolder,
    *,
    this_host: str,
    running: Callable[[int], bool],
    last_checkpoint: datetime | None,
    now: datetime,
    window: timedelta = QUIET_WINDOW,
) -> Liveness:
    """Alive or gone: by the pid on this host, by the state's last write (or the lock's age) elsewhere."""
    if holder.host == this_host:
        if running(holder.pid):
            return Liveness(True, f"pid {holder.pid} is a running pulumi process on this host")
        return Liveness(False, f"pid {holder.pid} no longer runs on this host")
    latest = max(t for t in (holder.taken_at, last_checkpoint) if t is not None)
    quiet = now - latest
    minutes = int(window.total_seconds() // 60)
    if quiet < window:
        return Liveness(
            True,
            f"it runs on another host and the stack's state was written or locked {_ago(quiet)} "
            f"(within {minutes} minutes)",
        )
    return Liveness(
        False,
        f"it runs on another host and the stack's state has not been written since {_clock(latest)} "
        f"({_ago(quiet)}, more than {minutes} minutes)",
    )


def parse_refusal(text: str) -> list[LockHolder]:
    """The holders named in Pulumi's "the stack is currently locked" message."""
    return [_holder(m.group("user"), m.group("host"), m.group("pid"), m.group("at")) for m in LOCK_LINE.finditer(text)]


def holder_from_record(raw: bytes | str) -> LockHolder | None:
    """A lock record as the DIY backend stores it: {"pid", "username", "hostname", "timestamp"}."""
    try:
        record = json.loads(raw)
        return _holder(record["username"], record["hostname"], record["pid"], record["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


def _holder(user: str, host: str, pid: object, at: str) -> LockHolder:
    return LockHolder(str(user), str(host), int(str(pid)), parse_time(str(at)))


def parse_time(text: str) -> datetime:
    # Go writes RFC 3339 with nanoseconds (2026-01-02T03:04:05.123456789+00:00); Python takes microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def pulumi_running(pid: int) -> bool:
    """True while `pid` is a live (not zombie) process whose program is a `pulumi` binary."""
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            stat = (proc / "stat").read_text()
            comm = (proc / "comm").read_text().strip()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z" and comm.startswith("pulumi")
    try:  # no /proc (macOS): the pid exists, whatever it runs
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def assess_all(
    holders: Iterable[LockHolder], last_checkpoint: datetime | None, *, now: datetime | None = None
) -> list[AssessedLock]:
    when = now or datetime.now(UTC)
    host = socket.gethostname()
    return [
        AssessedLock(h, assess(h, this_host=host, running=pulumi_running, last_checkpoint=last_checkpoint, now=when))
        for h in holders
    ]


# ---- reading the locks from the backend ----------------------------------------------------------------


def read_holders(
    stack: str, backend_url: str | None, project: str | None, environ: Mapping[str, str]
) -> list[LockHolder] | None:
    """The stack's lock holders as the backend stores them; None where this backend cannot be read here."""
    if not backend_url or not project:
        return None
    scheme = urlsplit(backend_url).scheme
    if scheme == "file":
        return _file_holders(backend_url, project, stack)
    if scheme == "postgres":
        return _postgres_holders(backend_url, project, stack, environ)
    return None


def _lock_prefixes(project: str, stack: str) -> tuple[str, str]:
    # The project-scoped layout, and the legacy one of backends created before projects scoped stacks.
    return f".pulumi/locks/organization/{project}/{stack}/", f".pulumi/locks/{stack}/"


def _file_holders(url: str, project: str, stack: str) -> list[LockHolder] | None:
    parts = urlsplit(url)
    root = Path(unquote(parts.netloc + parts.path)).expanduser()
    holders = []
    for prefix in _lock_prefixes(project, stack):
        directory = root / prefix
        if directory.is_dir():
            for path in sorted(directory.glob("*.json")):
                try:
                    found = holder_from_record(path.read_bytes())
                except OSError:
                    continue
                if found:
                    holders.append(found)
    return holders


def _postgres_holders(url: str, project: str, stack: str, environ: Mapping[str, str]) -> list[LockHolder] | None:
    psql = shutil.which("psql")
    if psql is None:
        return None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    table = query.get("table", "pulumi_state")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", table):
        return None
    env = {**environ}
    if parts.password:  # to psql through its environment, never on its command line (`ps` shows that)
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0] + "@" if len(netloc) == 2 else ""
    kept = urlencode({k: v for k, v in query.items() if k in LIBPQ_PARAMETERS})
    conninfo = urlunsplit(("postgres", userinfo + netloc[-1], parts.path, kept, ""))
    project_prefix, legacy_prefix = _lock_prefixes(project, stack)
    # Keys start with the URL's path (the database name): `pulumi/.pulumi/locks/...`.
    root = unquote(parts.path).strip("/")
    prefixes = [f"{root}/{prefix}" if root else prefix for prefix in (project_prefix, legacy_prefix)]
    statement = f"SELECT data->>'data' FROM {table} WHERE " + " OR ".join(
        f"starts_with(key, '{_sql(prefix)}')" for prefix in prefixes
    )
    try:
        done = subprocess.run(
            [psql, conninfo, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", statement],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    holders = []
    for line in done.stdout.split():
        try:
            found = holder_from_record(base64.b64decode(line))
        except ValueError:
            continue
        if found:
            holders.append(found)
    return holders


def _sql(text: str) -> str:
    return text.replace("'", "''")


def backend_url_of(environ: Mapping[str, str], project_dir: Path) -> str | None:
    """The backend the CLI uses: PULUMI_BACKEND_URL, else the project's `backend.url` (Pulumi.yaml)."""
    if url := environ.get(BACKEND_ENV, "").strip():
        return url
    declared = re.search(r"^backend:\s*\n\s+url:\s*(\S+)", _project_file(project_dir), re.MULTILINE)
    if not declared:
        return None
    url = declared.group(1).strip("'\"")
    if url.startswith("file://") and not url.startswith("file:///"):
        parts = urlsplit(url)
        local = (project_dir / unquote(parts.netloc + parts.path)).resolve()
        url = urlunsplit(("file", "", str(local), parts.query, ""))
    return url


def project_name(project_dir: Path) -> str | None:
    found = re.search(r"^name:\s*(\S+)", _project_file(project_dir), re.MULTILINE)
    return found.group(1).strip("'\"") if found else None


def _project_file(project_dir: Path) -> str:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = project_dir / name
        if path.exists():
            return path.read_text(errors="replace")
    return ""


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    return f"{seconds // 60} min ago"
