"""Fault injection: rules that make chosen /oauth and /v1 requests fail in reproducible ways."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, validation_error

KINDS = ("status", "drop", "slow", "commit_then_fail")
THEN_ACTIONS = ("status", "drop", "slow")
RULE_FIELDS = frozenset(
    {"method", "path", "kind", "status", "then", "retry_after", "delay", "probability", "seed", "sequence", "times"}
)


@dataclass
class FaultRule:
    kind: str
    method: str = "*"
    path: str = "*"
    status: int = 500
    then: str = "status"
    retry_after: int = 1
    delay: float = 1.0
    probability: float | None = None
    seed: int = 0
    sequence: list[bool] | None = None
    times: int | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _released: threading.Event = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # One generator per rule, so one rule's draws never shift another's: runs replay exactly.
        self._rng = random.Random(self.seed)
        self._released = threading.Event()

    def hold(self) -> None:
        """A slow rule's wait: `delay` seconds, or until the rule is replaced or cleared (a test releases the
        requests it holds by setting new rules: a late commit when the test says, not after a fixed time)."""
        self._released.wait(self.delay)

    def release(self) -> None:
        self._released.set()

    def applies_to(self, method: str, path: str) -> bool:
        method_matches = self.method == "*" or self.method == method
        return method_matches and fnmatch.fnmatchcase(path, self.path)

    def decide(self) -> bool:
        """Counts one matching request and says whether the fault fires on it."""
        self.matched += 1
        if self.sequence is not None:
            index = self.matched - 1
            wanted = index < len(self.sequence) and self.sequence[index]
        elif self.probability is not None:
            wanted = self._rng.random() < self.probability
        else:
            wanted = True
        exhausted = self.times is not None and self.fired >= self.times
        if wanted and not exhausted:
            self.fired += 1
            return True
        return False

    def describe(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"method": self.method, "path": self.path, "kind": self.kind}
        if self.kind in ("status", "commit_then_fail"):
            answer["status"] = self.status
        if self.kind == "commit_then_fail":
            answer["then"] = self.then
        if self.status == 429:
            answer["retry_after"] = self.retry_after
        if self.kind == "slow" or self.then == "slow":
            answer["delay"] = self.delay
        if self.probability is not None:
            answer.update(probability=self.probability, seed=self.seed)
        if self.sequence is not None:
            answer["sequence"] = list(self.sequence)
        answer.update(times=self.times, matched=self.matched, fired=self.fired)
        return answer


def parse_rule(raw: Any, index: int) -> FaultRule:
    """Builds a rule from its JSON form; errors name the field as `rules[i].field`."""
    if not isinstance(raw, dict):
        raise validation_error(f"rules[{index}]", f"rules[{index}] must be an object")

    def field_error(name: str, message: str) -> ApiError:
        return validation_error(f"rules[{index}].{name}", f"rules[{index}].{name} {message}")

    unknown = sorted(set(raw) - RULE_FIELDS)
    if unknown:
        raise field_error(unknown[0], "is not a known rule field")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise field_error("kind", f"must be one of {', '.join(KINDS)}")
    rule = FaultRule(kind=kind, seed=_integer(raw.get("seed", 0), lambda: field_error("seed", "must be an integer")))
    rule.method = _text(raw.get("method", "*"), lambda: field_error("method", "must be a string")).upper()
    rule.path = _text(raw.get("path", "*"), lambda: field_error("path", "must be a string"))
    _apply_outcome(rule, raw, field_error)
    _apply_trigger(rule, raw, field_error)
    return rule


def _apply_outcome(rule: FaultRule, raw: dict[str, Any], field_error: Any) -> None:
    status = raw.get("status", 500)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise field_error("status", "must be an HTTP error status between 400 and 599")
    rule.status = status
    then = raw.get("then", "status")
    if then not in THEN_ACTIONS:
        raise field_error("then", f"must be one of {', '.join(THEN_ACTIONS)}")
    rule.then = then
    rule.retry_after = _integer(raw.get("retry_after", 1), lambda: field_error("retry_after", "must be whole seconds"))
    if rule.retry_after < 0:
        raise field_error("retry_after", "must not be negative")
    delay = raw.get("delay", 1.0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise field_error("delay", "must be a non-negative number of seconds")
    rule.delay = float(delay)


def _apply_trigger(rule: FaultRule, raw: dict[str, Any], field_error: Any) -> None:
    if "probability" in raw and "sequence" in raw:
        raise field_error("sequence", "cannot be combined with probability")
    if "probability" in raw:
        probability = raw["probability"]
        if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
            raise field_error("probability", "must be a number between 0 and 1")
        rule.probability = float(probability)
    if "sequence" in raw:
        sequence = raw["sequence"]
        if not isinstance(sequence, list) or not all(isinstance(step, bool) for step in sequence):
            raise field_error("sequence", "must be a list of true/false")
        rule.sequence = sequence
    if raw.get("times") is not None:
        rule.times = _integer(raw["times"], lambda: field_error("times", "must be a whole number"))
        if rule.times < 0:
            raise field_error("times", "must not be negative")


def _integer(value: Any, error: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error()
    return value


def _text(value: Any, error: Any) -> str:
    if not isinstance(value, str) or not value:
        raise error()
    return value


class FaultSet:
    """The active rules, consulted in order; the first rule that fires decides the request's fate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._revision = 0

    @property
    def revision(self) -> int:
        """Counts rule-set changes, so a poller can tell the rules changed."""
        return self._revision

    def replace(self, raw_rules: Any) -> None:
        if not isinstance(raw_rules, list):
            raise validation_error("rules", "rules must be a list of rule objects")
        rules = [parse_rule(raw, index) for index, raw in enumerate(raw_rules)]
        with self._lock:
            released, self._rules = self._rules, rules
            self._revision += 1
        for rule in released:
            rule.release()

    def clear(self) -> None:
        with self._lock:
            released, self._rules = self._rules, []
            self._revision += 1
        for rule in released:
            rule.release()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def match(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.applies_to(method, path) and rule.decide():
                    return rule
        return None
