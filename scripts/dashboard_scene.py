"""The scene behind docs/images/dashboard.png (run through scripts/screenshot-dashboard).

An emulator and two example receivers on loopback; the example stack's two webhooks deployed with the real
engine (orders to a receiver holding its secret, treasury to one still holding an old secret, which answers
401); a few events emitted and one delivery resent; then the dashboard in headless Chromium with a 1440x1000
viewport: the treasury delivery that failed for good opened on its latest attempt (the 401, with how it was
signed and what to compare), one sample payload previewed in the catalogue, captured at full height.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from harness.browser import chromium  # noqa: E402
from harness.emulator import EmulatorControl  # noqa: E402
from harness.engine import new_deployment  # noqa: E402
from harness.receiver import example_receiver  # noqa: E402
from mypos_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator  # noqa: E402

RECEIVER_SECRET = "orders-receiver-secret-2026-demo"
TREASURY_SECRET = "treasury-secret-2026-demo-00001"
TREASURY_OLD_SECRET = "treasury-secret-2025-demo-00001"  # what the treasury receiver still holds


def example_webhooks(receiver_url: str, treasury_url: str) -> list[dict[str, object]]:
    """stacks/Pulumi.local.yaml's webhooks, pointed at this scene's receiver and a down service."""
    return [
        {
            "name": "orders",
            "payloadUrl": f"{receiver_url}/mypos/orders",
            "secret": RECEIVER_SECRET,
            "events": [
                "pos.payment.completed",
                {"event": "pos.payment.cancelled", "terminalIds": ["90004889", "90004890"]},
            ],
        },
        {
            "name": "treasury",
            "payloadUrl": treasury_url,
            "secret": TREASURY_SECRET,
            "events": ["account.out-bank-transfer.failed", "account.out-bank-transfer.approved"],
        },
    ]


def wait_for(probe: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("the scene did not settle in time")
        time.sleep(0.05)


def build_scene(emulator: Emulator, work: Path) -> None:
    logging.getLogger("mypos.receiver").setLevel(logging.ERROR)  # the 401s are the point, not news
    receivers = example_receiver()
    receiver = receivers.ReceiverServer(RECEIVER_SECRET).start()
    stale = receivers.ReceiverServer(TREASURY_OLD_SECRET).start()
    try:
        treasury = f"{stale.url}/mypos/treasury"
        deployment = new_deployment(
            work,
            auth_url=emulator.url,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            webhooks=example_webhooks(receiver.url, treasury),
            stack_name="local",
        )
        deployment.up()
        control = EmulatorControl(emulator.url)
        first = control.emit("pos.payment.completed")["notifications"][0]
        control.ok("POST", "/resend", json={"attempt_id": first["id"]})  # the receiver knows it again
        control.emit("pos.payment.cancelled", terminal_id="90004890")
        control.emit("pos.payment.completed")
        control.emit("account.out-bank-transfer.approved")
        wait_for(lambda: len(receiver.accepted) == 3)
        retries = len(emulator.settings.delivery_retry_delays)
        wait_for(lambda: len(control.ok("GET", "/deliveries")["deliveries"]) == 4 + 1 + retries)
    finally:
        receiver.stop()
        stale.stop()


def capture(emulator: Emulator, destination: Path) -> None:
    with chromium(width=1440, height=1000) as driver:
        metrics = {"width": 1440, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # the viewport, not the window
        driver.get(emulator.dashboard_url)
        wait = WebDriverWait(driver, timeout=20, poll_frequency=0.05)
        failed = '#deliveries tr.delivery[data-outcome="failed"]'
        # Its attempts, the 401 in full, how it was signed and what to compare.
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, failed))[0].click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#deliveries tr.details .signature-hint"))
        driver.find_element(By.CSS_SELECTOR, '[data-sample-toggle="pos.payment.completed"]').click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-sample-of] pre"))
        driver.execute_script(  # the opened delivery at the top of the log, below its sticky header
            "const row = document.querySelector('#deliveries tr.delivery.open');"
            "row.style.scrollMarginTop = document.querySelector('#deliveries thead').offsetHeight + 'px';"
            "row.scrollIntoView({block: 'start'});"
        )
        wait.until(lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == "live")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(full_page_png(driver))


def full_page_png(driver: object) -> bytes:
    """The whole page, not just the window: Chromium's DevTools capture beyond the viewport."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def main() -> int:
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "images" / "dashboard.png")
    with tempfile.TemporaryDirectory(prefix="mypos-scene-") as work, Emulator() as emulator:
        build_scene(emulator, Path(work))
        capture(emulator, destination)
    print(f"wrote {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
