"""Each credentials pair is its own merchant account; another account's ids answer 404, never 403."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import ApiClient

PAYMENT_COMPLETED_ID = "33bcd9a7-43e4-4c0c-a728-106210056b1a"


def test_accounts_see_only_their_own_webhooks(api: ApiClient, other_api: ApiClient) -> None:
    mine = api.create_webhook()
    other_api.create_webhook()

    body = api.get("/webhooks").json()

    assert [hook["id"] for hook in body["webhooks"]] == [mine["id"]]
    assert body["pagination"]["total"] == 1


def test_reading_another_accounts_webhook_is_404(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.create_webhook()

    answer = api.get(f"/webhooks/{theirs['id']}")

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_patching_another_accounts_webhook_is_404_and_changes_nothing(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.create_webhook(secret="theirs")

    assert api.patch(f"/webhooks/{theirs['id']}", data={"secret": "hijack"}).status_code == 404
    assert other_api.get(f"/webhooks/{theirs['id']}").json()["webhook"]["secret"] == "theirs"


def test_deleting_another_accounts_webhook_is_404_and_deletes_nothing(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.create_webhook()

    assert api.delete(f"/webhooks/{theirs['id']}").status_code == 404
    assert other_api.get(f"/webhooks/{theirs['id']}").status_code == 200


def test_subscribing_to_another_accounts_webhook_is_refused(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.create_webhook()
    api.create_webhook()

    answer = api.post("/subscriptions", data={"webhook_id": theirs["id"], "event_id": PAYMENT_COMPLETED_ID})

    assert answer.status_code == 400
    assert answer.json()["field"] == "webhook_id"


def test_another_accounts_subscription_is_404_for_read_update_and_delete(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.subscribe(other_api.create_webhook()["id"])
    path = f"/subscriptions/{theirs['id']}"

    statuses = [api.get(path).status_code, api.put(path, data={"filter": ""}).status_code, api.delete(path).status_code]

    assert statuses == [404, 404, 404]
    assert other_api.get(path).status_code == 200


def test_accounts_see_only_their_own_subscriptions(api: ApiClient, other_api: ApiClient) -> None:
    other_api.subscribe(other_api.create_webhook()["id"])

    assert api.get("/subscriptions").json()["pagination"]["total"] == 0


def test_single_webhook_shortcut_counts_only_own_webhooks(api: ApiClient, other_api: ApiClient) -> None:
    mine = api.create_webhook()
    other_api.create_webhook()

    assert api.subscribe(None)["hook"]["id"] == mine["id"]
