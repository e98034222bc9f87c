"""A minimal myPOS webhook receiver to start from (standard library only).

    MYPOS_WEBHOOK_SECRET=... python examples/receiver.py --port 8080
    python examples/receiver.py --port 8080 --secret-file /run/secrets/mypos-webhook

For every POST it:

1. reads the raw body (Content-Length) and checks ``X-myPOS-Signature`` before looking at the
   body at all, answering 401 if the check fails;
2. from then on uses only the bytes the signature covers (``VerifiedSignature.signed_body``): the
   verifier accepts a few re-formatted copies of one body (docs/mypos-api.md §8.4), and only the
   signed form says what myPOS sent. The event name is read from that body, never from the
   unsigned ``X-myPOS-Event`` header, which anyone can change;
3. drops repeated deliveries: myPOS delivers at least once and retries for up to 3 days (§7.3), so
   the same event can arrive more than once. The key is built from signed data only: the signed
   body's event name and ``id`` if it has both, else a SHA-256 of the signed body. This is also the
   replay defence: under the ``body`` signing reading ``t`` is not signed, so a ``--tolerance`` cannot
   stop a replay with a fresh ``t`` (the log says so, from ``VerifiedSignature.replay_protection``);
   a replayed event is still a repeat of its signed id;
4. records the event and answers 200 at once. Any 2xx counts as delivered; anything else,
   redirects included, makes myPOS retry.

It accepts several secrets at once (repeat ``--secret-env``/``--secret-file``, or list one secret per
line in a secret file), so rotating a webhook's secret never refuses a genuine callback: accept the
old and the new one until deliveries signed with the old one have stopped, then drop it.

This example keeps the seen keys in a bounded in-memory set, so a restart forgets them and an
old retry can slip through. In production keep them in a durable store (a database table with a
unique key), held for at least the 3-day retry window, and hand the work to a queue rather than
doing it inside the request.

myPOS only delivers over HTTPS with a valid certificate, so put this behind a TLS-terminating
reverse proxy; it listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

# Lets `python examples/receiver.py` work from a checkout where the package is not installed.
if importlib.util.find_spec("mypos_provider") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mypos_signature import (
    EVENT_HEADER,
    SignatureError,
    SignatureMismatch,
    VerifiedSignature,
    check_tolerance,
    secret_fingerprint,
    verify_signature,
)

log = logging.getLogger("mypos.receiver")

# One secret, several (all accepted, e.g. the old and the new one during a rotation), or a callable
# that returns either on every request (e.g. one that re-reads a file).
Secrets = str | Sequence[str]
SecretSource = Secrets | Callable[[], Secrets]

DEFAULT_SECRET_ENV = "MYPOS_WEBHOOK_SECRET"
MAX_BODY_BYTES = 1024 * 1024
SEEN_KEYS_CAPACITY = 10_000
# A client that stops sending mid-request must not hold a thread forever.
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Delivery:
    """An authentic callback: accepted for processing, or recognised as a repeat.

    Every field comes from signed data: ``event`` is the signed body's ``event`` (None if it names
    none), ``payload`` is the signed body parsed, and ``secret_index`` is the position of the
    secret that verified it (see ``ReceiverServer.secret``). ``timestamp_signed`` says whether the
    signature covered ``t`` (only then can a tolerance refuse a replay).
    """

    event: str | None
    idempotency_key: str
    scheme: str
    body_form: str
    payload: Any
    secret_index: int
    timestamp_signed: bool = False


@dataclass(frozen=True)
class Rejection:
    """A request that was refused, and why (an exception class name, never the secret).

    ``event`` is the ``X-myPOS-Event`` header as sent: unsigned, so only a claim, kept for the log.
    """

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

    ``secret`` is the webhook secret, a sequence of secrets that are all accepted (the old and the
    new one while a rotation rolls out), or a callable returning either on every request (for
    example one that re-reads a file). Assign ``.secret`` to rotate while running. A bad secret or
    tolerance raises ValueError here, before the port is opened.
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
        self.tolerance = check_tolerance(tolerance)
        if not callable(secret):
            secret_list(secret)  # a callable is checked on each request instead
        self.secret: SecretSource = secret  # assign a new one to rotate while running
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._seen = SeenKeys(seen_keys_capacity)
        self._accepted: list[Delivery] = []
        self._duplicates: list[Delivery] = []
        self._rejected: list[Rejection] = []
        self._told_unsigned_tolerance = False
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def current_secrets(self) -> tuple[str, ...]:
        """The secrets accepted right now; raises OSError/ValueError if a source cannot supply them."""
        source = self.secret
        return secret_list(source() if callable(source) else source)

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

    def first_unsigned_tolerance(self) -> bool:
        """True once: the first time a tolerance meets a t the signature does not cover (worth one warning)."""
        with self._lock:
            first, self._told_unsigned_tolerance = not self._told_unsigned_tolerance, True
        return first

    def record_delivery(self, delivery: Delivery) -> bool:
        """Store an authentic delivery; return False if its key was already seen."""
        # Check and insert under one lock, so two concurrent retries cannot both be "first".
        with self._lock:
            is_new = self._seen.add(delivery.idempotency_key)
            (self._accepted if is_new else self._duplicates).append(delivery)
        return is_new


def secret_list(secrets: Secrets) -> tuple[str, ...]:
    """``secrets`` as a tuple of non-empty strings; ValueError (naming no secret) otherwise."""
    listed = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    if not listed:
        raise ValueError("no webhook secret given: pass the secret, or a list of the secrets to accept")
    if not all(isinstance(item, str) and item for item in listed):
        raise ValueError("every webhook secret must be a non-empty string")
    return listed


def signed_event(payload: Any) -> str | None:
    """The event name the signed body gives, if it gives one as a string."""
    event = payload.get("event") if isinstance(payload, dict) else None
    return event if isinstance(event, str) and event else None


def idempotency_key(signed_body: bytes, payload: Any) -> str:
    """A key built from signed data only: the signed event and ``id``, else a hash of the signed body.

    The payload format is undocumented (docs/mypos-api.md §6.2): if ``id`` names the payment rather
    than the event, a later "reversed" for the same payment must not count as a repeat of
    "completed", so an ``id`` is used only together with the event name the same body signs.
    """
    event = signed_event(payload)
    payload_id = payload.get("id") if isinstance(payload, dict) else None
    has_id = isinstance(payload_id, (str, int)) and not isinstance(payload_id, bool) and payload_id != ""
    if event is not None and has_id:
        return f"id:{event}:{payload_id}"
    return f"sha256:{hashlib.sha256(signed_body).hexdigest()}"


def fingerprints(secrets: Sequence[str]) -> str:
    """The secrets by position and fingerprint (never by value), to compare with the emulator's dashboard."""
    return ", ".join(f"#{index} {secret_fingerprint(secret)}" for index, secret in enumerate(secrets, 1))


def printable(text: str) -> str:
    """``text`` as one log-safe line: control characters (CR, LF, ESC ...) escaped, not interpreted."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _handler_for(receiver: ReceiverServer) -> type[BaseHTTPRequestHandler]:
    class WebhookHandler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_SECONDS

        def do_POST(self) -> None:
            # X-myPOS-Event is not covered by the signature: it only labels rejections in the log (with %r,
            # so a crafted value cannot forge log lines), and never reaches a delivery or its key.
            claimed_event = self.headers.get(EVENT_HEADER, "")
            body = self._read_body(claimed_event)
            if body is None:
                return
            checked = self._verify(body, claimed_event)  # before the body is parsed or acted on
            if checked is None:
                return
            verified, secret_count = checked
            try:
                # The signed form, not the received bytes: a re-spaced copy must parse (and dedupe) the same.
                payload = json.loads(verified.signed_body)
            except (ValueError, RecursionError):
                self._reject(HTTPStatus.BAD_REQUEST, claimed_event, "InvalidJSON")
                return
            delivery = Delivery(
                event=signed_event(payload),
                idempotency_key=idempotency_key(verified.signed_body, payload),
                scheme=verified.scheme,
                body_form=verified.body_form,
                payload=payload,
                secret_index=verified.secret_index,
                timestamp_signed=verified.timestamp_signed,
            )
            if receiver.tolerance is not None and not verified.timestamp_signed and receiver.first_unsigned_tolerance():
                log.warning("--tolerance: %s", verified.replay_protection)
            if delivery.event is not None and claimed_event != delivery.event:
                log.warning(
                    "%s header %r differs from the signed event %r", EVENT_HEADER, claimed_event, delivery.event
                )
            self._acknowledge(delivery, secret_count)

        def _verify(self, body: bytes, claimed_event: str) -> tuple[VerifiedSignature, int] | None:
            try:
                secrets = receiver.current_secrets()
            except (OSError, ValueError) as failure:
                # Our fault, not the sender's: a 5xx makes myPOS retry later.
                log.error("webhook secret unavailable: %s", type(failure).__name__)
                self._reject(HTTPStatus.INTERNAL_SERVER_ERROR, claimed_event, "SecretUnavailable")
                return None
            try:
                verified = verify_signature(body, self.headers, secrets, tolerance=receiver.tolerance)
            except SignatureError as failure:
                if isinstance(failure, SignatureMismatch):
                    # Fingerprints, not secrets: compare them with the one the emulator's dashboard shows.
                    log.warning("no secret matched; secrets tried by fingerprint: %s", fingerprints(secrets))
                self._reject(HTTPStatus.UNAUTHORIZED, claimed_event, type(failure).__name__)
                return None
            return verified, len(secrets)

        def _acknowledge(self, delivery: Delivery, secret_count: int) -> None:
            if receiver.record_delivery(delivery):
                # Which signing variant matched settles how myPOS really signs (docs/mypos-api.md §8.5);
                # which secret matched tells when an old one has stopped being used (after a rotation).
                # Whether t was signed says whether a tolerance could refuse a replay of it at all.
                log.info(
                    "accepted %r %r (secret #%d of %d, scheme=%s, body_form=%s, t %s)",
                    delivery.event,
                    delivery.idempotency_key,
                    delivery.secret_index + 1,
                    secret_count,
                    delivery.scheme,
                    delivery.body_form,
                    "signed" if delivery.timestamp_signed else "not signed",
                )
            else:
                log.info("duplicate %r %r, acknowledged again", delivery.event, delivery.idempotency_key)
            # A duplicate still gets 200: anything else would make myPOS keep retrying it.
            self._answer(HTTPStatus.OK, "ok")

        def _read_body(self, claimed_event: str) -> bytes | None:
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                self._reject(HTTPStatus.LENGTH_REQUIRED, claimed_event, "MissingContentLength")
                return None
            if not (length_text.isascii() and length_text.isdigit()):
                self._reject(HTTPStatus.BAD_REQUEST, claimed_event, "BadContentLength")
                return None
            length = int(length_text)
            if length > receiver.max_body_bytes:
                self._reject(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, claimed_event, "BodyTooLarge")
                return None
            return self.rfile.read(length)

        def _reject(self, status: HTTPStatus, claimed_event: str, failure: str) -> None:
            receiver.record_rejection(claimed_event, failure)
            log.warning("rejected %r from %s: %s", claimed_event, self.client_address[0], failure)
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
            # The request line is the sender's text: escape it like every other value from outside.
            log.debug("%s %s", self.client_address[0], printable(format % args))

    return WebhookHandler


def secret_from_args(args: argparse.Namespace) -> SecretSource:
    """The secrets the command line names: each --secret-env variable, then each --secret-file's lines.

    Variables are read once; files are re-read on every request, so editing a file rotates without a
    restart. Every problem stops start-up with one line naming the variable or file.
    """
    env_names: list[str] = args.secret_env or ([] if args.secret_file else [DEFAULT_SECRET_ENV])
    from_env = tuple(secret_from_env(name) for name in env_names)
    paths = [Path(name) for name in args.secret_file or []]
    if not paths:
        return from_env[0] if len(from_env) == 1 else from_env
    for path in paths:
        try:
            read_secret_file(path)  # fail at start-up, not on the first callback
        except (OSError, ValueError) as problem:
            raise SystemExit(f"receiver: cannot use secret file: {problem}") from None
    return lambda: from_env + tuple(secret for path in paths for secret in read_secret_file(path))


def secret_from_env(name: str) -> str:
    secret = os.environ.get(name, "")
    if not secret:
        raise SystemExit(f"receiver: set the webhook secret in ${name} or pass --secret-file")
    return secret


def read_secret_file(path: Path) -> tuple[str, ...]:
    """The secrets in ``path``, one per line (a secret never contains a line break)."""
    # Only line breaks are dropped: other whitespace may be part of a secret. Blank lines are skipped.
    lines = (line.removesuffix("\r") for line in path.read_text(encoding="utf-8").split("\n"))
    secrets = tuple(line for line in lines if line.strip())
    if not secrets:
        raise ValueError(f"{path} holds no secret")
    return secrets


def tolerance_argument(text: str) -> float:
    """--tolerance: a finite number of seconds, 0 or more (argparse's float() also takes nan and inf)."""
    problem = f"{text!r} is not a finite number of seconds (0 or more): omit --tolerance to turn the check off"
    try:
        tolerance = check_tolerance(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    assert tolerance is not None
    return tolerance


class OneLineArgumentParser(argparse.ArgumentParser):
    """Reports a bad option in one line (naming it and the fix) instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"receiver: {message} (see --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineArgumentParser(description="Receive and verify myPOS webhook callbacks.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any)")
    parser.add_argument(
        "--secret-env",
        action="append",
        metavar="NAME",
        help=(
            "environment variable holding a secret; repeat it to accept several, e.g. the old and the new one"
            f" during a rotation (default: {DEFAULT_SECRET_ENV}, unless --secret-file is given)"
        ),
    )
    parser.add_argument(
        "--secret-file",
        action="append",
        metavar="PATH",
        help="file holding the secret, or several one per line; re-read on every request; repeatable",
    )
    parser.add_argument(
        "--tolerance",
        type=tolerance_argument,
        metavar="SECONDS",
        help="reject signatures whose t is further than this from now (off by default: myPOS retries for up to 3 days);"
        " it protects only a signed t, and under the 'body' signing reading t is not signed: duplicates of the signed"
        " event id are dropped either way",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    secrets = secret_from_args(args)
    try:
        receiver = ReceiverServer(secrets, args.host, args.port, tolerance=args.tolerance)
    except (OSError, OverflowError) as problem:
        raise SystemExit(f"receiver: cannot listen on {args.host}:{args.port}: {problem}") from None
    receiver.start()
    with contextlib.suppress(OSError, ValueError):  # a secret file gone since start-up: each request says so
        log.info("accepting secrets by fingerprint: %s", fingerprints(receiver.current_secrets()))
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
