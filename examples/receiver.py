"""A minimal myPOS webhook receiver to start from (standard library only).

    MYPOS_WEBHOOK_SECRET=... python examples/receiver.py --port 8080
    python examples/receiver.py --port 8080 --secret-file /run/secrets/mypos-webhook

For every POST it:

1. reads the raw body (Content-Length) and checks ``X-myPOS-Signature`` before looking at the
   body at all, answering 401 if the check fails;
2. drops repeated deliveries: myPOS delivers at least once and retries for up to 3 days, so the
   same event can arrive more than once. The key is the event name with the payload's ``id``
   if it has one, else a SHA-256 of the event name and body;
3. records the event and answers 200 at once. Any 2xx counts as delivered; anything else,
   redirects included, makes myPOS retry.

This example keeps the seen keys in a bounded in-memory set, so a restart forgets them and an
old retry can slip through. In production keep them in a durable store (a database table with a
unique key), held for at least the 3-day retry window, and hand the work to a queue rather than
doing it inside the request.

myPOS only delivers over HTTPS with a valid certificate, so put this behind a TLS-terminating
reverse proxy; it listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Lets `python examples/receiver.py` work from a checkout where the package is not installed.
if importlib.util.find_spec("mypos_provider") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mypos_provider.signature import (
    EVENT_HEADER,
    SignatureError,
    VerifiedSignature,
    verify_signature,
)

log = logging.getLogger("mypos.receiver")

SecretSource = str | Callable[[], str]

MAX_BODY_BYTES = 1024 * 1024
SEEN_KEYS_CAPACITY = 10_000
# A client that stops sending mid-request must not hold a thread forever.
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Delivery:
    """An authentic callback: accepted for processing, or recognised as a repeat."""

    event: str
    idempotency_key: str
    scheme: str
    body_form: str
    payload: Any


@dataclass(frozen=True)
class Rejection:
    """A request that was refused, and why (an exception class name, never the secret)."""

    event: str
    failure: str


class SeenKeys:
    """A bounded set of idempotency keys; the oldest are forgotten first."""

    def __init__(self, capacity: int = SEEN_KEYS_CAPACITY) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; return False if it was already known."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return True


class ReceiverServer:
    """The receiver as an object, so tests (and other programs) can run it in-process.

    ``secret`` is the webhook secret, or a callable returning it on every request (for example
    one that re-reads a file). Assign ``.secret`` to rotate it while running.
    """

    def __init__(
        self,
        secret: SecretSource,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tolerance: float | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        seen_keys_capacity: int = SEEN_KEYS_CAPACITY,
    ) -> None:
        self.secret: SecretSource = secret  # assign a new one to rotate while running
        self.tolerance = tolerance
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._seen = SeenKeys(seen_keys_capacity)
        self._accepted: list[Delivery] = []
        self._duplicates: list[Delivery] = []
        self._rejected: list[Rejection] = []
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def current_secret(self) -> str:
        source = self.secret
        return source() if callable(source) else source

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host_text = host.decode("ascii") if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}"

    @property
    def accepted(self) -> list[Delivery]:
        with self._lock:
            return list(self._accepted)

    @property
    def duplicates(self) -> list[Delivery]:
        with self._lock:
            return list(self._duplicates)

    @property
    def rejected(self) -> list[Rejection]:
        with self._lock:
            return list(self._rejected)

    def start(self) -> ReceiverServer:
        # Idempotent: `with ReceiverServer(...).start() as r` must not start a second serving loop, which
        # would race the first one on shutdown and could leave stop() waiting forever.
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="mypos-receiver", daemon=True)
            self._thread.start()
        return self

    def _serve(self) -> None:
        # A short poll keeps stop() quick; the cost is a few idle wake-ups a second.
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record_rejection(self, event: str, failure: str) -> None:
        with self._lock:
            self._rejected.append(Rejection(event=event, failure=failure))

    def record_delivery(self, delivery: Delivery) -> bool:
        """Store an authentic delivery; return False if its key was already seen."""
        # Check and insert under one lock, so two concurrent retries cannot both be "first".
        with self._lock:
            is_new = self._seen.add(delivery.idempotency_key)
            (self._accepted if is_new else self._duplicates).append(delivery)
        return is_new


def idempotency_key(event: str, body: bytes, payload: Any) -> str:
    """The payload's ``id`` if it has one, else a hash of what myPOS would resend unchanged."""
    payload_id = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(payload_id, (str, int)) and payload_id != "":
        # The payload format is undocumented: if `id` names the payment rather than the event,
        # a later "reversed" for the same payment must not count as a repeat of "completed".
        return f"id:{event}:{payload_id}"
    digest = hashlib.sha256(event.encode("utf-8") + b"\n" + body).hexdigest()
    return f"sha256:{digest}"


def _handler_for(receiver: ReceiverServer) -> type[BaseHTTPRequestHandler]:
    class WebhookHandler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_SECONDS

        def do_POST(self) -> None:
            # X-myPOS-Event is not covered by the signature: use it for routing, not trust, and
            # log it with %r so a crafted value cannot forge log lines.
            event = self.headers.get(EVENT_HEADER, "")
            body = self._read_body(event)
            if body is None:
                return
            verified = self._verify(body, event)  # before the body is parsed or acted on
            if verified is None:
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self._reject(HTTPStatus.BAD_REQUEST, event, "InvalidJSON")
                return
            self._acknowledge(
                Delivery(
                    event=event,
                    idempotency_key=idempotency_key(event, body, payload),
                    scheme=verified.scheme,
                    body_form=verified.body_form,
                    payload=payload,
                )
            )

        def _verify(self, body: bytes, event: str) -> VerifiedSignature | None:
            try:
                secret = receiver.current_secret()
            except (OSError, ValueError) as failure:
                # Our fault, not the sender's: a 5xx makes myPOS retry later.
                log.error("webhook secret unavailable: %s", type(failure).__name__)
                self._reject(HTTPStatus.INTERNAL_SERVER_ERROR, event, "SecretUnavailable")
                return None
            try:
                return verify_signature(body, self.headers, secret, tolerance=receiver.tolerance)
            except SignatureError as failure:
                self._reject(HTTPStatus.UNAUTHORIZED, event, type(failure).__name__)
                return None

        def _acknowledge(self, delivery: Delivery) -> None:
            if receiver.record_delivery(delivery):
                # Logging the scheme pins down how myPOS really signs (research notes, 8.5).
                log.info(
                    "accepted %r %s (scheme=%s, body_form=%s)",
                    delivery.event,
                    delivery.idempotency_key,
                    delivery.scheme,
                    delivery.body_form,
                )
            else:
                log.info("duplicate %r %s, acknowledged again", delivery.event, delivery.idempotency_key)
            # A duplicate still gets 200: anything else would make myPOS keep retrying it.
            self._answer(HTTPStatus.OK, "ok")

        def _read_body(self, event: str) -> bytes | None:
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                self._reject(HTTPStatus.LENGTH_REQUIRED, event, "MissingContentLength")
                return None
            if not (length_text.isascii() and length_text.isdigit()):
                self._reject(HTTPStatus.BAD_REQUEST, event, "BadContentLength")
                return None
            length = int(length_text)
            if length > receiver.max_body_bytes:
                self._reject(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, event, "BodyTooLarge")
                return None
            return self.rfile.read(length)

        def _reject(self, status: HTTPStatus, event: str, failure: str) -> None:
            receiver.record_rejection(event, failure)
            log.warning("rejected %r from %s: %s", event, self.client_address[0], failure)
            # Say no more than the status: details would help a forger, not myPOS.
            self._answer(status, status.phrase.lower())

        def _answer(self, status: HTTPStatus, text: str) -> None:
            encoded = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.client_address[0], format % args)

    return WebhookHandler


def secret_from_args(args: argparse.Namespace) -> SecretSource:
    if args.secret_file is not None:
        path = Path(args.secret_file)
        try:
            read_secret_file(path)  # fail at start-up, not on the first callback
        except (OSError, ValueError) as problem:
            raise SystemExit(f"receiver: cannot use secret file: {problem}") from None
        # Re-read per request, so replacing the file rotates the secret without a restart.
        return lambda: read_secret_file(path)
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        raise SystemExit(f"receiver: set the webhook secret in ${args.secret_env} or pass --secret-file")
    return secret


def read_secret_file(path: Path) -> str:
    # Only the line break editors append is dropped; other whitespace may be part of the secret.
    secret = path.read_text(encoding="utf-8").rstrip("\r\n")
    if not secret:
        raise ValueError(f"{path} is empty")
    return secret


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Receive and verify myPOS webhook callbacks.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any)")
    parser.add_argument(
        "--secret-env",
        default="MYPOS_WEBHOOK_SECRET",
        metavar="NAME",
        help="environment variable holding the secret (default: %(default)s)",
    )
    parser.add_argument(
        "--secret-file", metavar="PATH", help="read the secret from this file instead (re-read on every request)"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        metavar="SECONDS",
        help="reject signatures whose t is further than this from now (off by default: myPOS retries for up to 3 days)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    receiver = ReceiverServer(secret_from_args(args), args.host, args.port, tolerance=args.tolerance)
    receiver.start()
    try:
        # SIGTERM stops the receiver the way Ctrl-C does, so both must land inside this try: one sent
        # the moment the ready line appears must not escape it. (A handler that sets a threading.Event
        # can deadlock instead: it may interrupt the main thread while it holds that Event's lock.)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        print(f"receiver listening on {receiver.url}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
