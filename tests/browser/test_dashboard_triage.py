"""Triage in the dashboard, in headless Chromium: "had a failed attempt" finds deliveries that failed once whatever
their outcome now, the status filter finds those an attempt got a status for, the search finds a payload value;
"Resend failed…" counts first and then resends exactly what it counted; a delivery says whether a successful
resend left its retry standing or stopped it; the event catalogue previews each sample payload, marked as
invented; and the page reads well at 1,000 and 1,400 px wide (layout facts, with a screenshot of each)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness.browser import box, click, set_viewport, text_of
from harness.receiver import ScriptedReceiver
from mypos_emulator import Emulator
from mypos_emulator.catalogue import EVENT_TYPES, example_payload

pytestmark = [pytest.mark.browser]

PAYMENT = {"event": "pos.payment.completed", "data": {"amount": "12.50", "payment_reference": "PAYREF-4455"}}


def shown_events(browser: Any) -> list[str]:
    """The payload ids of the deliveries in the log, top to bottom."""
    rows = browser.find_elements(By.CSS_SELECTOR, "#deliveries tr.delivery")
    return [row.get_attribute("data-delivery-id") for row in rows]


def emit(emulator: Emulator, event_id: str) -> str:
    """One event with a payload of our own (id `event_id`); answers its delivery id."""
    (note,) = emulator.emit_event("pos.payment.completed", payload={**PAYMENT, "id": event_id})["notifications"]
    return delivery_of(emulator, note["id"])


def delivery_of(emulator: Emulator, attempt_id: str) -> str:
    import requests

    attempts = requests.get(f"{emulator.url}/_emulator/deliveries", timeout=5).json()["deliveries"]
    return str(next(a["delivery_id"] for a in attempts if a["id"] == attempt_id))


@pytest.fixture
def three(emulator: Emulator, scripted: ScriptedReceiver, api_for_demo: Any, wait_until: Any) -> dict[str, str]:
    """first-time (200), recovered (500, then 200 on its retry) and lost (401, no retry left): their delivery ids."""
    api_for_demo(scripted.url)
    emulator.update_settings(delivery_retry_delays=[0.0])
    found = {"first-time": emit(emulator, "first-time")}
    # Deliveries go out on the emulator's sender thread: the next answer is armed only once this one arrived,
    # or a slow machine hands first-time the 500 meant for recovered.
    wait_until(lambda: scripted.arrived.qsize() == 1)
    scripted.answer_with(500, then=200)
    found["recovered"] = emit(emulator, "recovered")
    wait_until(lambda: scripted.arrived.qsize() == 3)
    emulator.update_settings(delivery_retry_delays=[])
    scripted.answer_with(401, then=200)
    found["lost"] = emit(emulator, "lost")
    return found


def test_had_a_failed_attempt_finds_what_failed_once_whatever_its_outcome_now(
    emulator: Emulator, three: dict[str, str], browser: Any, page_wait: Any, screenshot: Any
) -> None:
    browser.get(emulator.dashboard_url)
    page_wait.until(lambda b: len(shown_events(b)) == 3)

    click(page_wait, "#filter-failed-attempt")

    page_wait.until(lambda b: shown_events(b) == [three["lost"], three["recovered"]])
    recovered = f'#deliveries tr.delivery[data-delivery-id="{three["recovered"]}"]'
    assert "delivered" in text_of(page_wait, recovered) and "1 failed" in text_of(page_wait, recovered)
    screenshot("triage-filters")


def test_the_status_filter_offers_the_statuses_seen_and_finds_who_got_one(
    emulator: Emulator, three: dict[str, str], browser: Any, page_wait: Any
) -> None:
    browser.get(emulator.dashboard_url)
    page_wait.until(lambda b: len(shown_events(b)) == 3)
    choices = [option.get_attribute("value") for option in Select(browser.find_element(By.ID, "filter-status")).options]
    assert choices == ["", "2xx", "4xx", "5xx", "none", "200", "401", "500"]

    Select(browser.find_element(By.ID, "filter-status")).select_by_value("500")

    page_wait.until(lambda b: shown_events(b) == [three["recovered"]])


def test_the_search_finds_a_delivery_by_a_value_of_its_payload(
    emulator: Emulator, scripted: ScriptedReceiver, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(scripted.url)
    wanted = emit(emulator, "evt-with-reference")
    emulator.emit_event("pos.payment.completed")  # an invented payload: another reference
    browser.get(emulator.dashboard_url)

    browser.find_element(By.ID, "filter-search").send_keys("PAYREF-4455")

    page_wait.until(lambda b: shown_events(b) == [wanted])


def test_resend_failed_counts_first_then_resends_exactly_those(
    emulator: Emulator,
    three: dict[str, str],
    scripted: ScriptedReceiver,
    browser: Any,
    page_wait: Any,
    screenshot: Any,
) -> None:
    browser.get(emulator.dashboard_url)
    click(page_wait, "#bulk-open")

    count = page_wait.until(lambda b: b.find_element(By.ID, "bulk-count").get_attribute("data-count"))
    assert count == "1" and text_of(page_wait, "#bulk-confirm") == "Resend 1"
    assert "1 delivery failed for good since" in text_of(page_wait, "#bulk-count")
    screenshot("resend-failed-count")
    click(page_wait, "#bulk-confirm")

    toast = page_wait.until(lambda b: b.find_element(By.ID, "toast").text or None)
    assert toast == "resent 1: 1 delivered, 0 failed"
    lost = f'#deliveries tr.delivery[data-delivery-id="{three["lost"]}"]'
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, lost).get_attribute("data-outcome") == "delivered")
    assert browser.find_element(By.ID, "bulk").get_attribute("hidden") is not None


def test_resend_failed_with_nothing_failed_offers_nothing_to_resend(
    emulator: Emulator, scripted: ScriptedReceiver, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(scripted.url)
    emit(emulator, "all-good")
    browser.get(emulator.dashboard_url)

    click(page_wait, "#bulk-open")

    page_wait.until(lambda b: b.find_element(By.ID, "bulk-count").get_attribute("data-count") == "0")
    assert not browser.find_element(By.ID, "bulk-confirm").is_enabled()


@pytest.mark.parametrize(
    ("setting", "said"),
    [("continue", "still sent after the resend"), ("stop", "stopped by the resend")],
)
def test_a_delivery_says_what_a_successful_resend_did_to_its_retry(
    emulator: Emulator,
    scripted: ScriptedReceiver,
    browser: Any,
    page_wait: Any,
    api_for_demo: Any,
    setting: str,
    said: str,
) -> None:
    api_for_demo(scripted.url)
    emulator.update_settings(delivery_retry_delays=[60], retries_after_resend=setting)
    scripted.answer_with(503, then=200)
    emit(emulator, "retried")
    browser.get(emulator.dashboard_url)
    click(page_wait, "#deliveries tr.delivery")

    click(page_wait, "tr.details button[data-resend]")

    shown = text_of(page_wait, "#deliveries tr.delivery td.next-retry [data-after-resend]")
    assert shown == said


def test_the_catalogue_previews_a_sample_payload_marked_invented(
    emulator: Emulator, browser: Any, page_wait: Any
) -> None:
    browser.get(emulator.dashboard_url)

    click(page_wait, '[data-sample-toggle="pos.payment.cancelled"]')

    preview = text_of(page_wait, '[data-sample-of="pos.payment.cancelled"] pre.sample-payload')
    assert json.loads(preview) == example_payload(EVENT_TYPES[2], "com")
    note = text_of(page_wait, '[data-sample-of="pos.payment.cancelled"] .invented')
    assert note.startswith("Invented by the emulator: myPOS documents no payload.")
    assert text_of(page_wait, '[data-sample-toggle="pos.payment.cancelled"]') == "Hide sample"


# Layout: reads well at a small laptop's 1,000 px and at 1,400 px


@pytest.mark.parametrize("width", [1000, 1400])
def test_the_log_stays_beside_the_webhooks_in_view_and_fits_its_pane(
    emulator: Emulator,
    scripted: ScriptedReceiver,
    browser: Any,
    page_wait: Any,
    api_for_demo: Any,
    screenshot: Any,
    width: int,
) -> None:
    for n in range(4):
        api_for_demo(f"{scripted.url}/service-{n}/mypos/callbacks?tenant=acme-{n}")
    scripted.answer_with(then=401)
    emulator.update_settings(delivery_retry_delays=[])
    emulator.emit_event("pos.payment.completed")
    set_viewport(browser, width, 800)
    browser.get(emulator.dashboard_url)
    click(page_wait, "#deliveries tr.delivery")  # the newest, at the top
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "tr.details .signing"))
    screenshot(f"dashboard-at-{width}px")

    side, log = box(browser, "#side"), box(browser, "#deliveries-section")
    assert log["viewWidth"] == width
    assert log["left"] >= side["right"] and log["top"] == side["top"], "the log is beside the webhooks, not below"
    assert log["top"] < 100 and log["right"] <= width, "the log starts in view"
    fits = "const e = document.querySelector(arguments[0]); return e.scrollWidth <= e.clientWidth;"
    assert browser.execute_script(fits, ".log-scroll"), "no sideways scrolling in the log"
    assert browser.execute_script(fits, "#side"), "no sideways scrolling of the webhooks and the catalogue"
    assert browser.execute_script(fits, "body"), "no sideways scrolling of the page"
    for control in ("#filter-event", "#filter-status", "#filter-failed-attempt", "#filter-search", "#bulk-open"):
        placed = box(browser, control)
        assert log["left"] <= placed["left"] and placed["right"] <= log["right"], f"{control} sticks out"
    assert box(browser, "#deliveries tr.delivery.open")["bottom"] <= 800, "the opened delivery's row is in view"
    assert box(browser, "tr.details .response")["top"] < 800, "and the start of its answer"
