"""'Did you mean ...?': the known word a user most likely meant. Depends on nothing, so every layer may use it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def closest(word: str, choices: Sequence[str]) -> list[str]:
    """The known word the user most likely meant, if any is close enough (typos, case)."""
    return difflib.get_close_matches(word, choices, n=1, cutoff=0.6) or [
        c for c in choices if c.lower() == word.lower()
    ]
