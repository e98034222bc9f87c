"""The provider's schema, kept in the repository as schema.json (package data) and served as it is.

`pulumi package get-schema`, SDK generation (`pulumi package gen-sdk`) and `pulumi import`'s code generation
read it; tests/unit/test_native_schema.py checks it against what the provider accepts.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def text() -> str:
    return resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")


def document() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(text())
    return parsed
