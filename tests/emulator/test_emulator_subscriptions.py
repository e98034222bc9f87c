"""Events catalogue and subscriptions: shapes, the single-webhook shortcut, filters, updates, deletes."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import ApiClient, Control

WEBHOOK_KEYS = {"created_on", "id", "is_active", "payload_url", "secret"}
SUBSCRIPTION_KEYS = {"created_on", "event", "filter", "hook", "id"}
PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"
TRANSFER_APPROVED_ID = "f82c6caa-d052-4dd3-9044-5be41b36a466"
DOCUMENTED_EVENTS_COM = [
    {"id": "33bcd9a7-43e4-4c0c-a728-106210056b1a", "name": "pos.payment.completed"},
    {"id": "a96b8eb8-67ca-42b5-ab5f-fdc24011ef72", "name": "pos.payment.failed"},
    {"id": "31028c55-24f9-4cb6-b801-282b906647b9", "name": "pos.payment.cancelled"},
    {"id": "a81fd693-d897-4f66-9c7c-f92c01460dac", "name": "account.out-bank-transfer.initiated"},
    {"id": "2261350a-2db1-45a3-b60d-f2fdb0225600", "name": "account.out-bank-transfer.failed"},
    {"id": "f82c6caa-d052-4dd3-9044-5be41b36a466", "name": "account.out-bank-transfer.approved"},
]


def test_events_lists_the_six_documented_events_with_their_uuids(api: ApiClient) -> None:
    body = api.get("/events").json()

    assert body == {"events": DOCUMENTED_EVENTS_COM, "pagination": {"page": 1, "size": 20, "total": 6}}


def test_eu_naming_renames_the_payment_failure_and_cancel_events(api: ApiClient, control: Control) -> None:
    control.settings(event_naming="eu")

    names = {event["id"]: event["name"] for event in api.get("/events").json()["events"]}

    assert names["a96b8eb8-67ca-42b5-ab5f-fdc24011ef72"] == "pos.payment.denied"
    assert names["31028c55-24f9-4cb6-b801-282b906647b9"] == "pos.payment.reversed"
    assert names[PAYMENT_COMPLETED_ID] == "pos.payment.completed"


def test_subscription_has_exactly_the_documented_shape(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.post("/subscriptions", data={"webhook_id": hook["id"], "event_id": PAYMENT_COMPLETED_ID})

    sub = answer.json()["subscription"]
    assert answer.status_code == 200
    assert set(sub) == SUBSCRIPTION_KEYS
    assert sub["event"] == "pos.payment.completed"
    assert sub["filter"] is None
    assert sub["hook"] == hook
    assert set(sub["hook"]) == WEBHOOK_KEYS
    assert uuid.UUID(sub["id"]).version == 4


def test_subscription_stores_a_terminal_filter(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"], tids=["90004889"])

    assert sub["filter"] == {"tids": ["90004889"]}


def test_subscription_accepts_a_json_body_with_an_object_filter(api: ApiClient) -> None:
    hook = api.create_webhook()

    answer = api.post(
        "/subscriptions",
        json={"webhook_id": hook["id"], "event_id": PAYMENT_COMPLETED_ID, "filter": {"tids": ["1", "2"]}},
    )

    assert answer.json()["subscription"]["filter"] == {"tids": ["1", "2"]}


def test_webhook_id_may_be_left_out_when_the_account_has_one_webhook(api: ApiClient) -> None:
    hook = api.create_webhook()

    sub = api.subscribe(None)

    assert sub["hook"]["id"] == hook["id"]


def test_webhook_id_is_required_when_the_account_has_two_webhooks(api: ApiClient) -> None:
    api.create_webhook()
    api.create_webhook()

    answer = api.post("/subscriptions", data={"event_id": PAYMENT_COMPLETED_ID})

    assert answer.status_code == 400
    assert answer.json()["field"] == "webhook_id"


def test_webhook_id_is_required_when_the_account_has_no_webhook(api: ApiClient) -> None:
    answer = api.post("/subscriptions", data={"event_id": PAYMENT_COMPLETED_ID})

    assert answer.status_code == 400
    assert answer.json()["field"] == "webhook_id"


def test_deleted_webhooks_do_not_count_for_the_single_webhook_shortcut(api: ApiClient) -> None:
    kept = api.create_webhook()
    api.delete(f"/webhooks/{api.create_webhook()['id']}")

    assert api.subscribe(None)["hook"]["id"] == kept["id"]


def test_create_status_setting_applies_to_subscriptions(api: ApiClient, control: Control) -> None:
    control.settings(create_status=201)
    created = api.post("/webhooks", data={"payload_url": "https://a.example/h", "secret": "s"})
    hook_id = created.json()["webhook"]["id"]

    answer = api.post("/subscriptions", data={"webhook_id": hook_id, "event_id": PAYMENT_COMPLETED_ID})

    assert answer.status_code == 201


def test_get_subscription_answers_the_same_object(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    assert api.get(f"/subscriptions/{sub['id']}").json() == {"subscription": sub}


def test_subscriptions_list_has_the_documented_envelope(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    body = api.get("/subscriptions").json()

    assert body == {"subscriptions": [sub], "pagination": {"page": 1, "size": 20, "total": 1}}


def test_subscriptions_list_filters_by_webhook_id(api: ApiClient) -> None:
    first, second = api.create_webhook(), api.create_webhook()
    api.subscribe(first["id"])
    wanted = api.subscribe(second["id"])

    body = api.get("/subscriptions", params={"webhook_id": second["id"]}).json()

    assert [sub["id"] for sub in body["subscriptions"]] == [wanted["id"]]
    assert body["pagination"]["total"] == 1


def test_put_replaces_the_filter(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    answer = api.put(f"/subscriptions/{sub['id']}", data={"filter": json.dumps({"tids": ["90004889"]})})

    assert answer.status_code == 200
    assert answer.json()["subscription"]["filter"] == {"tids": ["90004889"]}
    assert api.get(f"/subscriptions/{sub['id']}").json()["subscription"]["filter"] == {"tids": ["90004889"]}


def test_patch_updates_the_filter_like_put(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    answer = api.patch(f"/subscriptions/{sub['id']}", data={"filter": '{"tids":["1"]}'})

    assert answer.json()["subscription"]["filter"] == {"tids": ["1"]}


def test_empty_filter_clears_it(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"], tids=["1"])

    assert api.put(f"/subscriptions/{sub['id']}", data={"filter": ""}).json()["subscription"]["filter"] is None


def test_null_filter_clears_it(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"], tids=["1"])

    assert api.put(f"/subscriptions/{sub['id']}", data={"filter": "null"}).json()["subscription"]["filter"] is None


def test_delete_subscription_answers_empty_200_then_404(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])

    answer = api.delete(f"/subscriptions/{sub['id']}")

    assert (answer.status_code, answer.content) == (200, b"")
    assert api.get(f"/subscriptions/{sub['id']}").status_code == 404
    assert api.delete(f"/subscriptions/{sub['id']}").status_code == 404


def test_deleted_subscription_cannot_be_updated(api: ApiClient) -> None:
    sub = api.subscribe(api.create_webhook()["id"])
    api.delete(f"/subscriptions/{sub['id']}")

    assert api.put(f"/subscriptions/{sub['id']}", data={"filter": ""}).status_code == 404


def test_subscription_shows_the_current_state_of_its_webhook(api: ApiClient) -> None:
    hook = api.create_webhook()
    sub = api.subscribe(hook["id"])
    api.patch(f"/webhooks/{hook['id']}", data={"is_active": "0"})

    assert api.get(f"/subscriptions/{sub['id']}").json()["subscription"]["hook"]["is_active"] is False


def test_duplicate_subscriptions_can_be_refused(api: ApiClient, control: Control) -> None:
    control.settings(allow_duplicate_subscriptions=False)
    hook = api.create_webhook()
    api.subscribe(hook["id"], TRANSFER_APPROVED_ID)

    answer = api.post("/subscriptions", data={"webhook_id": hook["id"], "event_id": TRANSFER_APPROVED_ID})

    assert answer.status_code == 409
    assert answer.json()["field"] == "event_id"
