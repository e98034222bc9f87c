"""`emit EVENT`: have myPOS (sandbox) or the emulator send a sample event to webhooks, and say how each went.

The webhooks are a stack's (`--stack`: named by their resource names, read through the pulumi CLI), or the
account's, without any stack or CLI: one by id (`--webhook-id`), or every one with a URL (`--url`). Each
webhook subscribed to EVENT gets one sample delivery, and the report says what the receiver answered. The exit
status is 1 when any delivery failed, so a script can rely on it.

myPOS's sample call (`POST /v1/subscriptions/{id}/fake`, docs/mypos-api.md §5.12) takes no payload. A sample
with fields of your choosing (`--set data.amount=12.50`, `--terminal-id`) therefore needs the emulator, whose
control plane sends one (`POST /_emulator/sample`, docs/emulator.md); the values are typed after the event's
sample payload and checked against it before any request. The samples are the emulator's invented payloads:
myPOS documents none (§6.2).

When no answer came back, myPOS says no more than that; the emulator knows why (the connection was
refused, the host name could not be resolved, ...) and the report says so too (`EmulatorDeliveryLog`).
"""

from __future__ import annotations

import json
import math
import re
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

import requests

from mypos_emulator.catalogue import (
    EVENT_TYPES,
    EventType,
    OverrideError,
    apply_overrides,
    event_by_name,
    example_payload,
    field_at,
    field_paths,
)

from ..client import MyPOSClient, NotFoundError, Notification, Subscription, Webhook, is_loopback
from ..spelling import closest
from .errors import CliError
from .stack import Stack, names_by_id

POLL_INTERVAL = 0.2
REASON_TIMEOUT = 2.0
SAMPLE_TIMEOUT = 30.0  # the emulator answers once the receiver has (its delivery_timeout bounds that)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _control_session(token: str | None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and loopback
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def emulator_control_url(api_url: str) -> str | None:
    """The control plane of the emulator behind `api_url`, or None where no emulator can be: only an API on
    loopback is one (nothing else is reached over plain http), never myPOS itself."""
    parts = urlsplit(api_url)
    if not parts.hostname or not is_loopback(parts.hostname):
        return None
    return f"{parts.scheme}://{parts.netloc}/_emulator"


class DeliveryReasons(Protocol):
    def reason(self, attempt: Notification) -> str | None:
        """Why `attempt` got no answer, if anyone can tell."""
        ...


class EmulatorDeliveryLog:
    """The emulator's own record of each attempt (`GET /_emulator/deliveries`, docs/emulator.md) says why
    no answer came back, which the public notification leaves out. Asked only of an API on loopback, with the
    control token from MYPOS_EMULATOR_CONTROL_TOKEN if the emulator has one; any trouble only leaves the
    reason out."""

    def __init__(self, control_url: str, token: str | None) -> None:
        self._url = f"{control_url}/deliveries"
        self._session = _control_session(token)

    @classmethod
    def serving(cls, api_url: str, token: str | None = None) -> EmulatorDeliveryLog | None:
        """The log of the emulator behind `api_url`, or None where no emulator can be (myPOS itself)."""
        control_url = emulator_control_url(api_url)
        return cls(control_url, token) if control_url else None

    def reason(self, attempt: Notification) -> str | None:
        if attempt.id is None or attempt.webhook_id is None:
            return None
        query = {"webhook_id": attempt.webhook_id, "limit": "1000"}
        try:
            answer = self._session.get(self._url, params=query, timeout=REASON_TIMEOUT)
            recorded = answer.json()["deliveries"] if answer.ok else []
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return None  # an emulator of another version, or no emulator at all: the report goes on
        found = next((entry for entry in recorded if isinstance(entry, dict) and entry.get("id") == attempt.id), None)
        error = found.get("error") if found else None
        return error if isinstance(error, str) and error else None


class NoReasons:
    """myPOS itself: it reports no reason."""

    def reason(self, attempt: Notification) -> str | None:
        return None


# What to send: the sample as myPOS or the emulator makes it, or with a terminal and fields of one's choosing


@dataclass(frozen=True)
class SampleChoice:
    """A terminal and field values chosen for the sample (`--terminal-id`, `--set`), typed and checked."""

    terminal_id: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def chosen(self) -> bool:
        return self.terminal_id is not None or bool(self.overrides)


def sample_of(event: str) -> tuple[EventType, dict[str, Any]] | None:
    """The event type and the sample payload the emulator invents for it, under either naming."""
    for naming in ("com", "eu"):
        found = event_by_name(event, naming)
        if found is not None:
            return found, example_payload(found, naming)
    return None


def choose_sample(event: str, settings: Sequence[str], terminal_id: str | None) -> SampleChoice:
    """`--set PATH=VALUE` (each typed after the field it replaces in the event's sample) and `--terminal-id`,
    checked against the sample; a CliError naming the option and the fix otherwise. Sends no request."""
    if not settings and terminal_id is None:
        return SampleChoice()
    known = sample_of(event)
    if known is None:
        names = ", ".join(e.com_name for e in EVENT_TYPES)
        raise CliError(
            f"no sample payload is known for {event}, so --set and --terminal-id cannot apply: use one of {names}"
        )
    event_type, sample = known
    if terminal_id is not None and not event_type.is_pos:
        raise CliError(f"--terminal-id {terminal_id}: {event} events carry no terminal; drop --terminal-id")
    if terminal_id is not None and not terminal_id.strip():
        raise CliError("--terminal-id is empty: give the terminal id, e.g. --terminal-id 90004889")
    overrides: dict[str, Any] = {}
    for item in settings:
        path, value = _typed_setting(event, sample, item)
        if path in overrides:
            raise CliError(f"--set {path} is given twice: keep one")
        overrides[path] = value
    return SampleChoice(terminal_id, overrides)


def _typed_setting(event: str, sample: dict[str, Any], item: str) -> tuple[str, Any]:
    path, equals, text = item.partition("=")
    path = path.strip()
    if not equals or not path:
        raise CliError(f"--set {item!r}: write it as --set PATH=VALUE, e.g. --set data.amount=12.50")
    try:
        current = field_at(sample, path)
    except OverrideError:
        paths = field_paths(sample)
        hint = f"did you mean {close[0]}? " if (close := closest(path, paths)) else ""
        raise CliError(
            f"--set {path}: the {event} sample has no field {path}; {hint}its fields: {', '.join(paths)} "
            "(`emit --help` shows each sample)"
        ) from None
    value = typed_value(path, current, text)
    try:
        apply_overrides(sample, {path: value})
    except OverrideError as problem:
        raise CliError(f"--set {path}: {problem}") from None
    return path, value


def typed_value(path: str, current: Any, text: str) -> Any:
    """`text` as a value of the JSON type `current` has in the sample: a string stays text as typed (12.50 stays
    "12.50"), a number must be one, true/false for a flag; an object, a list or a null takes JSON."""
    if isinstance(current, str):
        return text
    if isinstance(current, bool):
        if text.strip().lower() not in ("true", "false"):
            raise CliError(f"--set {path}={text}: {path} is true or false in the sample; write --set {path}=true")
        return text.strip().lower() == "true"
    if isinstance(current, (int, float)):
        number = text.strip()
        if not _NUMBER.fullmatch(number) or not math.isfinite(float(number)):
            raise CliError(f"--set {path}={text}: {path} is a number in the sample; write e.g. --set {path}=12.5")
        return int(number) if re.fullmatch(r"-?[0-9]+", number) else float(number)
    try:
        return json.loads(text)
    except ValueError:
        kind = "an object" if isinstance(current, dict) else "a list" if isinstance(current, list) else "JSON"
        raise CliError(f"--set {path}={text}: {path} takes {kind} written as JSON, e.g. --set '{path}=...'") from None


def samples_help() -> str:
    """`emit --help`'s preview of every event's sample, marked as invented."""
    lines = [
        "sample payloads, invented by the emulator (myPOS documents none; its sandbox sends its own):",
    ]
    for event in EVENT_TYPES:
        text = json.dumps(example_payload(event, "com"))
        wrapped = textwrap.wrap(
            text, 100, initial_indent="    ", subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
        )
        lines += [f"  {event.com_name}", *wrapped]
    lines += [
        "",
        "--set PATH=VALUE replaces a field of the sample (emulator only), typed after it: a string stays text,",
        'so --set data.amount=12.50 sends "12.50"; a number must be one; true/false; JSON for objects and lists.',
        "A path the sample lacks is refused (it could only be a typo); --terminal-id must pass the subscription's",
        "terminal filter. Under the .eu naming, pos.payment.denied and .reversed have the failed and cancelled",
        "samples.",
    ]
    return "\n".join(lines)


# Where to send it


@dataclass(frozen=True)
class Target:
    """A webhook that receives the sample: how the report names it, its URL, and its subscription to the event."""

    name: str
    url: str
    subscription: Subscription


@dataclass(frozen=True)
class Sent:
    target: Target
    result: Notification | None  # None until the first attempt is reported
    reason: str | None = None  # why no answer came, when the sender knew it at once


def stack_targets(stack: Stack, client: MyPOSClient, event: str) -> list[Target]:
    """The stack's webhooks subscribed to `event`, named by their resource names."""
    managed = names_by_id(stack.deployment())
    hooks = {object_id: r for object_id, r in managed.items() if r.kind == "webhook"}
    targets = [
        Target(hooks[s.webhook_id].name, str(hooks[s.webhook_id].outputs.get("payload_url", "")), s)
        for s in client.iter_subscriptions()
        if s.webhook_id in hooks and s.event_name == event
    ]
    if not targets:
        raise CliError(
            f"no webhook of stack {stack.name} subscribes to {event}: declare the subscription and run "
            "`pulumi up` first"
        )
    return targets


def webhook_targets(client: MyPOSClient, event: str, *, webhook_id: str | None, url: str | None) -> list[Target]:
    """The account's webhook `webhook_id`, or every webhook at `url`, with their subscriptions to `event`."""
    hooks = [_webhook(client, webhook_id)] if webhook_id is not None else _webhooks_at(client, url or "")
    subscribed = {hook.id: list(client.iter_subscriptions(webhook_id=hook.id)) for hook in hooks}
    targets = [
        Target(f"webhook {hook.id}", hook.payload_url, subscription)
        for hook in hooks
        for subscription in subscribed[hook.id]
        if subscription.event_name == event
    ]
    if not targets:
        where = f"webhook {webhook_id} ({hooks[0].payload_url})" if webhook_id else f"no webhook at {url}"
        events = sorted({s.event_name for subscriptions in subscribed.values() for s in subscriptions})
        raise CliError(
            f"{where} {'does not subscribe' if webhook_id else 'subscribes'} to {event}; "
            f"{'it subscribes' if webhook_id else 'they subscribe'} to {', '.join(events) or 'nothing'}"
        )
    return targets


def _webhook(client: MyPOSClient, webhook_id: str) -> Webhook:
    try:
        return client.get_webhook(webhook_id)
    except NotFoundError:
        raise CliError(
            f"the account has no webhook {webhook_id}: `python -m mypos_provider list` shows its webhooks"
        ) from None


def _webhooks_at(client: MyPOSClient, url: str) -> list[Webhook]:
    listed = list(client.iter_webhooks())
    hooks = [hook for hook in listed if hook.payload_url == url]
    if not hooks:
        urls = sorted({hook.payload_url for hook in listed})
        hint = f"; did you mean {close[0]}?" if (close := closest(url, urls)) else ""
        raise CliError(f"no webhook of the account has the URL {url}{hint} (`python -m mypos_provider list`)")
    return hooks


def check_terminal(targets: Sequence[Target], choice: SampleChoice) -> None:
    """A chosen terminal must be one each subscription's filter lets through: myPOS would send no other."""
    terminal = choice.overrides.get("data.terminal_id", choice.terminal_id)
    if terminal is None:
        return
    for target in targets:
        allowed = target.subscription.terminal_ids
        if allowed is not None and str(terminal) not in allowed:
            raise CliError(
                f"terminal {terminal} would never reach {target.name}: its subscription to "
                f"{target.subscription.event_name} lets only terminals {', '.join(allowed) or 'none'} through; "
                "pick one of those"
            )


# How to send it


class Sender(Protocol):
    def send(self, target: Target) -> Sent: ...


class FakeEvents:
    """myPOS's sample call (sandbox), which the emulator answers too: the sample as the service makes it."""

    def __init__(self, client: MyPOSClient) -> None:
        self._client = client

    def send(self, target: Target) -> Sent:
        return Sent(target, self._client.request_fake_event(target.subscription.id))


class EmulatorSamples:
    """The emulator's own sample call (`POST /_emulator/sample`), the one that takes a terminal and fields."""

    def __init__(self, control_url: str, token: str | None, choice: SampleChoice) -> None:
        self._url = f"{control_url}/sample"
        self._session = _control_session(token)
        self._session.headers["Content-Type"] = "application/json"
        self._choice = choice

    def send(self, target: Target) -> Sent:
        body: dict[str, Any] = {"subscription_id": target.subscription.id, "overrides": dict(self._choice.overrides)}
        if self._choice.terminal_id is not None:
            body["terminal_id"] = self._choice.terminal_id
        try:
            answer = self._session.post(self._url, json=body, timeout=SAMPLE_TIMEOUT)
            data = answer.json()
        except (requests.RequestException, ValueError):
            raise CliError(
                f"no emulator answers at {self._url}: --set and --terminal-id need the emulator's control plane"
            ) from None
        if not answer.ok:
            refused = data.get("message") if isinstance(data, dict) else None
            raise CliError(f"the emulator refused the sample for {target.name}: {refused or answer.status_code}")
        delivery = data["delivery"]
        return Sent(target, Notification.from_api(delivery), delivery.get("error"))


def emit(
    targets: Sequence[Target],
    sender: Sender,
    client: MyPOSClient,
    *,
    wait: float,
    out: TextIO,
    reasons: DeliveryReasons | None = None,
) -> int:
    sent = [sender.send(target) for target in targets]
    sent = _await_results(client, sent, deadline=time.monotonic() + wait)
    for item in sent:
        print(_describe(item, reasons or NoReasons()), file=out)
    failed = [item for item in sent if item.result is None or not item.result.delivered]
    if failed:
        print(f"{len(failed)} of {len(sent)} deliveries failed", file=out)
    return 1 if failed else 0


def _settled(item: Sent) -> bool:
    """Its first attempt got an answer, or the sender said why it got none."""
    return item.result is not None and (item.result.response_code is not None or item.reason is not None)


def _await_results(client: MyPOSClient, sent: list[Sent], *, deadline: float) -> list[Sent]:
    """Where the first attempt's result was not in the answer (sending may be asynchronous), poll for it."""
    while not all(_settled(item) for item in sent):
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
        sent = [_with_result(client, item) for item in sent]
    return sent


def _with_result(client: MyPOSClient, item: Sent) -> Sent:
    if _settled(item):
        return item
    subscription = item.target.subscription.id
    attempts = [n for n in client.iter_notifications(subscription_id=subscription) if n.retry_count == 0]
    return Sent(item.target, attempts[-1] if attempts else item.result)


def _describe(item: Sent, reasons: DeliveryReasons) -> str:
    where = f"{item.target.name} ({item.target.url})"
    result = item.result
    if result is None:
        return f"  NO RESULT  {where}: myPOS reported no delivery attempt in time"
    if result.delivered:
        return f"  delivered  {where}: HTTP {result.response_code}"
    return f"  FAILED     {where}: {_failure(item, result, reasons)}; myPOS retries it"


def _failure(item: Sent, result: Notification, reasons: DeliveryReasons) -> str:
    if result.response_code is not None:
        return f"HTTP {result.response_code}"
    reason = item.reason or reasons.reason(result)
    return f"no answer: {reason}" if reason else "no answer"
