"""Debugging deliveries in the dashboard, in headless Chromium: the first paint carries the emulator's state;
attempts gather under their delivery with its outcome; an attempt shows its whole request and response and
can be resent; filters and search narrow the log; at 1400x1000 with seven webhooks the log is in view."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness.browser import click, text_of
from harness.receiver import example_receiver
from mypos_emulator import Emulator, ManualClock

pytestmark = [pytest.mark.browser]

SECRET = "browser-test-receiver-secret-01"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"
CLOSED = "http://127.0.0.1:9/closed"
LONG_URL = "http://127.0.0.1:9/a/rather/long/path/to/the/payment/callbacks/of/the/shop?tenant=acme&region=eu-west"
JSON_ANSWER = {"received": True, "note": "<b>not bold</b>"}


@pytest.fixture
def receiver() -> Iterator[Any]:
    server = example_receiver().ReceiverServer(SECRET)
    with server:
        yield server


@pytest.fixture
def json_receiver() -> Iterator[str]:
    """A receiver that answers every POST with JSON (markup inside) and a header of its own."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(JSON_ANSWER, separators=(",", ":")).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Receiver-Trace", "trace-0042")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def delivery_rows(browser: Any, css: str = "") -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR, f"#deliveries tr.delivery{css}")


def control_ok(emulator: Emulator, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(
        method, f"{emulator.url}/_emulator{path}", headers={"Content-Type": "application/json"}, timeout=10, **kwargs
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


DETAILS = "tr.details [data-attempt-details]"


def open_delivery(page_wait: Any) -> None:
    """Opens the first delivery row on the attempt it shows first (its newest)."""
    click(page_wait, "#deliveries tr.delivery")
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, DETAILS))


def header_pairs(browser: Any, side: str) -> list[tuple[str, str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"{DETAILS} .{side} table.headers tr")
    return [(row.find_element(By.TAG_NAME, "th").text, row.find_element(By.TAG_NAME, "td").text) for row in rows]


# The first paint


def test_the_first_paint_shows_the_state_though_no_poll_ever_answers(
    emulator: Emulator, browser: Any, api_for_demo: Any
) -> None:
    api_for_demo(CLOSED)
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_emulator/dashboard*"]})

    browser.get(emulator.dashboard_url)

    assert browser.find_element(By.CSS_SELECTOR, ".webhook-url").text == CLOSED
    assert len(delivery_rows(browser, ".failed")) == 1
    assert "Loading" not in browser.find_element(By.TAG_NAME, "body").text


def test_the_first_paint_already_carries_the_drawn_snapshot(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(CLOSED)

    browser.get(emulator.dashboard_url)

    timing = "return performance.getEntriesByName(arguments[0]).map((entry) => entry.startTime)"
    (painted,) = page_wait.until(lambda b: b.execute_script(timing, "first-paint"))
    (drawn,) = browser.execute_script(timing, "first-snapshot-drawn")
    assert drawn <= painted


# Attempts grouped under their delivery


def test_the_attempts_of_a_delivery_gather_under_it_with_its_final_outcome(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(CLOSED)
    emulator.update_settings(delivery_retry_delays=[0.05, 0.05])
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)

    assert text_of(page_wait, '#deliveries tr.delivery[data-outcome="failed"] td[data-attempts]') == "3 attempts"
    click(page_wait, '#deliveries tr.delivery[data-outcome="failed"]')
    numbers = page_wait.until(
        lambda b: [a.get_attribute("data-attempt") for a in b.find_elements(By.CSS_SELECTOR, "tr.details li.attempt")]
    )
    assert numbers == ["3", "2", "1"]


def test_a_delivery_still_being_retried_says_so(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(CLOSED)
    emulator.update_settings(delivery_retry_delays=[60])
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)

    shown = text_of(page_wait, '#deliveries tr.delivery[data-outcome="retrying"]')
    assert "retrying" in shown and "in " in shown  # and when the next attempt is due


# One attempt: the whole request and response


@pytest.fixture
def delivered(emulator: Emulator, receiver: Any, api_for_demo: Any) -> dict[str, Any]:
    """One delivery to the example receiver; answers its attempt as the emulator recorded it."""
    api_for_demo(receiver.url)
    emulator.emit_event("pos.payment.completed")
    (recorded,) = control_ok(emulator, "GET", "/deliveries")["deliveries"]
    return dict(recorded)


def test_an_attempt_shows_every_request_header_it_was_sent_with(
    emulator: Emulator, delivered: dict[str, Any], browser: Any, page_wait: Any
) -> None:
    browser.get(emulator.dashboard_url)

    open_delivery(page_wait)

    pairs = page_wait.until(lambda b: header_pairs(b, "request"))
    assert pairs == [(name, value) for name, value in delivered["request_headers"]]
    assert [name for name, _ in pairs][:3] == ["Host", "Accept-Encoding", "Content-Length"]


def test_an_attempt_shows_the_body_pretty_printed_and_as_the_exact_bytes(
    emulator: Emulator, delivered: dict[str, Any], browser: Any, page_wait: Any
) -> None:
    browser.get(emulator.dashboard_url)
    open_delivery(page_wait)
    pretty = text_of(page_wait, f"{DETAILS} pre.body")
    click(page_wait, f"{DETAILS} button[data-exact-bytes]")

    exact = text_of(page_wait, f"{DETAILS} pre.body.exact")
    assert pretty == json.dumps(json.loads(delivered["body"]), indent=2)
    assert exact == delivered["body"]


def test_an_attempt_shows_the_response_status_headers_and_pretty_printed_json_as_text(
    emulator: Emulator, json_receiver: str, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(json_receiver)
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_delivery(page_wait)

    assert text_of(page_wait, f"{DETAILS} .response .status-line").startswith("HTTP 202")
    assert ("X-Receiver-Trace", "trace-0042") in page_wait.until(lambda b: header_pairs(b, "response"))
    assert text_of(page_wait, f"{DETAILS} .response pre.answer") == json.dumps(JSON_ANSWER, indent=2)
    assert not browser.find_elements(By.CSS_SELECTOR, f"{DETAILS} b")


def test_an_attempt_without_an_answer_shows_why(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo("http://nobody.invalid/hook")
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_delivery(page_wait)

    assert text_of(page_wait, f"{DETAILS} .response .reason") == "the host name could not be resolved"


# Resend


def test_resend_from_the_page_sends_the_body_again_as_a_new_attempt_of_the_same_delivery(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(receiver.url)
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)
    open_delivery(page_wait)
    click(page_wait, f"{DETAILS} button[data-resend]")

    chosen = text_of(page_wait, 'tr.details li.attempt.chosen[data-attempt="2"]')
    assert "resent" in chosen and "200" in chosen
    assert len(delivery_rows(browser)) == 1
    (first,) = receiver.accepted  # the receiver verified both signatures, and knew the event again
    (again,) = receiver.duplicates
    assert again.payload == first.payload


# Filters and search


def test_the_event_filter_shows_only_deliveries_of_that_event(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(receiver.url, TRANSFER_APPROVED_ID)
    emulator.emit_event("pos.payment.completed")
    emulator.emit_event("account.out-bank-transfer.approved")
    browser.get(emulator.dashboard_url)

    Select(browser.find_element(By.ID, "filter-event")).select_by_value("account.out-bank-transfer.approved")

    page_wait.until(lambda b: len(delivery_rows(b)) == 1)
    assert "account.out-bank-transfer.approved" in text_of(page_wait, "#deliveries tr.delivery")


def test_the_search_finds_a_delivery_by_part_of_its_event_id(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(receiver.url)
    wanted = emulator.emit_event("pos.payment.completed")["notifications"][0]
    emulator.emit_event("pos.payment.completed")
    browser.get(emulator.dashboard_url)

    browser.find_element(By.ID, "filter-search").send_keys(wanted["payload"]["id"][:13])

    page_wait.until(lambda b: len(delivery_rows(b)) == 1)
    click(page_wait, "#deliveries tr.delivery")
    assert text_of(page_wait, 'tr.details [data-id-of="event"]') == wanted["payload"]["id"]


def test_the_time_filter_hides_deliveries_older_than_chosen(
    browser: Any, page_wait: Any, make_demo_webhook: Any
) -> None:
    clock = ManualClock()
    with Emulator(clock=clock) as emulator:
        make_demo_webhook(emulator, CLOSED)
        emulator.update_settings(delivery_retry_delays=[])
        emulator.emit_event("pos.payment.completed")
        clock.advance(2 * 3600)
        emulator.emit_event("pos.payment.completed")
        browser.get(emulator.dashboard_url)
        assert len(delivery_rows(browser)) == 2

        Select(browser.find_element(By.ID, "filter-within")).select_by_value("3600")

        page_wait.until(lambda b: len(delivery_rows(b)) == 1)


# Layout


def test_with_seven_webhooks_the_delivery_log_is_in_view_at_1400_by_1000(
    emulator: Emulator, browser: Any, api_for_demo: Any
) -> None:
    for n in range(7):
        api_for_demo(f"http://127.0.0.1:9/service-{n}/mypos/callbacks?tenant=acme-{n}")
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")
    metrics = {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    browser.get(emulator.dashboard_url)

    assert len(browser.find_elements(By.CSS_SELECTOR, ".webhook")) == 7
    for css in ("#deliveries-section", "#deliveries tr.delivery"):
        box = browser.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return [r.top, r.left, r.bottom, r.right, innerHeight, innerWidth];",
            css,
        )
        top, left, bottom, right, height, width = box
        assert (width, height) == (1400, 1000)
        assert top >= 0 and left >= 0 and bottom <= height and right <= width, f"{css} is out of view: {box}"


def test_the_event_catalogue_shows_each_webhook_by_its_full_url(
    emulator: Emulator, browser: Any, api_for_demo: Any
) -> None:
    subscription_id = api_for_demo(LONG_URL)

    browser.get(emulator.dashboard_url)

    shown = browser.find_element(By.CSS_SELECTOR, f'[data-catalogue-subscription="{subscription_id}"] .target-url')
    assert shown.text.replace("\n", "") == LONG_URL
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", shown)


def test_a_delivery_row_shows_its_webhook_by_its_full_url(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(LONG_URL)
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")

    browser.get(emulator.dashboard_url)

    assert text_of(page_wait, "#deliveries tr.delivery td.url").replace("\n", "") == LONG_URL


def test_the_webhook_filter_names_each_webhook_by_its_full_url(
    emulator: Emulator, browser: Any, api_for_demo: Any
) -> None:
    api_for_demo(LONG_URL)

    browser.get(emulator.dashboard_url)

    options = Select(browser.find_element(By.ID, "filter-webhook")).options
    assert [option.get_attribute("textContent") for option in options] == ["all webhooks", LONG_URL]
