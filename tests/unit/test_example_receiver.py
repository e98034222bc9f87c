"""The example receiver in examples/receiver.py, run in-process on an ephemeral port."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.receiver import RECEIVER_PATH, example_receiver
from mypos_signature import EVENT_HEADER, SIGNATURE_HEADER, secret_fingerprint, sign

if TYPE_CHECKING:  # the file is loaded by path at run time; this is for type checkers only
    from examples.receiver import ReceiverServer as Receiver

SECRET = "whsec_receiver_test_7c1e"
EVENT = "pos.payment.completed"
BODY = b'{"id":"evt_100","event":"pos.payment.completed","amount":12.5}'
TIMESTAMP = 1700000000


receiver_module = example_receiver()


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


def signed_headers(
    body: bytes = BODY, secret: str = SECRET, *, timestamp: int = TIMESTAMP, scheme: str = "body"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: EVENT,
        SIGNATURE_HEADER: sign(body, secret, timestamp=timestamp, scheme=scheme),
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


def test_payload_without_id_is_deduplicated_by_a_hash_of_the_signed_body(receiver: Receiver) -> None:
    body = b'{"amount":3}'
    post(receiver.url, body, signed_headers(body))
    post(receiver.url, body, signed_headers(body))
    [duplicate] = receiver.duplicates
    assert duplicate.idempotency_key == "sha256:" + hashlib.sha256(body).hexdigest()


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


def test_same_payload_id_under_another_signed_event_is_not_a_duplicate(receiver: Receiver) -> None:
    # If `id` names the payment rather than the event, a reversal must not pass for a repeat.
    reversal = BODY.replace(b"pos.payment.completed", b"pos.payment.reversed")
    post(receiver.url, BODY, signed_headers())
    post(receiver.url, reversal, {**signed_headers(reversal), EVENT_HEADER: "pos.payment.reversed"})
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
    secrets = receiver_module.secret_from_args(arguments)
    secret_file.write_text("second\n", encoding="utf-8")
    assert secrets() == ("second",)


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


def test_command_line_logs_its_secrets_by_fingerprint_at_start_never_by_value() -> None:
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

    assert f"accepting secrets by fingerprint: #1 {secret_fingerprint(SECRET)}" in stderr
    assert SECRET not in stderr


def test_starting_twice_serves_once_and_stops_cleanly():
    server = receiver_module.ReceiverServer("a-secret").start()
    server.start()

    server.stop()

    assert not any(t.name == "mypos-receiver" and t.is_alive() for t in threading.enumerate())


def start_command_line(*arguments: str, environment: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """The receiver as a merchant runs it; returns the process and the URL from its ready line."""
    process = subprocess.Popen(
        [sys.executable, str(RECEIVER_PATH), "--port", "0", *arguments],
        env={**os.environ, **(environment or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("receiver listening on "), line
    return process, line.rsplit(" ", 1)[1]


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=5)


def raw_post(url: str, head: bytes, body: bytes) -> bytes:
    """A POST written byte for byte, for header shapes urllib refuses to send (folded lines)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    return answer


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name.startswith("mypos.receiver")]


# ---- replays: the duplicate key comes from signed data only -----------------------------------------


@pytest.mark.parametrize("claimed", ["pos.payment.completed ", "pos.payment.reversed", ""])
def test_a_replay_under_another_event_header_is_still_a_duplicate(receiver: Receiver, claimed: str) -> None:
    post(receiver.url, BODY, signed_headers())
    assert post(receiver.url, BODY, {**signed_headers(), EVENT_HEADER: claimed}) == 200
    assert (len(receiver.accepted), len(receiver.duplicates)) == (1, 1)


def test_the_event_of_a_delivery_is_read_from_the_signed_body_not_the_header(receiver: Receiver) -> None:
    post(receiver.url, BODY, {**signed_headers(), EVENT_HEADER: "pos.payment.reversed"})
    assert receiver.accepted[0].event == "pos.payment.completed"


def test_a_body_that_names_no_event_gives_a_delivery_without_one(receiver: Receiver) -> None:
    body = b'{"id":"evt_7","amount":1}'
    post(receiver.url, body, signed_headers(body))
    assert receiver.accepted[0].event is None


def test_a_respaced_replay_of_a_payload_without_id_is_a_duplicate(receiver: Receiver) -> None:
    signed = b'{"amount":3,"currency":"EUR"}'
    header = signed_headers(signed)
    post(receiver.url, signed, header)
    assert post(receiver.url, b'{"amount": 3, "currency": "EUR"}', header) == 200
    assert (len(receiver.accepted), len(receiver.duplicates)) == (1, 1)


def test_a_reescaped_replay_of_a_payload_without_id_is_a_duplicate(receiver: Receiver) -> None:
    signed = b'{"merchant":"Cafe","amount":3}'
    header = signed_headers(signed)
    post(receiver.url, signed, header)
    post(receiver.url, b'{"merchant":"\\u0043afe","amount":3}', header)  # verifies as the compact form
    assert (len(receiver.accepted), len(receiver.duplicates)) == (1, 1)


def test_the_payload_acted_on_is_the_signed_form_not_the_received_bytes(receiver: Receiver) -> None:
    # Signed compact, received re-spaced: stripping ", " makes both verify, but only "a,b" was signed.
    signed = b'{"id":"evt_5","note":"a,b"}'
    post(receiver.url, b'{"id": "evt_5", "note": "a, b"}', signed_headers(signed))
    assert receiver.accepted[0].payload == {"id": "evt_5", "note": "a,b"}
    assert receiver.accepted[0].body_form == "whitespace-stripped"


# ---- the log: one line per event, whatever the sender puts in headers or ids -------------------------


def test_a_folded_event_header_cannot_add_lines_to_the_log(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST / HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"
        + f"{SIGNATURE_HEADER}: {sign(BODY, SECRET, timestamp=TIMESTAMP)}\r\n".encode()
        + f"{EVENT_HEADER}: pos.payment.completed\r\n 2026-01-01 INFO accepted forged\r\n".encode()
    )
    with caplog.at_level(logging.DEBUG, logger="mypos.receiver"):
        first = raw_post(receiver.url, head, BODY)
        raw_post(receiver.url, head, BODY)  # the duplicate line too
    assert first.startswith(b"HTTP/1.0 200") or first.startswith(b"HTTP/1.1 200")
    logged = messages(caplog)
    assert len(logged) >= 2 and not any("\n" in line or "\r" in line for line in logged)


def test_a_line_break_in_a_signed_id_cannot_add_lines_to_the_log(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"id":"evt_8\\nINFO accepted forged","event":"pos.payment.completed"}'
    with caplog.at_level(logging.INFO, logger="mypos.receiver"):
        post(receiver.url, body, signed_headers(body))
    assert receiver.accepted and not any("\n" in line for line in messages(caplog))


def test_control_characters_in_the_request_line_are_escaped_in_the_log(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="mypos.receiver"):
        raw_post(receiver.url, b"POST /\x1b[2J HTTP/1.1\r\nHost: receiver\r\n", b"{}")
    logged = messages(caplog)
    assert logged and not any("\x1b" in line for line in logged)


# ---- the timestamp tolerance: a real number of seconds, or off ----------------------------------------


@pytest.mark.parametrize("tolerance", [math.nan, math.inf, -1.0])
def test_the_receiver_refuses_a_meaningless_tolerance_before_listening(tolerance: float) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        receiver_module.ReceiverServer(SECRET, tolerance=tolerance)


@pytest.mark.parametrize("text", ["nan", "inf", "-infinity", "-5", "1e400", "soon"])
def test_command_line_refuses_a_meaningless_tolerance_with_one_line(text: str) -> None:
    done = subprocess.run(
        [sys.executable, str(RECEIVER_PATH), "--port", "0", f"--tolerance={text}"],
        env={**os.environ, "MYPOS_WEBHOOK_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "--tolerance" in line and "omit" in line


def test_command_line_accepts_a_finite_tolerance() -> None:
    process, url = start_command_line("--tolerance", "300", environment={"MYPOS_WEBHOOK_SECRET": SECRET})
    try:
        stale = post(url, BODY, signed_headers())  # signed in 2023: far outside 300 s
    finally:
        stop(process)
    assert stale == 401


# ---- replays: what a tolerance can and cannot refuse ----------------------------------------------------


@pytest.mark.parametrize(("scheme", "signed"), [("body", False), ("t.body", True)])
def test_an_accepted_delivery_records_whether_its_timestamp_was_signed(
    receiver: Receiver, scheme: str, signed: bool
) -> None:
    post(receiver.url, BODY, signed_headers(scheme=scheme))

    [delivery] = receiver.accepted
    assert delivery.timestamp_signed is signed


def test_a_replay_restamped_past_the_tolerance_is_dropped_as_a_duplicate_of_its_signed_id() -> None:
    now = int(time.time())
    with receiver_module.ReceiverServer(SECRET, tolerance=300) as receiver:
        post(receiver.url, BODY, signed_headers(timestamp=now - 319))  # genuine, but too old: refused
        replayed = post(receiver.url, BODY, signed_headers(timestamp=now))  # t re-stamped, body-only signature
        again = post(receiver.url, BODY, signed_headers(timestamp=now))

    assert [r.failure for r in receiver.rejected] == ["StaleTimestamp"]
    assert (replayed, again) == (200, 200)
    assert (len(receiver.accepted), len(receiver.duplicates)) == (1, 1)


def test_a_tolerance_over_an_unsigned_timestamp_is_named_in_the_log_once(caplog: pytest.LogCaptureFixture) -> None:
    now = int(time.time())
    with (
        caplog.at_level(logging.INFO, logger="mypos.receiver"),
        receiver_module.ReceiverServer(SECRET, tolerance=300) as receiver,
    ):
        other = BODY.replace(b"evt_100", b"evt_101")
        post(receiver.url, BODY, signed_headers(timestamp=now))
        post(receiver.url, other, signed_headers(other, timestamp=now))

    warnings = [line for line in messages(caplog) if "tolerance cannot stop a replay" in line]
    assert len(warnings) == 1 and "event id in signed_body" in warnings[0]
    assert sum("t not signed" in line for line in messages(caplog)) == 2


def test_a_signed_timestamp_under_a_tolerance_brings_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    now = int(time.time())
    with (
        caplog.at_level(logging.INFO, logger="mypos.receiver"),
        receiver_module.ReceiverServer(SECRET, tolerance=300) as receiver,
    ):
        post(receiver.url, BODY, signed_headers(timestamp=now, scheme="t.body"))

    assert any("t signed" in line for line in messages(caplog))
    assert not any("cannot stop a replay" in line for line in messages(caplog))


def test_a_mismatch_logs_the_fingerprints_of_the_secrets_it_tried_never_the_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="mypos.receiver"),
        receiver_module.ReceiverServer([OLD, NEW]) as receiver,
    ):
        post(receiver.url, BODY, signed_headers(secret="whsec_someone_else"))

    expected = f"#1 {secret_fingerprint(OLD)}, #2 {secret_fingerprint(NEW)}"
    assert any(expected in line for line in messages(caplog))
    assert OLD not in caplog.text and NEW not in caplog.text


# ---- several secrets: a rotation never refuses a genuine callback --------------------------------------

OLD, NEW = "whsec_rotation_old_0001", "whsec_rotation_new_0002"


def test_every_listed_secret_is_accepted_and_the_matching_one_recorded() -> None:
    with receiver_module.ReceiverServer([OLD, NEW]) as receiver:
        signed_old = post(receiver.url, BODY, signed_headers(secret=OLD))
        other = BODY.replace(b"evt_100", b"evt_101")
        signed_new = post(receiver.url, other, signed_headers(other, secret=NEW))
        indexes = [d.secret_index for d in receiver.accepted]
    assert (signed_old, signed_new, indexes) == (200, 200, [0, 1])


def test_a_secret_dropped_while_running_is_refused_and_the_kept_one_accepted() -> None:
    with receiver_module.ReceiverServer([OLD, NEW]) as receiver:
        receiver.secret = [NEW]
        old = post(receiver.url, BODY, signed_headers(secret=OLD))
        new = post(receiver.url, BODY, signed_headers(secret=NEW))
    assert (old, new) == (401, 200)


def test_a_callable_source_may_return_several_secrets() -> None:
    with receiver_module.ReceiverServer(lambda: (OLD, NEW)) as receiver:
        assert post(receiver.url, BODY, signed_headers(secret=NEW)) == 200


def test_the_log_names_the_matching_secret_by_position_never_by_value(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mypos.receiver"), receiver_module.ReceiverServer([OLD, NEW]) as r:
        post(r.url, BODY, signed_headers(secret=NEW))
    assert any("secret #2 of 2" in line for line in messages(caplog))
    assert OLD not in caplog.text and NEW not in caplog.text


@pytest.mark.parametrize("secrets", [[], [NEW, ""], ""])
def test_no_secret_or_an_empty_one_is_refused_before_listening(secrets: list[str] | str) -> None:
    with pytest.raises(ValueError):
        receiver_module.ReceiverServer(secrets)


def test_secret_file_may_list_several_secrets_one_per_line(tmp_path: Path) -> None:
    secret_file = tmp_path / "secrets"
    secret_file.write_text(f"{OLD}\r\n\n{NEW}\n", encoding="utf-8")
    arguments = receiver_module.parse_args(["--secret-file", str(secret_file)])
    assert receiver_module.secret_from_args(arguments)() == (OLD, NEW)


def test_a_secret_file_keeps_spaces_inside_a_line(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("with inner space \n", encoding="utf-8")
    arguments = receiver_module.parse_args(["--secret-file", str(secret_file)])
    assert receiver_module.secret_from_args(arguments)() == ("with inner space ",)


def test_secret_env_and_secret_file_may_each_be_repeated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET_A", "a-secret")
    monkeypatch.setenv("HOOK_SECRET_B", "b-secret")
    (tmp_path / "c").write_text("c-secret\n", encoding="utf-8")
    (tmp_path / "d").write_text("d-secret\n", encoding="utf-8")
    arguments = receiver_module.parse_args(
        ["--secret-env", "HOOK_SECRET_A", "--secret-env", "HOOK_SECRET_B"]
        + ["--secret-file", str(tmp_path / "c"), "--secret-file", str(tmp_path / "d")]
    )
    secrets = receiver_module.secret_from_args(arguments)
    assert secrets() == ("a-secret", "b-secret", "c-secret", "d-secret")


def test_a_single_secret_in_the_default_variable_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPOS_WEBHOOK_SECRET", "one,secret with a comma")
    arguments = receiver_module.parse_args([])
    assert receiver_module.secret_from_args(arguments) == "one,secret with a comma"


def test_a_named_variable_that_is_unset_stops_start_up_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOOK_SECRET_MISSING", raising=False)
    arguments = receiver_module.parse_args(["--secret-env", "HOOK_SECRET_MISSING"])
    with pytest.raises(SystemExit) as stopped:
        receiver_module.secret_from_args(arguments)
    assert "$HOOK_SECRET_MISSING" in str(stopped.value) and "\n" not in str(stopped.value)


def test_a_secret_file_without_a_secret_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "blank").write_text("\n  \n", encoding="utf-8")
    arguments = receiver_module.parse_args(["--secret-file", str(tmp_path / "blank")])
    with pytest.raises(SystemExit, match="blank"):
        receiver_module.secret_from_args(arguments)


def test_command_line_rotation_accepts_both_secrets_then_refuses_the_dropped_one(tmp_path: Path) -> None:
    secret_file = tmp_path / "webhook-secrets"
    secret_file.write_text(f"{OLD}\n{NEW}\n", encoding="utf-8")
    process, url = start_command_line("--secret-file", str(secret_file))
    try:
        during = [post(url, BODY, signed_headers(secret=OLD)), post(url, BODY, signed_headers(secret=NEW))]
        secret_file.write_text(f"{NEW}\n", encoding="utf-8")  # the old secret dropped, no restart
        after = [post(url, BODY, signed_headers(secret=OLD)), post(url, BODY, signed_headers(secret=NEW))]
    finally:
        stop(process)
    assert (during, after) == ([200, 200], [401, 200])


def test_command_line_accepts_a_secret_from_each_named_variable() -> None:
    process, url = start_command_line(
        "--secret-env", "HOOK_OLD", "--secret-env", "HOOK_NEW", environment={"HOOK_OLD": OLD, "HOOK_NEW": NEW}
    )
    try:
        answers = [post(url, BODY, signed_headers(secret=OLD)), post(url, BODY, signed_headers(secret=NEW))]
    finally:
        stop(process)
    assert answers == [200, 200]


def test_command_line_reports_a_port_in_use_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, str(RECEIVER_PATH), "--port", port],
            env={**os.environ, "MYPOS_WEBHOOK_SECRET": SECRET},
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"receiver: cannot listen on 127.0.0.1:{port}")
