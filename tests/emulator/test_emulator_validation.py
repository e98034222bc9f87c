"""Validation errors: 400, {"error": "validation_error", "message": ..., "field": ...} naming the field."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import ApiClient

PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"


def assert_validation_error(answer: Any, field: str) -> None:
    body = answer.json()
    assert answer.status_code == 400, answer.text
    assert set(body) == {"error", "message", "field"}
    assert body["error"] == "validation_error"
    assert body["field"] == field
    assert field in body["message"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"secret": "s"}, "payload_url"),
        ({"payload_url": "", "secret": "s"}, "payload_url"),
        ({"payload_url": "mywebsite.com/hook", "secret": "s"}, "payload_url"),
        ({"payload_url": "ftp://mywebsite.com/hook", "secret": "s"}, "payload_url"),
        ({"payload_url": "https:///no-host", "secret": "s"}, "payload_url"),
        ({"payload_url": "https://a.example/h"}, "secret"),
        ({"payload_url": "https://a.example/h", "secret": ""}, "secret"),
        ({"payload_url": "https://a.example/h", "secret": "x" * 33}, "secret"),
    ],
    ids=[
        "url-missing",
        "url-empty",
        "url-relative",
        "url-ftp",
        "url-no-host",
        "secret-missing",
        "secret-empty",
        "secret-33",
    ],
)
def test_create_webhook_rejects_bad_input_naming_the_field(api: ApiClient, form: dict[str, str], field: str) -> None:
    assert_validation_error(api.post("/webhooks", data=form), field)


def test_create_webhook_accepts_a_32_character_secret(api: ApiClient) -> None:
    answer = api.post("/webhooks", data={"payload_url": "https://a.example/h", "secret": "x" * 32})

    assert answer.status_code == 200


def test_rejected_create_stores_nothing(api: ApiClient) -> None:
    api.post("/webhooks", data={"payload_url": "https://a.example/h", "secret": "x" * 33})

    assert api.get("/webhooks").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"is_active": "yes"}, "is_active"),
        ({"is_active": "2"}, "is_active"),
        ({"payload_url": "not a url"}, "payload_url"),
        ({"secret": "y" * 33}, "secret"),
        ({"secret": ""}, "secret"),
    ],
    ids=["active-yes", "active-2", "url-bad", "secret-long", "secret-empty"],
)
def test_patch_webhook_rejects_bad_input_naming_the_field(api: ApiClient, form: dict[str, str], field: str) -> None:
    hook = api.create_webhook()

    assert_validation_error(api.patch(f"/webhooks/{hook['id']}", data=form), field)


def test_rejected_patch_changes_nothing(api: ApiClient) -> None:
    hook = api.create_webhook(secret="before")

    api.patch(f"/webhooks/{hook['id']}", data={"secret": "after", "is_active": "maybe"})

    assert api.get(f"/webhooks/{hook['id']}").json()["webhook"]["secret"] == "before"


def test_subscription_requires_event_id(api: ApiClient) -> None:
    hook = api.create_webhook()

    assert_validation_error(api.post("/subscriptions", data={"webhook_id": hook["id"]}), "event_id")


def test_subscription_rejects_unknown_event_id(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.post("/subscriptions", data={"webhook_id": hook["id"], "event_id": str(uuid.uuid4())})

    assert_validation_error(answer, "event_id")


def test_subscription_rejects_unknown_webhook_id(api: ApiClient) -> None:
    api.create_webhook()

    answer = api.post("/subscriptions", data={"webhook_id": str(uuid.uuid4()), "event_id": PAYMENT_COMPLETED_ID})

    assert_validation_error(answer, "webhook_id")


@pytest.mark.parametrize(
    "bad_filter",
    ['{"tids": "90004889"}', '{"tids": [90004889]}', "[1, 2]", "{not json", '{"other": 1}'],
    ids=["tids-string", "tids-numbers", "list", "not-json", "no-tids"],
)
def test_subscription_rejects_malformed_filter(api: ApiClient, bad_filter: str) -> None:
    hook = api.create_webhook()

    answer = api.post(
        "/subscriptions", data={"webhook_id": hook["id"], "event_id": PAYMENT_COMPLETED_ID, "filter": bad_filter}
    )

    assert_validation_error(answer, "filter")


def test_subscription_update_rejects_malformed_filter(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    assert_validation_error(api.put(f"/subscriptions/{sub['id']}", data={"filter": '{"tids": 5}'}), "filter")
