"""Webhook CRUD: the exact JSON shapes of myPOS's documented examples (docs/mypos-api.md §3.5, §4.1), soft delete,
status-code settings."""

from __future__ import annotations

import json
import uuid
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import ApiClient, Control

WEBHOOK_KEYS = {"created_on", "id", "is_active", "payload_url", "secret"}
PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"
TRANSFER_FAILED_ID = "2261350a-2db1-45a3-b60d-f2fdb0225600"


def assert_http_date_in_gmt(value: str) -> None:
    parsed = parsedate_to_datetime(value)
    assert value.endswith(" GMT")
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0
    assert value == parsed.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_create_answers_the_wrapped_webhook_with_exactly_the_documented_keys(api: ApiClient) -> None:
    answer = api.post("/webhooks", data={"payload_url": "https://mywebsite.com/webhook-callback", "secret": "abc"})

    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"webhook"}
    assert set(body["webhook"]) == WEBHOOK_KEYS
    assert body["webhook"]["payload_url"] == "https://mywebsite.com/webhook-callback"
    assert body["webhook"]["secret"] == "abc"


def test_new_webhook_is_active_with_uuid4_id(api: ApiClient) -> None:
    hook = api.create_webhook()

    assert hook["is_active"] is True
    assert uuid.UUID(hook["id"]).version == 4


def test_created_on_is_an_rfc1123_date_in_gmt(api: ApiClient) -> None:
    assert_http_date_in_gmt(api.create_webhook()["created_on"])


def test_created_on_can_be_unix_seconds(api: ApiClient, control: Control) -> None:
    control.settings(created_on_format="unix")

    assert isinstance(api.create_webhook()["created_on"], int)


def test_create_status_can_be_201(api: ApiClient, control: Control) -> None:
    control.settings(create_status=201)

    answer = api.post("/webhooks", data={"payload_url": "https://a.example/h", "secret": "s"})

    assert answer.status_code == 201


def test_json_request_bodies_are_accepted(api: ApiClient) -> None:
    answer = api.post("/webhooks", json={"payload_url": "https://a.example/h", "secret": "s"})

    assert answer.status_code == 200
    assert answer.json()["webhook"]["payload_url"] == "https://a.example/h"


def test_form_body_labelled_json_is_accepted_like_the_official_sdk_sends(api: ApiClient) -> None:
    answer = api.post(
        "/webhooks",
        data="payload_url=https%3A%2F%2Fa.example%2Fh&secret=s",
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 200
    assert answer.json()["webhook"]["payload_url"] == "https://a.example/h"


def test_unwrapped_single_objects_when_wrapping_is_off(api: ApiClient, control: Control) -> None:
    control.settings(wrap_single_objects=False)

    body = api.post("/webhooks", data={"payload_url": "https://a.example/h", "secret": "s"}).json()

    assert set(body) == WEBHOOK_KEYS


def test_list_has_the_documented_envelope(api: ApiClient) -> None:
    api.create_webhook()

    body = api.get("/webhooks").json()

    assert list(body) == ["webhooks", "pagination"]
    assert body["pagination"] == {"page": 1, "size": 20, "total": 1}
    assert set(body["webhooks"][0]) == WEBHOOK_KEYS


def test_get_one_adds_the_events_of_its_subscriptions(api: ApiClient) -> None:
    hook = api.create_webhook()
    api.subscribe(hook["id"], PAYMENT_COMPLETED_ID)

    body = api.get(f"/webhooks/{hook['id']}").json()

    assert set(body) == {"webhook"}
    assert set(body["webhook"]) == WEBHOOK_KEYS | {"events"}
    assert body["webhook"]["events"] == [{"id": PAYMENT_COMPLETED_ID, "name": "pos.payment.completed"}]


def test_get_one_lists_no_events_without_subscriptions(api: ApiClient) -> None:
    hook = api.create_webhook()

    assert api.get(f"/webhooks/{hook['id']}").json()["webhook"]["events"] == []


def test_get_one_forgets_events_of_deleted_subscriptions(api: ApiClient) -> None:
    hook = api.create_webhook()
    sub = api.subscribe(hook["id"], PAYMENT_COMPLETED_ID)
    api.subscribe(hook["id"], TRANSFER_FAILED_ID)
    api.delete(f"/subscriptions/{sub['id']}")

    events = api.get(f"/webhooks/{hook['id']}").json()["webhook"]["events"]

    assert [event["id"] for event in events] == [TRANSFER_FAILED_ID]


def test_get_unknown_webhook_is_404(api: ApiClient) -> None:
    answer = api.get(f"/webhooks/{uuid.uuid4()}")

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_patch_changes_url_and_secret_and_answers_the_webhook(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.patch(f"/webhooks/{hook['id']}", data={"payload_url": "https://b.example/new", "secret": "new"})

    body = answer.json()
    assert answer.status_code == 200
    assert set(body["webhook"]) == WEBHOOK_KEYS
    assert body["webhook"]["payload_url"] == "https://b.example/new"
    assert body["webhook"]["secret"] == "new"
    assert api.get(f"/webhooks/{hook['id']}").json()["webhook"]["secret"] == "new"


def test_patch_keeps_fields_it_does_not_mention(api: ApiClient) -> None:
    hook = api.create_webhook(payload_url="https://keep.example/h", secret="keep")

    body = api.patch(f"/webhooks/{hook['id']}", data={"is_active": "false"}).json()["webhook"]

    assert (body["payload_url"], body["secret"], body["is_active"]) == ("https://keep.example/h", "keep", False)


def test_patch_accepts_every_documented_spelling_of_is_active(api: ApiClient) -> None:
    hook = api.create_webhook()
    spellings = {"0": False, "1": True, "false": False, "true": True, "False": False, "True": True}

    for spelling, expected in spellings.items():
        answer = api.patch(f"/webhooks/{hook['id']}", data={"is_active": spelling})
        assert answer.json()["webhook"]["is_active"] is expected, spelling


def test_patch_accepts_json_boolean_is_active(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.patch(f"/webhooks/{hook['id']}", json={"is_active": False})

    assert answer.json()["webhook"]["is_active"] is False


def test_delete_answers_200_with_an_empty_body(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.delete(f"/webhooks/{hook['id']}")

    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["Content-Length"] == "0"


def test_delete_status_can_be_204(api: ApiClient, control: Control) -> None:
    control.settings(delete_status=204)
    hook = api.create_webhook()

    answer = api.delete(f"/webhooks/{hook['id']}")

    assert answer.status_code == 204
    assert answer.content == b""


def test_deleted_webhook_answers_404_to_get(api: ApiClient) -> None:
    hook = api.create_webhook()
    api.delete(f"/webhooks/{hook['id']}")

    assert api.get(f"/webhooks/{hook['id']}").status_code == 404


def test_deleted_webhook_answers_404_to_patch(api: ApiClient) -> None:
    hook = api.create_webhook()
    api.delete(f"/webhooks/{hook['id']}")

    assert api.patch(f"/webhooks/{hook['id']}", data={"secret": "x"}).status_code == 404


def test_deleting_twice_answers_404(api: ApiClient) -> None:
    hook = api.create_webhook()
    api.delete(f"/webhooks/{hook['id']}")

    assert api.delete(f"/webhooks/{hook['id']}").status_code == 404


def test_deleted_webhook_is_gone_from_the_list(api: ApiClient) -> None:
    kept = api.create_webhook()
    gone = api.create_webhook()
    api.delete(f"/webhooks/{gone['id']}")

    body = api.get("/webhooks").json()

    assert [hook["id"] for hook in body["webhooks"]] == [kept["id"]]
    assert body["pagination"]["total"] == 1


def test_deleted_webhook_stays_in_state_with_deleted_on(api: ApiClient, control: Control) -> None:
    hook = api.create_webhook()
    api.delete(f"/webhooks/{hook['id']}")

    saved = control.state()["webhooks"]

    assert [entry["id"] for entry in saved] == [hook["id"]]
    assert_http_date_in_gmt(saved[0]["deleted_on"])


def test_deleting_a_webhook_ends_its_subscriptions(api: ApiClient, control: Control) -> None:
    hook = api.create_webhook()
    sub = api.subscribe(hook["id"])

    api.delete(f"/webhooks/{hook['id']}")

    assert api.get(f"/subscriptions/{sub['id']}").status_code == 404
    assert api.get("/subscriptions").json()["subscriptions"] == []
    assert control.state()["subscriptions"][0]["deleted_on"] is not None


def test_responses_are_json_with_content_length(api: ApiClient) -> None:
    answer = api.get("/webhooks")

    assert answer.headers["Content-Type"] == "application/json"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    json.loads(answer.content)


def test_unknown_endpoint_is_404(api: ApiClient) -> None:
    assert api.get("/nothing-here").status_code == 404


def test_undocumented_method_is_405(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.put(f"/webhooks/{hook['id']}", data={"secret": "x"})

    assert answer.status_code == 405
    assert "PATCH" in answer.headers["Allow"]
