"""Input checks of the resources: each returns a sentence naming the field and the fix, or None."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..client import is_loopback
from ..spelling import closest
from .values import Problem, is_unknown

MAX_SECRET_LENGTH = 32  # docs/mypos-api.md §4.1
TERMINAL_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
OBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

Check = Callable[[Any], str | None]


def problems_of(inputs: Mapping[str, Any], checks: Mapping[str, Check]) -> list[Problem]:
    """Run each field's check on its value, skipping values not known yet (preview)."""
    found = []
    for name, check in checks.items():
        value = inputs.get(name)
        if not is_unknown(value) and (problem := check(value)):
            found.append(Problem(name, problem))
    return found


def payload_url_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "payload_url is required: give the https URL myPOS should POST callbacks to"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (validates the port)
    except ValueError as problem:
        return f"payload_url {value!r} is not a valid URL ({problem}): write it like https://shop.example.com/cb"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"payload_url {value!r} is not an absolute URL: write it like https://shop.example.com/mypos/callback"
    if parts.username or parts.password:
        return (
            f"{CREDENTIALS_IN_URL}: remove them (the URL is not shown here, to keep them out of logs) and "
            "authenticate callbacks with the secret"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"payload_url {value!r} uses http on a public host: myPOS requires https for callbacks "
            "(http is accepted only for loopback addresses, e.g. a receiver on your machine)"
        )
    if parts.fragment:
        return "payload_url must not have a #fragment: it is never sent to the server"
    return None


CREDENTIALS_IN_URL = "payload_url must not embed credentials (user:password@)"


def without_credentials(value: Any) -> Any:
    """A URL as it may be shown: any user:password@ replaced by ****@."""
    if not isinstance(value, str) or "@" not in value:
        return value
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1****@", value)


def concealed(problem: Problem) -> Problem:
    """A payload_url problem that must not echo the URL: one with credentials in it."""
    return Problem(problem.field, problem.message, conceal=True) if CREDENTIALS_IN_URL in problem.message else problem


def secret_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return f"secret must be a string, not {type(value).__name__}"
    if value == "":
        return "secret is empty: omit it to have a strong one generated, or give 1 to 32 characters"
    if len(value) > MAX_SECRET_LENGTH:
        return (
            f"secret is {len(value)} characters long; myPOS accepts at most {MAX_SECRET_LENGTH}: "
            "shorten it, or omit it to have a 32-character one generated"
        )
    if value != value.strip():
        return "secret starts or ends with whitespace: remove it (it would silently break signature checks)"
    return None


def is_active_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"is_active must be true or false, not {value!r}"


def adopt_id_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not OBJECT_ID.match(value):
        return (
            f"adopt_id {value!r} is not a myPOS object id: copy the id from "
            "`python -m mypos_provider list`, or leave adopt_id out to create a new object"
        )
    return None


def webhook_id_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "webhook_id is required: pass the id of a Webhook resource, e.g. webhook_id=hook.id"
    if not OBJECT_ID.match(value):
        return f"webhook_id {value!r} is not a myPOS object id: pass the id of a Webhook resource, e.g. hook.id"
    return None


def event_problem(value: Any, catalogue: list[str] | None = None) -> str | None:
    """Required; with the live catalogue, also one of its names (with a "did you mean")."""
    if not isinstance(value, str) or not value:
        return 'event is required: give an event name such as "pos.payment.completed"'
    if catalogue is None or value in catalogue:
        return None
    hint = f"did you mean {guess[0]!r}? " if (guess := closest(value, catalogue)) else ""
    return f"unknown event {value!r}: {hint}myPOS offers " + ", ".join(sorted(catalogue))


def terminal_ids_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return f'terminal_ids must be a list of terminal ids such as ["90004889"], not {type(value).__name__}'
    if not value:
        return "terminal_ids is empty: omit it to receive events from every terminal, or list terminal ids"
    for tid in value:
        if not isinstance(tid, str):
            return f'terminal_ids must contain strings; {tid!r} is a {type(tid).__name__}: quote it, e.g. "{tid}"'
        if not TERMINAL_ID.match(tid):
            return f'terminal id {tid!r} is not valid: use the terminal\'s id as shown in myPOS, e.g. "90004889"'
    duplicates = sorted({tid for tid in value if value.count(tid) > 1})
    if duplicates:
        return f"terminal_ids lists {', '.join(duplicates)} more than once: list each terminal once"
    return None
