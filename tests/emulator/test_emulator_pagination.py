"""Pagination of list endpoints: page/size query, bounds, totals, creation order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import ApiClient, Control


@pytest.fixture
def three_webhooks(api: ApiClient) -> list[str]:
    return [api.create_webhook(payload_url=f"https://shop{n}.example/h")["id"] for n in range(3)]


def test_lists_are_in_creation_order(api: ApiClient, three_webhooks: list[str]) -> None:
    assert [hook["id"] for hook in api.get("/webhooks").json()["webhooks"]] == three_webhooks


def test_default_page_is_1_and_size_20(api: ApiClient, three_webhooks: list[str]) -> None:
    assert api.get("/webhooks").json()["pagination"] == {"page": 1, "size": 20, "total": 3}


def test_size_1_returns_one_item_per_page(api: ApiClient, three_webhooks: list[str]) -> None:
    pages = [api.get("/webhooks", params={"page": page, "size": 1}).json() for page in (1, 2, 3)]

    assert [page["webhooks"][0]["id"] for page in pages] == three_webhooks
    assert pages[1]["pagination"] == {"page": 2, "size": 1, "total": 3}


def test_size_100_is_the_largest_accepted(api: ApiClient, three_webhooks: list[str]) -> None:
    answer = api.get("/webhooks", params={"size": 100})

    assert answer.status_code == 200
    assert answer.json()["pagination"] == {"page": 1, "size": 100, "total": 3}


@pytest.mark.parametrize(
    ("name", "value"), [("size", "101"), ("size", "0"), ("size", "ten"), ("page", "0"), ("page", "-1")]
)
def test_out_of_range_paging_is_a_validation_error_naming_the_field(api: ApiClient, name: str, value: str) -> None:
    answer = api.get("/webhooks", params={name: value})

    assert answer.status_code == 400
    assert answer.json()["error"] == "validation_error"
    assert answer.json()["field"] == name


def test_page_past_the_end_is_empty_with_the_right_total(api: ApiClient, three_webhooks: list[str]) -> None:
    body = api.get("/webhooks", params={"page": 5, "size": 2}).json()

    assert body == {"webhooks": [], "pagination": {"page": 5, "size": 2, "total": 3}}


def test_last_partial_page_holds_the_remainder(api: ApiClient, three_webhooks: list[str]) -> None:
    body = api.get("/webhooks", params={"page": 2, "size": 2}).json()

    assert [hook["id"] for hook in body["webhooks"]] == three_webhooks[2:]


def test_events_are_paginated_too(api: ApiClient) -> None:
    body = api.get("/events", params={"page": 2, "size": 4}).json()

    assert len(body["events"]) == 2
    assert body["pagination"] == {"page": 2, "size": 4, "total": 6}


def test_max_page_size_is_a_setting(api: ApiClient, control: Control, three_webhooks: list[str]) -> None:
    control.settings(default_page_size=2, max_page_size=2)

    assert api.get("/webhooks", params={"size": 3}).status_code == 400
