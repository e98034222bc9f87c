"""Concurrent clients never lose an update or corrupt state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import ApiClient, Control

THREADS = 8
PER_THREAD = 50


def test_parallel_creates_and_patches_all_land(new_demo_client: Callable[[], ApiClient], control: Control) -> None:
    expected: dict[str, str] = {}
    expected_lock = threading.Lock()
    failures: list[str] = []

    def work(worker: int) -> None:
        client = new_demo_client()
        for n in range(PER_THREAD):
            hook = client.create_webhook(payload_url=f"https://w{worker}.example/{n}", secret="initial")
            final_secret = f"w{worker}n{n}"
            answer = client.patch(f"/webhooks/{hook['id']}", data={"secret": final_secret})
            if answer.status_code != 200:
                failures.append(answer.text)
            with expected_lock:
                expected[hook["id"]] = final_secret

    workers = [threading.Thread(target=work, args=(worker,)) for worker in range(THREADS)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    saved = {hook["id"]: hook["secret"] for hook in control.state()["webhooks"]}
    assert failures == []
    assert len(saved) == THREADS * PER_THREAD
    assert saved == expected


def test_parallel_patches_of_one_webhook_leave_one_complete_value(
    api: ApiClient, new_demo_client: Callable[[], ApiClient], control: Control
) -> None:
    hook = api.create_webhook()
    written: list[tuple[str, str]] = []

    def work(worker: int) -> None:
        client = new_demo_client()
        for n in range(20):
            pair = (f"https://w{worker}.example/{n}", f"w{worker}n{n}")
            client.patch(f"/webhooks/{hook['id']}", data={"payload_url": pair[0], "secret": pair[1]})
            written.append(pair)

    workers = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    final = control.state()["webhooks"][0]
    assert (final["payload_url"], final["secret"]) in written  # never a URL from one patch with another's secret
