"""Debugging one failing attempt from the dashboard alone, in headless Chromium: how the emulator signed it (scheme,
body form, t, the exact signing input, the secret's fingerprint, never the secret) with a hint on what to
compare after a 401; an attempt without an answer says whether the receiver may still have processed it; the
attempt copied as a curl command that replays its exact bytes and headers, its body and its headers; the
sample's pop-up says what its row says; invented payloads are marked; a resent row stays below the log's
sticky header."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By

from harness.browser import box, click, text_of
from harness.receiver import ScriptedReceiver, example_receiver
from mypos_emulator import Emulator
from mypos_signature import secret_fingerprint

pytestmark = [pytest.mark.browser]

SECRET = "browser-test-receiver-secret-01"  # the webhook's (conftest.create_demo_webhook)
DETAILS = "tr.details [data-attempt-details]"


@pytest.fixture
def wrong_secret_receiver() -> Iterator[Any]:
    """The example receiver, holding a secret other than the webhook's: every delivery gets a 401."""
    with example_receiver().ReceiverServer("a-secret-the-webhook-does-not-use") as server:
        yield server


def open_first_delivery(page_wait: Any) -> None:
    click(page_wait, "#deliveries tr.delivery")
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, DETAILS))


def signing_fact(page_wait: Any, name: str) -> str:
    return text_of(page_wait, f'{DETAILS} [data-signing="{name}"] code')


def test_a_refused_attempt_shows_how_it_was_signed_and_what_to_compare(
    emulator: Emulator,
    wrong_secret_receiver: Any,
    browser: Any,
    page_wait: Any,
    api_for_demo: Any,
    screenshot: Any,
) -> None:
    api_for_demo(wrong_secret_receiver.url)
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    hint = text_of(page_wait, f"{DETAILS} .signature-hint")
    assert hint.startswith("401: check the secret first") and secret_fingerprint(SECRET) in hint
    assert (signing_fact(page_wait, "scheme"), signing_fact(page_wait, "body_form")) == ("body", "raw")
    assert "t is not signed" in text_of(page_wait, f'{DETAILS} [data-signing="scheme"]')
    assert signing_fact(page_wait, "secret") == secret_fingerprint(SECRET)
    (recorded,) = requests_of(emulator)
    shown_input = text_of(page_wait, f"{DETAILS} pre.signing-input")
    assert shown_input.replace("\n", "") == recorded["body"]  # under body/raw: the very bytes sent (wrapped)
    assert SECRET not in browser.page_source
    screenshot("failing-attempt-signature-help")


def test_under_t_body_the_signing_input_shows_t_in_front(
    emulator: Emulator, wrong_secret_receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(wrong_secret_receiver.url)
    emulator.update_settings(delivery_retry_delays=[], signing_scheme="t.body")
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    t = signing_fact(page_wait, "t")
    assert text_of(page_wait, f"{DETAILS} pre.signing-input").startswith(f"{t}.{{")
    assert "t is signed" in text_of(page_wait, f'{DETAILS} [data-signing="scheme"]')


def test_an_answer_too_slow_for_the_emulator_may_still_have_been_processed(
    emulator: Emulator, scripted: ScriptedReceiver, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(scripted.url)
    emulator.update_settings(delivery_retry_delays=[], delivery_timeout=0.2)
    scripted.delay = 0.5
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    assert text_of(page_wait, f"{DETAILS} .response .reason") == "no answer within 0.2 s"
    assert "your receiver may still have processed it" in text_of(page_wait, f"{DETAILS} .no-answer-hint")


# Copying an attempt


@pytest.fixture
def clipboard(browser: Any, emulator: Emulator) -> Any:
    """Lets the page write the clipboard (as a person's click does) and reads back what it wrote."""
    permissions = {"origin": emulator.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}
    browser.execute_cdp_cmd("Browser.grantPermissions", permissions)
    read = "const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done('ERROR ' + e));"
    return lambda: str(browser.execute_async_script(read))


@pytest.fixture
def recorded(emulator: Emulator, scripted: ScriptedReceiver, api_for_demo: Any) -> dict[str, Any]:
    """One delivery to the recording receiver; answers the attempt as the emulator recorded it."""
    api_for_demo(scripted.url)
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")
    scripted.next()
    (attempt,) = requests_of(emulator)
    return attempt


def requests_of(emulator: Emulator) -> list[dict[str, Any]]:
    """Every attempt the emulator recorded, newest first."""
    answer = requests.get(f"{emulator.url}/_emulator/deliveries", timeout=5)
    return list(answer.json()["deliveries"])


def copied_after_click(page_wait: Any, clipboard: Any, css: str) -> str:
    click(page_wait, css)
    page_wait.until(lambda b: "copied the" in b.find_element(By.ID, "toast").text)
    return str(clipboard())


def test_copy_as_curl_replays_the_attempts_exact_bytes_and_headers(
    emulator: Emulator,
    scripted: ScriptedReceiver,
    recorded: dict[str, Any],
    browser: Any,
    page_wait: Any,
    clipboard: Any,
) -> None:
    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    command = copied_after_click(page_wait, clipboard, f"{DETAILS} button[data-copy-curl]")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done.stderr
    replayed = scripted.next()
    assert replayed.body == recorded["body"].encode()
    assert sorted(replayed.headers) == sorted((name, value) for name, value in recorded["request_headers"])


def test_copy_body_copies_the_exact_bytes_sent(
    emulator: Emulator, recorded: dict[str, Any], browser: Any, page_wait: Any, clipboard: Any
) -> None:
    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    assert copied_after_click(page_wait, clipboard, f"{DETAILS} button[data-copy-body]") == recorded["body"]


def test_copy_headers_copies_every_request_header_one_a_line(
    emulator: Emulator, recorded: dict[str, Any], browser: Any, page_wait: Any, clipboard: Any
) -> None:
    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    copied = copied_after_click(page_wait, clipboard, f"{DETAILS} button[data-copy-headers]")

    assert copied.splitlines() == [f"{name}: {value}" for name, value in recorded["request_headers"]]


# Wording


def test_a_samples_pop_up_says_retrying_as_its_row_does(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    sub_id = api_for_demo("http://127.0.0.1:9/closed")
    emulator.update_settings(delivery_retry_delays=[60])
    browser.get(emulator.dashboard_url)

    click(page_wait, f'button[data-send-sample="{sub_id}"]')

    toast = page_wait.until(lambda b: b.find_element(By.ID, "toast").text or None)
    assert toast.startswith("pos.payment.completed sample → connection refused · retrying in 60.0 s")
    assert "retrying" in text_of(page_wait, '#deliveries tr.delivery[data-outcome="retrying"]')


def test_an_invented_payload_is_marked_as_such(
    emulator: Emulator, recorded: dict[str, Any], browser: Any, page_wait: Any
) -> None:
    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    assert text_of(page_wait, f"{DETAILS} .request .pill.invented") == "invented payload"


def test_a_given_payload_is_not_marked_invented(
    emulator: Emulator, scripted: ScriptedReceiver, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(scripted.url)
    emulator.emit_event("pos.payment.completed", payload={"id": "evt-given", "event": "pos.payment.completed"})

    browser.get(emulator.dashboard_url)
    open_first_delivery(page_wait)

    assert not browser.find_elements(By.CSS_SELECTOR, f"{DETAILS} .pill.invented")


# Layout


def test_a_resent_row_is_brought_into_view_below_the_sticky_header(
    emulator: Emulator, scripted: ScriptedReceiver, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(scripted.url)
    emulator.update_settings(delivery_retry_delays=[])
    for _ in range(14):
        emulator.emit_event("pos.payment.completed")
    browser.get(emulator.dashboard_url)
    page_wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#deliveries tr.delivery")) == 14)
    browser.execute_script("document.querySelector('.log-scroll').scrollTop = 1e6")  # the oldest, at the bottom
    click(page_wait, "#deliveries tr.delivery:last-of-type")
    opened = "#deliveries tr.delivery.open"
    oldest = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, opened).get_attribute("data-delivery-id"))

    click(page_wait, f"{DETAILS} button[data-resend]")

    page_wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, 'tr.details li.attempt.chosen[data-attempt="2"]'))
    row, header = f'#deliveries tr.delivery[data-delivery-id="{oldest}"]', "#deliveries thead th"  # th: they stick
    page_wait.until(lambda b: box(b, row)["top"] >= box(b, header)["bottom"] - 1)
    assert box(browser, header)["top"] >= box(browser, ".log-scroll")["top"] - 1  # the header itself in view
    assert box(browser, row)["bottom"] <= box(browser, ".log-scroll")["bottom"]
    assert browser.find_elements(By.CSS_SELECTOR, "#deliveries tr.delivery")[0].get_attribute("data-delivery-id") == (
        oldest
    )  # the resend made it the newest: it moved to the top of the log
