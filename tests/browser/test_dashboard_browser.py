"""The dashboard in a real browser (headless Chromium): a stack deployed through the engine shows up, a
sample event reaches the running example receiver and its delivery appears; with the receiver stopped the
delivery fails visibly and its retries gather under it. The page keeps the control plane's protections.
Debugging deliveries (resend, filters, search, the full exchange, the layout): test_dashboard_debugging.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from harness.browser import REBOUND_HOST, click, text_of
from harness.engine import Deployment
from harness.receiver import example_receiver, stopped
from mypos_emulator import Emulator

pytestmark = [pytest.mark.browser]

SECRET = "browser-test-receiver-secret-01"
CONTROL_TOKEN = "browser-test-control-token-0123"


@pytest.fixture
def receiver() -> Iterator[Any]:
    server = example_receiver().ReceiverServer(SECRET)
    with server:
        yield server


def delivery_rows(browser: Any, css: str = "") -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR, f"#deliveries tr.delivery{css}")


@pytest.mark.engine
def test_a_deployed_webhook_its_delivery_and_a_failed_retry_show_in_the_browser(
    deploy: Callable[..., Deployment], emulator: Emulator, receiver: Any, browser: Any, page_wait: Any
) -> None:
    deployment = deploy(
        [
            {
                "name": "orders",
                "payloadUrl": f"{receiver.url}/mypos/orders",
                "secret": SECRET,
                "events": ["pos.payment.completed"],
            }
        ]
    )
    deployment.up()
    outputs = deployment.stack.outputs()["webhooks"].value["orders"]
    hook_id, sub_id = outputs["id"], outputs["subscriptions"]["pos.payment.completed"]

    browser.get(emulator.dashboard_url)
    hook = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, f'[data-webhook-id="{hook_id}"]'))
    assert f"{receiver.url}/mypos/orders" in hook.text and "active" in hook.text

    browser.find_element(By.CSS_SELECTOR, f'button[data-send-sample="{sub_id}"]').click()
    delivered = text_of(page_wait, "#deliveries tr.delivery.delivered")
    assert "pos.payment.completed" in delivered and "200" in delivered
    assert [d.event for d in receiver.accepted] == ["pos.payment.completed"]  # it verified the signature

    with stopped(receiver):
        browser.find_element(By.CSS_SELECTOR, f'button[data-send-sample="{sub_id}"]').click()
        retries = len(emulator.settings.delivery_retry_delays)
        page_wait.until(lambda b: delivery_rows(b, f'.failed td[data-attempts="{1 + retries}"]'))
    click(page_wait, "#deliveries tr.delivery.failed")
    attempts = page_wait.until(
        lambda b: [(a.get_attribute("data-attempt"), a.text) for a in b.find_elements(By.CSS_SELECTOR, "li.attempt")]
    )
    assert [number for number, _ in attempts] == [str(n) for n in range(1 + retries, 0, -1)]
    assert all("connection refused" in text for _, text in attempts)


def test_a_delivery_row_opens_its_attempt_with_the_signature_body_and_answer(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    sub_id = api_for_demo(receiver.url)

    browser.get(emulator.dashboard_url)
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, f'button[data-send-sample="{sub_id}"]')).click()
    page_wait.until(lambda b: delivery_rows(b, ".delivered"))
    click(page_wait, "#deliveries tr.delivery.delivered")

    assert text_of(page_wait, 'tr.details tr[data-header="x-mypos-signature"] td').startswith("t=")
    assert '"event": "pos.payment.completed"' in text_of(page_wait, "tr.details pre.body")
    assert "HTTP 200" in text_of(page_wait, "tr.details .response .status-line")


def test_the_secret_is_masked_until_revealed(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    api_for_demo(receiver.url)

    browser.get(emulator.dashboard_url)
    masked = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".secret-value"))
    assert SECRET not in browser.page_source and "•" in masked.text
    browser.find_element(By.CSS_SELECTOR, "button[data-reveal]").click()

    revealed = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".secret-value.revealed"))
    assert revealed.text == SECRET


def test_the_outcome_filter_shows_only_failures(
    emulator: Emulator, receiver: Any, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    sub_id = api_for_demo(receiver.url)
    emulator.update_settings(delivery_retry_delays=[])
    browser.get(emulator.dashboard_url)
    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, f'button[data-send-sample="{sub_id}"]')).click()
    page_wait.until(lambda b: delivery_rows(b, ".delivered"))
    with stopped(receiver):
        browser.find_element(By.CSS_SELECTOR, f'button[data-send-sample="{sub_id}"]').click()
        page_wait.until(lambda b: delivery_rows(b, ".failed"))

    browser.find_element(By.CSS_SELECTOR, '#filter-outcome option[value="failed"]').click()

    page_wait.until(lambda b: not delivery_rows(b, ".delivered"))
    assert len(delivery_rows(browser, ".failed")) == 1


def test_a_page_load_with_a_foreign_host_is_refused(emulator: Emulator, browser: Any) -> None:
    browser.get(f"http://{REBOUND_HOST}:{emulator.port}/_emulator/ui")

    text = browser.find_element(By.TAG_NAME, "body").text
    assert "loopback" in text
    assert not browser.find_elements(By.ID, "deliveries")


def test_with_a_control_token_the_page_works_after_one_visit_with_the_token(
    browser: Any, page_wait: Any, make_demo_webhook: Callable[[Emulator, str], str]
) -> None:
    with Emulator(control_token=CONTROL_TOKEN) as emulator:
        make_demo_webhook(emulator, "http://127.0.0.1:9/closed")
        browser.get(emulator.dashboard_url)
        assert "control token" in browser.find_element(By.TAG_NAME, "body").text

        browser.get(f"{emulator.dashboard_url}?token={CONTROL_TOKEN}")

        page_wait.until(lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == "live")
        assert browser.current_url == emulator.dashboard_url  # the token left the address bar
        assert CONTROL_TOKEN not in str(browser.get_cookies())
        page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "button[data-reveal]")).click()
        revealed = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".secret-value.revealed"))
        assert revealed.text == SECRET  # the page's own POSTs pass the guard with the cookie


def test_markup_in_a_payload_url_is_shown_as_text_never_run(
    emulator: Emulator, browser: Any, page_wait: Any, api_for_demo: Any
) -> None:
    hostile = "http://127.0.0.1:9/<img/src=x/onerror=document.title='owned'>"  # no spaces: a valid URL
    api_for_demo(hostile)

    browser.get(emulator.dashboard_url)

    shown = page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".webhook-url"))
    assert shown.text == hostile
    assert not browser.find_elements(By.CSS_SELECTOR, "#accounts img")
    assert browser.title == "myPOS emulator"
