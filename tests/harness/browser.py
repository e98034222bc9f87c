"""Headless Chromium from Debian's packages, driven by Selenium, for the dashboard's browser tests and
its screenshot. Nothing is downloaded: Selenium Manager is told to stay offline, and the binaries are
the system's (scripts/install-browser installs them)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# A foreign name that the test browser resolves to loopback: a DNS-rebinding page, in effect.
REBOUND_HOST = "rebound.example"
CHROMIUM = Path(os.environ.get("MYPOS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("MYPOS_CHROMEDRIVER", "/usr/bin/chromedriver"))
# This machine's network is closed: without these, Chromium stalls on refused connections at start.
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing: run scripts/install-browser (scripts/test does it for you)"
    return None


@contextmanager
def chromium(
    *, width: int = 1440, height: int = 1100, host_rules: str | None = None, scale: float = 1.0
) -> Iterator[object]:
    """A fresh headless Chromium (its own profile directory) under chromedriver; quit on exit."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="mypos-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in QUIET_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.add_argument(f"--force-device-scale-factor={scale}")
        if host_rules:
            options.add_argument(f"--host-resolver-rules={host_rules}")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        try:
            yield driver
        finally:
            driver.quit()


# The dashboard redraws whole sections when anything changes, so an element found a moment ago may be gone:
# these read and click through a WebDriverWait that ignores stale elements (tests/browser/conftest.py's).


def text_of(page_wait: Any, css: str) -> str:
    """The text of the element `css` finds, read again if a redraw replaced it meanwhile."""
    from selenium.webdriver.common.by import By

    return str(page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, css).text or None))


def click(page_wait: Any, css: str) -> None:
    """Clicks the element `css` finds, found again if a redraw replaced it meanwhile."""
    from selenium.webdriver.common.by import By

    page_wait.until(lambda b: b.find_element(By.CSS_SELECTOR, css).click() or True)


def set_viewport(browser: Any, width: int, height: int) -> None:
    """The page's viewport exactly (the window's size would include its frame)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def box(browser: Any, css: str) -> dict[str, float]:
    """The element's box in the viewport, with the viewport's size."""
    return dict(
        browser.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return {top: r.top, left: r.left, bottom: r.bottom, right: r.right, width: r.width,"
            " viewWidth: innerWidth, viewHeight: innerHeight};",
            css,
        )
    )
