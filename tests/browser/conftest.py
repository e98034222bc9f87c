"""Fixtures of the browser tests: a headless Chromium and helpers that wait (by polling) for the page."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.browser import REBOUND_HOST, chromium, missing_browser
from harness.receiver import ScriptedReceiver
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator

PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"


WINDOW = (1440, 1100)  # harness.browser.chromium's default size


@pytest.fixture(scope="module")
def module_browser() -> Iterator[Any]:
    """One headless Chromium for the tests of a module (starting one costs more than most tests here).
    Fails, never skips, without Chromium: a green run must mean the browser tests ran."""
    problem = missing_browser()
    if problem:
        pytest.fail(problem, pytrace=False)
    with chromium(width=WINDOW[0], height=WINDOW[1], host_rules=f"MAP {REBOUND_HOST} 127.0.0.1") as driver:
        yield driver


@pytest.fixture
def browser(module_browser: Any) -> Any:
    """The module's Chromium as a fresh one is: a blank page, the default window size and device metrics, no
    blocked URLs, no cookies. Each test has an emulator (an origin) of its own, so nothing a page stored is
    seen by another test."""
    module_browser.get("about:blank")
    module_browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    module_browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    module_browser.execute_cdp_cmd("Network.disable", {})
    module_browser.delete_all_cookies()
    module_browser.set_window_size(*WINDOW)
    return module_browser


@pytest.fixture
def page_wait(browser: Any) -> Any:
    """WebDriverWait that polls every 50 ms for up to 20 s (the page itself polls once a second). An element
    that a redraw replaced while it was being read is looked up again, as a missing one is."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout=20, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))


def create_demo_webhook(emulator: Emulator, url: str, *more_event_ids: str) -> str:
    """A webhook of the demo account (secret "browser-test-receiver-secret-01") at `url`, subscribed to
    pos.payment.completed (and to `more_event_ids`); answers the first subscription's id. Straight through
    /v1, as any client would."""
    session = requests.Session()
    session.trust_env = False
    form = {"grant_type": "client_credentials"}
    token = session.post(
        f"{emulator.url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), data=form, timeout=10
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    hook = session.post(
        f"{emulator.api_url}/webhooks",
        data={"payload_url": url, "secret": "browser-test-receiver-secret-01"},
        timeout=10,
    ).json()["webhook"]
    subs = [
        session.post(
            f"{emulator.api_url}/subscriptions", data={"webhook_id": hook["id"], "event_id": event_id}, timeout=10
        ).json()["subscription"]
        for event_id in (PAYMENT_COMPLETED_ID, *more_event_ids)
    ]
    return str(subs[0]["id"])


@pytest.fixture
def make_demo_webhook() -> Callable[[Emulator, str], str]:
    return create_demo_webhook


@pytest.fixture
def api_for_demo(emulator: Emulator) -> Callable[..., str]:
    """create_demo_webhook on the test's emulator, for the tests that need no engine."""
    return lambda url, *more_event_ids: create_demo_webhook(emulator, url, *more_event_ids)


@pytest.fixture
def screenshot(browser: Any, tmp_path: Path) -> Callable[[str], Path]:
    """Saves what the browser shows as NAME.png: in $MYPOS_TEST_SCREENSHOTS when set (to look at, or to attach to
    a change), else in the test's temporary directory. The tests assert layout facts; the picture is for people."""

    def take(name: str) -> Path:
        folder = Path(os.environ.get("MYPOS_TEST_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path)), f"no screenshot of {name}"
        return path

    return take


@pytest.fixture
def scripted() -> Iterator[ScriptedReceiver]:
    receiver = ScriptedReceiver()
    yield receiver
    receiver.close()
