"""A thin typed client of the myPOS Webhook API v1 (no Pulumi imports)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from .auth import TokenSource, shared_token_source
from .errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    TransientError,
    UnreachableError,
    ValidationError,
    redact,
)
from .models import Event, Notification, Subscription, Webhook, filter_for_tids
from .transport import RETRYABLE_STATUSES, RetryPolicy, build_session

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 100  # the largest page myPOS's sibling APIs allow; fewer requests for big accounts


class _Unsent(Exception):
    """The connection never opened: the server cannot have acted on the request."""


class _Ambiguous(Exception):
    """The request may have reached the server, but no answer came back."""


class _TimedOut(_Ambiguous):
    """No answer within the read timeout: the server may still be working on the request."""


# After a create timed out, look for its object this many read timeouts later (cumulative 0.5, 1, 2)
# before sending it again: a server that could not answer in time may still commit the write.
_LATE_COMMIT_LOOKS = (0.5, 0.5, 1.0)


class MyPOSClient:
    """Webhook API client. Thread-safe; share one instance per credentials (see `shared_client`)."""

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.tokens: TokenSource = shared_token_source(auth_url, client_id, client_secret, self.policy)
        self._client_secret = client_secret
        self._reads = build_session(self.policy)  # urllib3 retries idempotent requests
        self._writes = build_session(None)  # creates run their own duplicate-safe loop
        self._events: tuple[Event, ...] | None = None
        self._events_lock = threading.Lock()

    # ---- events -------------------------------------------------------------------------------------

    def list_events(self) -> tuple[Event, ...]:
        """The live event catalogue, fetched once per client (it changes only with myPOS releases)."""
        with self._events_lock:
            if self._events is None:
                self._events = tuple(self._paginate("/events", "events", Event.from_api, "list events"))
            return self._events

    def event_by_name(self, name: str) -> Event | None:
        return next((e for e in self.list_events() if e.name == name), None)

    # ---- webhooks -----------------------------------------------------------------------------------

    def iter_webhooks(self) -> Iterator[Webhook]:
        return self._paginate("/webhooks", "webhooks", Webhook.from_api, "list webhooks")

    def get_webhook(self, webhook_id: str) -> Webhook:
        body = self._call("GET", f"/webhooks/{_segment(webhook_id)}", operation=f"read webhook {webhook_id}")
        return Webhook.from_api(body)

    def create_webhook(self, payload_url: str, secret: str) -> Webhook:
        """Create a webhook, or adopt the one an earlier ambiguous attempt made (same URL and secret)."""

        def made_by_us() -> Webhook | None:
            return _newest(w for w in self.iter_webhooks() if w.payload_url == payload_url and w.secret == secret)

        body = self._create(
            "create webhook",
            "/webhooks",
            {"payload_url": payload_url, "secret": secret},
            find_existing=made_by_us,
            secrets=[secret],
        )
        if isinstance(body, Webhook):
            return body
        return _complete_webhook(body, payload_url=payload_url, secret=secret, is_active=True)

    def update_webhook(
        self,
        webhook_id: str,
        *,
        payload_url: str | None = None,
        secret: str | None = None,
        is_active: bool | None = None,
    ) -> Webhook:
        fields: dict[str, str] = {}
        if payload_url is not None:
            fields["payload_url"] = payload_url
        if secret is not None:
            fields["secret"] = secret
        if is_active is not None:
            fields["is_active"] = "true" if is_active else "false"
        body = self._call(
            "PATCH",
            f"/webhooks/{_segment(webhook_id)}",
            operation=f"update webhook {webhook_id}",
            data=fields,
            secrets=[secret],
        )
        if not body:
            return self.get_webhook(webhook_id)
        return _complete_webhook(body, payload_url=payload_url, secret=secret, is_active=is_active)

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("DELETE", f"/webhooks/{_segment(webhook_id)}", operation=f"delete webhook {webhook_id}")

    # ---- subscriptions ------------------------------------------------------------------------------

    def iter_subscriptions(self, webhook_id: str | None = None) -> Iterator[Subscription]:
        params = {"webhook_id": webhook_id} if webhook_id else None
        items = self._paginate(
            "/subscriptions", "subscriptions", Subscription.from_api, "list subscriptions", params=params
        )
        # The server may ignore the filter parameter (it is undocumented), so filter here as well.
        return (s for s in items if webhook_id is None or s.webhook_id == webhook_id)

    def get_subscription(self, subscription_id: str) -> Subscription:
        body = self._call(
            "GET", f"/subscriptions/{_segment(subscription_id)}", operation=f"read subscription {subscription_id}"
        )
        return Subscription.from_api(body)

    def create_subscription(
        self, webhook_id: str, event: Event, terminal_ids: Iterable[str] | None = None
    ) -> Subscription:
        """Subscribe, or adopt the subscription an earlier ambiguous attempt made (same webhook and event)."""
        tids = tuple(terminal_ids) if terminal_ids else None
        fields = {"webhook_id": webhook_id, "event_id": event.id}
        if tids:
            fields["filter"] = filter_for_tids(tids)

        def made_by_us() -> Subscription | None:
            return _newest(
                s
                for s in self.iter_subscriptions(webhook_id)
                if s.event_name == event.name and set(s.terminal_ids or ()) == set(tids or ())
            )

        body = self._create("create subscription", "/subscriptions", fields, find_existing=made_by_us)
        if isinstance(body, Subscription):
            return body
        return _complete_subscription(body, webhook_id=webhook_id, event=event, terminal_ids=tids)

    def update_subscription(self, subscription_id: str, terminal_ids: Iterable[str] | None) -> Subscription:
        tids = tuple(terminal_ids) if terminal_ids else None
        body = self._call(
            "PUT",
            f"/subscriptions/{_segment(subscription_id)}",
            operation=f"update subscription {subscription_id}",
            data={"filter": filter_for_tids(tids)},
        )
        if not body:
            return self.get_subscription(subscription_id)
        return Subscription.from_api(body)

    def delete_subscription(self, subscription_id: str) -> None:
        self._call(
            "DELETE", f"/subscriptions/{_segment(subscription_id)}", operation=f"delete subscription {subscription_id}"
        )

    # ---- notifications ------------------------------------------------------------------------------

    def request_fake_event(self, subscription_id: str) -> Notification | None:
        """Ask myPOS (sandbox) or the emulator to deliver a sample event of the subscription's type."""
        body = self._call(
            "POST",
            f"/subscriptions/{_segment(subscription_id)}/fake",
            operation=f"request a sample event for subscription {subscription_id}",
        )
        return Notification.from_api(body) if body else None

    def iter_notifications(self, **filters: str) -> Iterator[Notification]:
        return self._paginate(
            "/notifications", "notifications", Notification.from_api, "list notifications", params=filters or None
        )

    # ---- plumbing -----------------------------------------------------------------------------------

    def _paginate(
        self,
        path: str,
        key: str,
        parse: Callable[[Any], T],
        operation: str,
        params: Mapping[str, str] | None = None,
    ) -> Iterator[T]:
        page = 1
        while True:
            body = self._call(
                "GET", path, operation=operation, params={**(params or {}), "page": page, "size": PAGE_SIZE}
            )
            items = (body or {}).get(key) or []
            yield from (parse(item) for item in items)
            pagination = (body or {}).get("pagination") or {}
            size = int(pagination.get("size") or PAGE_SIZE)
            total = pagination.get("total")
            if not items or (total is not None and page * size >= int(total)) or len(items) < size:
                return
            page += 1

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
    ) -> Any:
        """An idempotent request: urllib3 retries it; a rejected token is renewed once."""
        secrets = list(secrets)
        for renewed in (False, True):
            token = self.tokens.token()
            try:
                response = self._send(self._reads, method, path, token, params=params, data=data)
            except (_Unsent, _Ambiguous) as failure:
                raise self._transport_error(operation, failure) from None
            if response.status_code == 401 and not renewed:
                self.tokens.invalidate(token)
                continue
            return self._parse(response, operation, secrets + [token])
        raise AssertionError("unreachable")

    def _create(
        self,
        operation: str,
        path: str,
        data: Mapping[str, str],
        *,
        find_existing: Callable[[], Any],
        secrets: Iterable[str | None] = (),
    ) -> Any:
        """POST at most `max_attempts` times, never blindly: after an ambiguous failure, adopt what it made."""
        secrets = list(secrets)
        started = time.monotonic()
        problem, status = "no attempt made", None
        for attempt in range(1, self.policy.max_attempts + 1):
            if time.monotonic() - started > self.policy.deadline:
                break
            token = self.tokens.token()
            try:
                response = self._send(self._writes, "POST", path, token, data=data)
            except _Unsent as failure:
                problem, status = str(failure), None
                self._sleep(self._backoff(attempt), started)
                continue
            except _TimedOut as failure:
                problem, status = f"{failure} (the request may have been applied)", None
                if (existing := self._await_late_commit(operation, find_existing, started)) is not None:
                    return existing
                continue
            except _Ambiguous as failure:
                problem, status = f"{failure} (the request may have been applied)", None
                self._sleep(self._backoff(attempt), started)
            else:
                if response.status_code == 401:
                    self.tokens.invalidate(token)
                    problem, status = "HTTP 401 (token refused)", 401
                    continue
                if response.status_code == 429:
                    problem, status = "HTTP 429 (rate limited)", 429
                    self._sleep(_retry_after(response, self.policy.retry_after_max), started)
                    continue
                if response.status_code not in RETRYABLE_STATUSES:
                    return self._parse(response, operation, secrets + [token])
                problem, status = f"HTTP {response.status_code}", response.status_code
                self._sleep(self._backoff(attempt), started)
            # Ambiguous: the object may exist. Adopt it rather than risk a duplicate.
            if (existing := find_existing()) is not None:
                log.info("%s: adopted the object an interrupted attempt created", operation)
                return existing
        raise TransientError(operation, self.policy.max_attempts, problem, status=status)

    def _await_late_commit(self, operation: str, find_existing: Callable[[], Any], started: float) -> Any:
        """The object a timed-out create made after all, looked for over the next two read timeouts; else None.

        One look soon after the timeout is not enough: a server that needed 1.5 timeouts commits after it."""
        for share in _LATE_COMMIT_LOOKS:
            self._sleep(share * self.policy.timeout, started)
            if (existing := find_existing()) is not None:
                log.info("%s: adopted the object a timed-out attempt created", operation)
                return existing
        return None

    def _send(
        self,
        session: requests.Session,
        method: str,
        path: str,
        token: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> requests.Response:
        log.debug("%s %s", method, path)
        try:
            return session.request(
                method,
                self.api_url + path,
                params=params,
                data=data,
                headers={"Authorization": f"Bearer {token}"},
                timeout=(self.policy.connect_timeout, self.policy.timeout),
                allow_redirects=False,  # credentials never follow a redirect to another host
                verify=True,
            )
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                raise _Unsent(f"cannot connect to {urlsplit(self.api_url).netloc}") from None
            raise _Ambiguous("the connection dropped before an answer came") from None
        except requests.Timeout:
            raise _TimedOut(f"no answer within {self.policy.timeout:g}s") from None

    def _transport_error(self, operation: str, failure: Exception) -> Exception:
        if isinstance(failure, _Unsent):
            return UnreachableError(
                f"{operation} failed: {failure} after {self.policy.max_attempts} attempt(s): check mypos:apiUrl "
                "(or MYPOS_API_URL, or mypos:environment) and the network"
            )
        return TransientError(operation, self.policy.max_attempts, str(failure))

    def _parse(self, response: requests.Response, operation: str, secrets: list[str | None]) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content.strip():
                return None
            try:
                return response.json()
            except ValueError:
                raise ApiError(operation, status, "the API answered with something other than JSON") from None
        code, message, field = _error_details(response)
        message = redact(message, secrets + [self._client_secret])
        if status == 404:
            raise NotFoundError(operation, status, message or "not found", error_code=code)
        if status in (400, 422):
            raise ValidationError(operation, status, message, error_code=code, field=field)
        if status == 401:
            raise AuthenticationError(
                operation,
                status,
                "myPOS refused a freshly issued access token; check that "
                "the credentials are allowed to use the Webhook API",
                error_code=code,
            )
        if status == 429 or status >= 500:
            attempts = len(getattr(getattr(response.raw, "retries", None), "history", ())) + 1
            raise TransientError(operation, attempts, f"HTTP {status}", status=status)
        raise ApiError(operation, status, message, error_code=code, field=field)

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.backoff_max, self.policy.backoff_factor * 2 ** (attempt - 1))
        return base + random.uniform(0, self.policy.backoff_jitter)

    def _sleep(self, seconds: float, started: float) -> None:
        remaining = self.policy.deadline - (time.monotonic() - started)
        time.sleep(max(0.0, min(seconds, remaining)))


def _segment(identifier: str) -> str:
    """Object ids go into URL paths: refuse anything that could change the path."""
    if not identifier or any(c in identifier for c in "/?#%\\") or identifier in {".", ".."}:
        raise ValueError(f"not a valid myPOS object id: {identifier!r}")
    return identifier


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the TCP connection was never made (refused, unresolvable, connect timeout)."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError is a subclass


def _retry_after(response: requests.Response, cap: float) -> float:
    value = response.headers.get("Retry-After", "")
    return min(float(value), cap) if value.strip().isdigit() else 1.0


def _error_details(response: requests.Response) -> tuple[str | None, str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:300].strip(), None
    if not isinstance(body, dict):
        return None, str(body)[:300], None
    message = body.get("message") or body.get("error_description") or body.get("error") or ""
    return body.get("error"), str(message), body.get("field")


def _newest(candidates: Iterable[T]) -> T | None:
    """The most recently created of the matches (lists are in creation order)."""
    found = None
    for candidate in candidates:
        found = candidate
    return found


def _complete_webhook(body: Any, *, payload_url: str | None, secret: str | None, is_active: bool | None) -> Webhook:
    """Parse a write response, filling fields a terse response may leave out with what was sent."""
    webhook = Webhook.from_api(body)
    return Webhook(
        id=webhook.id,
        payload_url=webhook.payload_url or payload_url or "",
        secret=webhook.secret or secret or "",
        is_active=webhook.is_active,
        created_on=webhook.created_on,
        deleted_on=webhook.deleted_on,
        events=webhook.events,
    )


def _complete_subscription(
    body: Any, *, webhook_id: str, event: Event, terminal_ids: tuple[str, ...] | None
) -> Subscription:
    subscription = Subscription.from_api(body)
    return Subscription(
        id=subscription.id,
        event_name=subscription.event_name or event.name,
        webhook_id=subscription.webhook_id or webhook_id,
        terminal_ids=subscription.terminal_ids if subscription.terminal_ids is not None else terminal_ids,
        created_on=subscription.created_on,
    )
