"""The example receiver in examples/receiver.py, run in-process on an ephemeral port."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from mypos_provider.signature import EVENT_HEADER, SIGNATURE_HEADER, sign

if TYPE_CHECKING:  # the file is loaded by path at run time; this is for type checkers only
    from examples.receiver import ReceiverServer as Receiver

RECEIVER_PATH = Path(__file__).resolve().parents[2] / "examples" / "receiver.py"
SECRET = "whsec_receiver_test_7c1e"
EVENT = "pos.payment.completed"
BODY = b'{"id":"evt_100","event":"pos.payment.completed","amount":12.5}'
TIMESTAMP = 1700000000


def load_receiver_module() -> ModuleType:
    # examples/ is not a package; load the file the way a merchant would copy it.
    spec = importlib.util.spec_from_file_location("mypos_example_receiver", RECEIVER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


receiver_module = load_receiver_module()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = receiver_module.ReceiverServer(SECRET).start()
    yield server
    server.stop()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def signed_headers(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: EVENT,
        SIGNATURE_HEADER: sign(body, secret, timestamp=TIMESTAMP),
    }


def test_correctly_signed_delivery_is_acknowledged_and_accepted(receiver: Receiver) -> None:
    assert post(receiver.url, BODY, signed_headers()) == 200
    [delivery] = receiver.accepted
    assert (delivery.event, delivery.idempotency_key) == (EVENT, f"id:{EVENT}:evt_100")
    assert (delivery.scheme, delivery.body_form) == ("body", "raw")


def test_accepted_delivery_keeps_the_parsed_payload(receiver: Receiver) -> None:
    post(receiver.url, BODY, signed_headers())
    assert receiver.accepted[0].payload["amount"] == 12.5


def test_repeated_delivery_is_acknowledged_and_counted_as_duplicate(receiver: Receiver) -> None:
    post(receiver.url, BODY, signed_headers())
    assert post(receiver.url, BODY, signed_headers()) == 200
    assert (len(receiver.accepted), len(receiver.duplicates)) == (1, 1)


def test_payload_without_id_is_deduplicated_by_event_and_body_hash(receiver: Receiver) -> None:
    body = b'{"amount":3}'
    post(receiver.url, body, signed_headers(body))
    post(receiver.url, body, signed_headers(body))
    [duplicate] = receiver.duplicates
    assert duplicate.idempotency_key.startswith("sha256:")


def test_forged_delivery_is_refused_with_401_and_recorded(receiver: Receiver) -> None:
    assert post(receiver.url, BODY, signed_headers(secret="not-the-secret")) == 401
    assert [(r.event, r.failure) for r in receiver.rejected] == [(EVENT, "SignatureMismatch")]
    assert receiver.accepted == []


def test_missing_signature_header_is_refused_with_401(receiver: Receiver) -> None:
    status = post(receiver.url, BODY, {"Content-Type": "application/json", EVENT_HEADER: EVENT})
    assert status == 401
    assert [r.failure for r in receiver.rejected] == ["MissingSignatureHeader"]


def test_rotated_secret_refuses_the_old_one_and_accepts_the_new_one(receiver: Receiver) -> None:
    receiver.secret = "whsec_rotated"
    old = post(receiver.url, BODY, signed_headers())
    new = post(receiver.url, BODY, signed_headers(secret="whsec_rotated"))
    assert (old, new) == (401, 200)


def test_oversized_body_is_refused_without_verifying(receiver: Receiver) -> None:
    receiver.max_body_bytes = 10
    assert post(receiver.url, BODY, signed_headers()) == 413


def test_rejection_logs_the_failure_type_but_never_the_secret(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        post(receiver.url, BODY, signed_headers(secret="not-the-secret"))
    assert "SignatureMismatch" in caplog.text
    assert SECRET not in caplog.text


def test_same_payload_id_under_another_event_is_not_a_duplicate(receiver: Receiver) -> None:
    post(receiver.url, BODY, signed_headers())
    reversal = {**signed_headers(), EVENT_HEADER: "pos.payment.reversed"}
    post(receiver.url, BODY, reversal)
    assert (len(receiver.accepted), len(receiver.duplicates)) == (2, 0)


def test_seen_keys_forget_the_oldest_beyond_capacity() -> None:
    seen = receiver_module.SeenKeys(capacity=2)
    for key in ("a", "b", "c"):
        seen.add(key)
    assert (seen.add("a"), seen.add("c")) == (True, False)


def test_secret_file_is_reread_so_replacing_it_rotates_the_secret(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("first\n", encoding="utf-8")
    arguments = receiver_module.parse_args(["--secret-file", str(secret_file)])
    secret = receiver_module.secret_from_args(arguments)
    secret_file.write_text("second\n", encoding="utf-8")
    assert secret() == "second"


def test_command_line_reads_the_secret_from_the_environment_and_announces_its_url() -> None:
    environment = {**os.environ, "MYPOS_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, str(RECEIVER_PATH), "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("receiver listening on http://127.0.0.1:")
        assert post(line.rsplit(" ", 1)[1], BODY, signed_headers()) == 200
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_command_line_exits_cleanly_on_sigterm() -> None:
    environment = {**os.environ, "MYPOS_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, str(RECEIVER_PATH), "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()

    process.terminate()
    _, stderr = process.communicate(timeout=5)

    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_starting_twice_serves_once_and_stops_cleanly():
    server = receiver_module.ReceiverServer("a-secret").start()
    server.start()

    server.stop()

    assert not any(t.name == "mypos-receiver" and t.is_alive() for t in threading.enumerate())
