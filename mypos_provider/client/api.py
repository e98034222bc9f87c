"""A thin typed client of the myPOS Webhook API v1 (no Pulumi imports; docs/mypos-api.md §3 to §6)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import requests

from .auth import Credentials, TokenSource
from .errors import ApiError, AuthenticationError, Culprit, NotFoundError, ValidationError
from .models import Event, Notification, Subscription, Webhook, filter_for_tids
from .policy import RETRYABLE_STATUSES, CallKind, RequestPolicy, never_connected
from .redaction import SecretRedactor
from .transport import RetryPolicy, TransportOptions, build_session

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 100  # the largest page myPOS's sibling APIs allow; fewer requests for big accounts
DEFAULT_CONCURRENCY = 8  # requests at once for a caller that does not say (a shell sizes its client itself)
LookUp = Callable[[], T | None]


@dataclass(frozen=True)
class Made(Generic[T]):
    """What a create returned: the object, and whether `look_up` found it after an attempt of unknown outcome.

    A found object is one the interrupted attempt most likely made; the caller decides what to tell its user."""

    object: T
    found_by_look_up: bool = False
    # Attempts that may have been applied (no answer, a dropped connection, a 5xx) and that the look-up did not
    # find before the create was sent again: myPOS may still commit them, late, as duplicates of `object`.
    unresolved_attempts: int = 0


class MyPOSClient:
    """Webhook API client. Thread-safe: one instance serves every resource of a deployment."""

    def __init__(
        self,
        *,
        api_url: str,
        tokens: TokenSource,
        session: requests.Session,
        policy: RequestPolicy,
        redactor: SecretRedactor,
        server_clock: ServerClock | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self._session = session
        self._policy = policy
        self._redactor = redactor
        self._server_clock = server_clock or ServerClock()
        self._events: tuple[Event, ...] | None = None
        self._events_lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        *,
        api_url: str,
        auth_url: str,
        credentials: Credentials,
        retry: RetryPolicy = RetryPolicy(),
        transport: TransportOptions = TransportOptions(),
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> MyPOSClient:
        """A client with its own session, token source and redactor: nothing is shared with other clients.

        `concurrency`: how many requests its callers send at once (the connections it keeps open)."""
        session = build_session(transport, pool_size=concurrency)
        redactor = SecretRedactor()
        clock = ServerClock()
        tokens = TokenSource(
            auth_url,
            credentials,
            session=session,
            policy=RequestPolicy(retry, endpoint=Culprit.AUTH_ENDPOINT, service="Auth API", host=_host(auth_url)),
            redactor=redactor,
            on_answer=clock.observe,
        )
        policy = RequestPolicy(retry, endpoint=Culprit.API_ENDPOINT, service="Webhook API", host=_host(api_url))
        return cls(
            api_url=api_url, tokens=tokens, session=session, policy=policy, redactor=redactor, server_clock=clock
        )

    @property
    def retry(self) -> RetryPolicy:
        return self._policy.policy

    def server_now(self) -> float:
        """myPOS's clock, to compare with `created_on`: from the `Date` header of its last answer (the Auth API's
        token answer until the Webhook API has answered), ours until one came."""
        return self._server_clock.now()

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

    def create_webhook(self, payload_url: str, secret: str, *, look_up: LookUp[Webhook]) -> Made[Webhook]:
        """Create a webhook. After an ambiguous failure, `look_up` finds what the attempt made, if anything."""
        self._redactor.add(secret)
        outcome, unresolved = self._create(
            "create webhook", "/webhooks", {"payload_url": payload_url, "secret": secret}, look_up=look_up
        )
        if isinstance(outcome, Webhook):
            return Made(outcome, found_by_look_up=True)
        webhook = _complete_webhook(outcome, payload_url=payload_url, secret=secret, is_active=True)
        return Made(webhook, unresolved_attempts=unresolved)

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
            self._redactor.add(secret)
            fields["secret"] = secret
        if is_active is not None:
            fields["is_active"] = "true" if is_active else "false"
        body = self._call(
            "PATCH", f"/webhooks/{_segment(webhook_id)}", operation=f"update webhook {webhook_id}", data=fields
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
        self,
        webhook_id: str,
        event: Event,
        terminal_ids: Iterable[str] | None = None,
        *,
        look_up: LookUp[Subscription],
    ) -> Made[Subscription]:
        """Subscribe. After an ambiguous failure, `look_up` finds what the attempt made, if anything."""
        tids = tuple(terminal_ids) if terminal_ids else None
        fields = {"webhook_id": webhook_id, "event_id": event.id}
        if tids:
            fields["filter"] = filter_for_tids(tids)
        outcome, unresolved = self._create("create subscription", "/subscriptions", fields, look_up=look_up)
        if isinstance(outcome, Subscription):
            return Made(outcome, found_by_look_up=True)
        made = _complete_subscription(outcome, webhook_id=webhook_id, event=event, terminal_ids=tids)
        return Made(made, unresolved_attempts=unresolved)

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
            query = {**(params or {}), "page": page, "size": PAGE_SIZE}
            body = self._call("GET", path, operation=operation, params=query)
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
    ) -> Any:
        """An idempotent request (a POST only for the sample-event trigger, which creates nothing we track)."""
        send = self._sender(method, path, params=params, data=data)
        response = self._policy.call(CallKind.IDEMPOTENT, operation, send, renew_token=self._renew)
        return self._parse(response, operation)

    def _create(self, operation: str, path: str, data: Mapping[str, str], *, look_up: LookUp[T]) -> tuple[Any, int]:
        """What the create made (or the look-up found), and how many of its attempts may have been applied
        without being found."""
        send = self._sender("POST", path, data=data)
        ambiguous = 0

        def counted() -> requests.Response:
            nonlocal ambiguous
            try:
                response = send()
            except requests.RequestException as error:
                never = isinstance(error, requests.ConnectTimeout) or (
                    isinstance(error, requests.ConnectionError) and never_connected(error)
                )
                ambiguous += 0 if never else 1
                raise
            ambiguous += 1 if response.status_code in RETRYABLE_STATUSES and response.status_code != 429 else 0
            return response

        outcome = self._policy.create(operation, counted, look_up, renew_token=self._renew)
        if not isinstance(outcome, requests.Response):
            log.info("%s: adopted the object an interrupted attempt created", operation)
            return outcome, 0
        parsed = self._parse(outcome, operation)
        return parsed, ambiguous

    def _sender(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Callable[[], requests.Response]:
        url = self.api_url + path
        retry = self._policy.policy

        def send() -> requests.Response:
            log.debug("%s %s", method, path)
            response = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers={"Authorization": f"Bearer {self.tokens.token()}"},
                timeout=(retry.connect_timeout, retry.timeout),
                allow_redirects=False,  # the token never follows a redirect to another host
            )
            self._server_clock.observe(response)
            return response

        return send

    def _renew(self, refused: requests.Response) -> None:
        header = str(refused.request.headers.get("Authorization", ""))
        self.tokens.invalidate(header.removeprefix("Bearer "))

    def _parse(self, response: requests.Response, operation: str) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content.strip():
                return None
            try:
                return response.json()
            except ValueError:
                raise ApiError(operation, status, "the API answered with something other than JSON") from None
        code, message, field = _error_details(response, self._redactor)
        if status == 404:
            raise NotFoundError(operation, status, message or "not found", error_code=code)
        if status in (400, 422):
            raise ValidationError(operation, status, message, error_code=code, field=field)
        if status == 401:
            raise AuthenticationError(
                operation,
                status,
                "the Webhook API refused a freshly issued access token; the credentials may not be allowed to use it",
                error_code=code,
            )
        raise ApiError(operation, status, message, error_code=code, field=field)


class ServerClock:
    """myPOS's clock, learned from its `Date` headers, for comparing our moments with its `created_on`.

    The Auth API's answers count as well as the Webhook API's (both are myPOS's servers): an operation then knows
    the server's time as soon as it holds a token, before any Webhook API request has been answered."""

    def __init__(self) -> None:
        self._offset = 0.0

    def observe(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if not date:
            return
        try:
            server_time = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self._offset = server_time - time.time()

    def now(self) -> float:
        return time.time() + self._offset


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _segment(identifier: str) -> str:
    """Object ids go into URL paths: refuse anything that could change the path."""
    if not identifier or any(c in identifier for c in "/?#%\\") or identifier in {".", ".."}:
        raise ValueError(f"not a valid myPOS object id: {identifier!r}")
    return identifier


_ERROR_FIELDS = ("message", "error_description", "error", "detail", "details", "description")


def _error_details(response: requests.Response, redactor: SecretRedactor) -> tuple[str | None, str, str | None]:
    """Error code, message and field of an error answer, every part redacted (a server may echo the request)."""
    try:
        body = response.json()
    except ValueError:
        return None, redactor.redact(response.text[:300].strip()), None
    if not isinstance(body, dict):
        return None, redactor.redact(str(body)[:300]), None
    texts = [str(body[key]) for key in _ERROR_FIELDS if isinstance(body.get(key), str | int) and body.get(key)]
    message = redactor.redact(texts[0] if texts else "")[:300]
    code = body.get("error")
    field = body.get("field")
    safe_code = redactor.redact(code)[:60] if isinstance(code, str) else None
    safe_field = redactor.redact(field)[:60] if isinstance(field, str) else None
    return safe_code, message, safe_field


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
