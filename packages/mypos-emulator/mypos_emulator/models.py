"""The emulator's data: accounts (one per client credentials pair) and what each owns.

Nothing here locks: every method expects to run inside a transaction of `database.Database`.
"""

from __future__ import annotations

import hmac
import secrets
import string
import types
import typing
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from .catalogue import event_by_id

_TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 42  # real tokens seen in the wild: 42 alphanumerics, not JWTs
_Record = TypeVar("_Record")


@dataclass
class Webhook:
    id: str
    payload_url: str
    secret: str
    is_active: bool
    created_on: float
    deleted_on: float | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_on is not None


@dataclass
class Subscription:
    id: str
    webhook_id: str
    event_id: str
    filter: dict[str, Any] | None
    created_on: float
    deleted_on: float | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_on is not None


@dataclass
class Notification:
    """One delivery attempt. The first nine fields are the public /v1 record; the rest are details for
    the control plane and its dashboard (defaults keep state files of older versions loadable)."""

    id: str
    event: str
    payload: Any
    sent_on: float
    response_code: int | None
    retry_count: int
    url: str
    webhook_id: str
    subscription_id: str
    signature: str = ""  # the X-myPOS-Signature header sent
    body: str = ""  # the exact body sent (JSON, ASCII-escaped)
    answer: str = ""  # the start of the receiver's answer body
    answered_in: float | None = None  # real seconds until the receiver answered
    error: str | None = None  # why no HTTP answer came back
    next_retry_at: float | None = None  # when the next attempt is due, if one is scheduled
    delivery_id: str = ""  # the delivery (one event to one webhook) it is an attempt of
    attempt: int = 0  # its place among that delivery's attempts, resends included
    resent_from: str | None = None  # a resend: the attempt whose body it sent again
    request_headers: list[list[str]] = field(default_factory=list)  # [name, value], as sent
    answer_headers: list[list[str]] = field(default_factory=list)  # [name, value], as answered (bounded)
    signing_scheme: str = ""  # the signing_scheme it was signed under ("": recorded by an older version)
    secret_fingerprint: str = ""  # which secret signed it (signing.secret_fingerprint), never the secret
    request_sent: bool = False  # the whole request went out (without an answer, it may have been processed)
    invented_payload: bool = False  # the emulator made the payload up (a sample), rather than a caller giving it
    stopped_retries: bool = False  # a successful resend that cancelled the retry due (retries_after_resend: stop)

    @staticmethod
    def counts_as_delivered(response_code: int | None) -> bool:
        """Only a 2xx answer is a delivery; 3xx (never followed), 4xx, 5xx and no answer are failures."""
        return response_code is not None and 200 <= response_code < 300

    @property
    def delivered(self) -> bool:
        return self.counts_as_delivered(self.response_code)

    @property
    def delivery_key(self) -> str:
        """What groups attempts: records of older versions, which had no delivery id, stand alone."""
        return self.delivery_id or self.id

    @property
    def number(self) -> int:
        return self.attempt or self.retry_count + 1


@dataclass
class Token:
    value: str
    client_id: str
    scope: str | None
    issued_at: float
    expires_at: float
    revoked: bool = False

    def is_usable(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at

    @property
    def scopes(self) -> set[str]:
        return set((self.scope or "").split())


@dataclass
class Account:
    client_id: str
    client_secret: str
    # dicts keep insertion order, which is the creation order lists must show.
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)

    def live_webhooks(self) -> list[Webhook]:
        return [hook for hook in self.webhooks.values() if not hook.is_deleted]

    def live_webhook(self, webhook_id: str) -> Webhook | None:
        hook = self.webhooks.get(webhook_id)
        return hook if hook is not None and not hook.is_deleted else None

    def live_subscriptions(self) -> list[Subscription]:
        return [sub for sub in self.subscriptions.values() if not sub.is_deleted]

    def live_subscription(self, subscription_id: str) -> Subscription | None:
        sub = self.subscriptions.get(subscription_id)
        return sub if sub is not None and not sub.is_deleted else None

    def subscriptions_of(self, webhook_id: str) -> list[Subscription]:
        return [sub for sub in self.live_subscriptions() if sub.webhook_id == webhook_id]

    def delete_webhook(self, hook: Webhook, now: float) -> None:
        hook.deleted_on = now
        for sub in self.subscriptions_of(hook.id):
            sub.deleted_on = now

    def clear_objects(self) -> None:
        self.webhooks.clear()
        self.subscriptions.clear()
        self.notifications.clear()


class Store:
    """All mutable API state: accounts, what they own, and the tokens issued to them."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}
        # Bumped by every reset, so work started before a reset (a delivery in flight) records nothing.
        self.generation = 0

    def add_account(self, client_id: str, client_secret: str) -> Account:
        account = self.accounts.get(client_id)
        if account is None:
            account = self.accounts[client_id] = Account(client_id, client_secret)
        else:
            account.client_secret = client_secret
        return account

    def authenticate(self, client_id: str, client_secret: str) -> Account | None:
        account = self.accounts.get(client_id)
        if account is None:
            return None
        matches = hmac.compare_digest(account.client_secret.encode(), client_secret.encode())
        return account if matches else None

    def issue_token(self, client_id: str, scope: str | None, lifetime: float, now: float) -> Token:
        value = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        token = Token(value, client_id, scope, issued_at=now, expires_at=now + lifetime)
        self.tokens[value] = token
        return token

    def revoke_token(self, value: str, client_id: str) -> bool:
        token = self.tokens.get(value)
        # RFC 7009: another client's token is silently left alone rather than reported.
        if token is None or token.client_id != client_id:
            return False
        token.revoked = True
        return True

    def expire_all_tokens(self, now: float) -> int:
        for token in self.tokens.values():
            token.expires_at = min(token.expires_at, now)
        return len(self.tokens)

    def clear_objects(self) -> None:
        self.generation += 1
        self.tokens.clear()
        for account in self.accounts.values():
            account.clear_objects()

    def to_dict(self) -> dict[str, Any]:
        """Plain-data copy for the state file (taken under the lock, serialised outside it)."""
        return {
            "accounts": {
                client_id: {
                    "client_secret": account.client_secret,
                    "webhooks": [asdict(hook) for hook in account.webhooks.values()],
                    "subscriptions": [asdict(sub) for sub in account.subscriptions.values()],
                    "notifications": [asdict(note) for note in account.notifications],
                }
                for client_id, account in self.accounts.items()
            },
            "tokens": [asdict(token) for token in self.tokens.values()],
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        """Replaces everything with `data`; raises KeyError/TypeError/ValueError on a malformed shape."""
        accounts: dict[str, Account] = {}
        for client_id, saved in _mapping(data["accounts"], "accounts").items():
            account = Account(str(client_id), _typed_value(saved["client_secret"], str, "client_secret"))
            account.webhooks = {hook.id: hook for hook in (_typed(Webhook, raw) for raw in saved["webhooks"])}
            subs = (_typed(Subscription, raw) for raw in saved["subscriptions"])
            account.subscriptions = {sub.id: sub for sub in subs}
            account.notifications = [_pending_nothing(_typed(Notification, raw)) for raw in saved["notifications"]]
            _check_references(account)
            accounts[account.client_id] = account
        tokens = {token.value: token for token in (_typed(Token, raw) for raw in data["tokens"])}
        orphans = [token.client_id for token in tokens.values() if token.client_id not in accounts]
        if orphans:
            raise ValueError(f"token of unknown account {orphans[0]}")
        self.accounts, self.tokens = accounts, tokens


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"'{name}' must be an object")
    return value


def _typed_value(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {kind.__name__}")
    return value


def _allowed_types(hint: Any) -> tuple[type, ...] | None:
    """Runtime types a field annotation allows; None means anything goes (Any)."""
    if hint is Any:
        return None
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    allowed: list[type] = []
    for option in options:
        origin = typing.get_origin(option) or option
        allowed += [int, float] if origin is float else [origin]
    return tuple(allowed)


def _typed(cls: type[_Record], raw: Any) -> _Record:
    """Builds a record from saved JSON, checking each field's type so bad files fail at load, not later."""
    record = cls(**_mapping(raw, cls.__name__))
    for name, hint in typing.get_type_hints(cls).items():
        allowed = _allowed_types(hint)
        value = getattr(record, name)
        wrong_bool = isinstance(value, bool) and bool not in (allowed or ())
        if allowed is not None and (not isinstance(value, allowed) or wrong_bool):
            raise TypeError(f"{cls.__name__}.{name} has the wrong type ({type(value).__name__})")
    return record


def _pending_nothing(note: Notification) -> Notification:
    # Retries are not rescheduled after a restart: a saved "next retry at" would promise one forever.
    note.next_retry_at = None
    return note


def _check_references(account: Account) -> None:
    for sub in account.subscriptions.values():
        if sub.webhook_id not in account.webhooks:
            raise ValueError(f"subscription {sub.id} names missing webhook {sub.webhook_id}")
        if event_by_id(sub.event_id) is None:
            raise ValueError(f"subscription {sub.id} names unknown event {sub.event_id}")
