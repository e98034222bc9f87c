"""The state backend as the commands see it: `PULUMI_BACKEND_URL` checked before any `pulumi` call, and its
password kept out of everything they print, however the URL is spelled.

The Pulumi CLI reads an unknown scheme (`postgresql://`) or a URL whose password holds `/`, `?` or `#` as a
Pulumi Cloud address and asks for `PULUMI_ACCESS_TOKEN`; some malformed URLs it prints back with the
password in clear. So the commands name the mistake and the fix first, and scrub the password from every
line of the CLI they relay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

BACKEND_ENV = "PULUMI_BACKEND_URL"
HIDDEN = "****"
POSTGRES_MISSPELLINGS = frozenset({"postgresql", "pgsql", "psql", "pg"})
KNOWN_SCHEMES = frozenset({"file", "s3", "gs", "azblob", "postgres", "https", "http"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def backend_problem(environ: Mapping[str, str]) -> str | None:
    """What is wrong with PULUMI_BACKEND_URL, with the fix; None when it is unset or well formed."""
    url = environ.get(BACKEND_ENV, "").strip()
    if not url:
        return None
    scheme_match = _SCHEME.match(url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme in POSTGRES_MISSPELLINGS:
        return (
            f"{BACKEND_ENV} starts with {scheme}://, which Pulumi does not know (it then asks for a Pulumi Cloud "
            "token): its PostgreSQL backend is spelled postgres://, e.g. postgres://user@host:5432/db?sslmode=require"
        )
    if scheme not in KNOWN_SCHEMES:
        return (
            f"{BACKEND_ENV} ({redact_url(url, url)}) is not a backend URL Pulumi knows: use postgres://, file://, "
            "s3://, gs://, azblob:// or https://api.pulumi.com"
        )
    if scheme == "postgres":
        return _postgres_problem(url)
    return None


def _postgres_problem(url: str) -> str | None:
    parts = urlsplit(url)
    after_host = parts.path + "?" + parts.query + "#" + parts.fragment
    if "@" not in parts.netloc and "@" in after_host:
        return (
            f"{BACKEND_ENV}: the password holds '/', '?' or '#', which end the host part of a URL, so Pulumi reads "
            "the rest as a path; percent-encode them (/ as %2F, ? as %3F, # as %23), or leave the password out "
            "of the URL and set PGPASSWORD"
        )
    if not parts.hostname:
        return f"{BACKEND_ENV} has no host: write it as postgres://user@host:5432/db"
    return None


def secrets_of(url: str) -> set[str]:
    """Every spelling of the password a backend URL may carry, for scrubbing: from the userinfo, from a
    `password=` parameter, and, for a URL too malformed to parse, all between `user:` and the last `@`."""
    found: set[str] = set()
    rest = _SCHEME.sub("", url, count=1)
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    try:
        parts = urlsplit(url)
        if parts.password:
            found.add(parts.password)
        for name in ("password", "sslpassword"):
            found.update(parse_qs(parts.query).get(name, []))
    except ValueError:
        pass
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if len(secret) >= 3}


def redact_url(text: str, url: str) -> str:
    """`text` with every spelling of the backend URL's password replaced, longest first."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def redact(text: str, environ: Mapping[str, str]) -> str:
    url = environ.get(BACKEND_ENV, "")
    return redact_url(text, url) if url else text


def missing_backend_hint(error: str, environ: Mapping[str, str]) -> str:
    """For a clone without PULUMI_BACKEND_URL, whose project backend (the demo's file backend) is not there."""
    if environ.get(BACKEND_ENV) or ".pulumi-state" not in error or "no such file or directory" not in error:
        return ""
    return (
        f"\n(this clone has no .pulumi-state, the project's demo backend: set {BACKEND_ENV} to your team's "
        "backend (docs/team.md), or run scripts/up-local to create the demo stack)"
    )
