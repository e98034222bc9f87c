"""Everyday operations through the real engine: renames, state surgery, previews in review, outputs, lookups."""

from __future__ import annotations

import textwrap

import pytest
from pulumi import automation as auto

pytestmark = pytest.mark.engine

URL = "https://shop.example.com/mypos/orders"
ORDERS = {"name": "orders", "payloadUrl": URL, "events": ["pos.payment.completed", "pos.payment.cancelled"]}


def failed(run) -> str:
    """Run a Pulumi operation that must fail; the CLI's whole output."""
    with pytest.raises(auto.errors.CommandError) as failure:
        run()
    return str(failure.value)


def error_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]


# ---- renames ------------------------------------------------------------------------------------------


def test_renaming_a_webhook_with_an_alias_previews_as_no_change_and_keeps_its_objects(deploy, control, account):
    deployment = deploy([ORDERS])
    deployment.up()
    before = control.live_webhooks(account.client_id)
    deployment.set_webhooks([{**ORDERS, "name": "shop-orders", "aliases": ["orders"]}])

    preview = deployment.preview(expect_no_changes=True)
    deployment.up(expect_no_changes=True)

    assert preview.change_summary == {"same": 4}
    assert control.live_webhooks(account.client_id) == before
    names = sorted(r["urn"].rsplit("::", 1)[-1] for r in deployment.resources("Subscription"))
    assert names == ["shop-orders-pos.payment.cancelled", "shop-orders-pos.payment.completed"]


def test_renaming_a_webhook_in_code_with_resource_aliases_changes_nothing(deploy, control, account):
    program = textwrap.dedent(
        """
        import pulumi
        from mypos_provider import Webhook

        NAME = "{name}"
        opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(name="orders")]) if NAME != "orders" else None
        Webhook(NAME, payload_url="{url}", opts=opts)
        """
    )
    deployment = deploy(program=program.format(name="orders", url=URL))
    deployment.up()
    (deployment.work_dir / "__main__.py").write_text(program.format(name="shop-orders", url=URL))

    up = deployment.up()

    assert up.summary.resource_changes == {"same": 2}
    assert len(control.live_webhooks(account.client_id)) == 1


def test_renaming_an_adopted_webhook_without_an_alias_releases_it_instead_of_deleting_it(
    deploy, control, account, outofband
):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    deployment = deploy([{"name": "legacy", "payloadUrl": URL, "adoptId": hook["id"], "events": []}])
    deployment.up()
    deployment.set_webhooks([{"name": "orders", "payloadUrl": URL, "adoptId": hook["id"], "events": []}])

    deployment.up()

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [hook["id"]]
    assert [r["id"] for r in deployment.resources("Webhook")] == [hook["id"]]
    assert "it was released from the removed resource, not deleted" in deployment.cli_text()
    deployment.preview(expect_no_changes=True)


# ---- outputs ------------------------------------------------------------------------------------------


def test_webhook_outputs_after_the_first_up_are_those_of_the_live_webhook_and_nothing_stale(deploy, control, account):
    deployment = deploy([ORDERS])

    deployment.up()

    live = control.live_webhooks(account.client_id)[0]
    outputs = deployment.resources("Webhook")[0]["outputs"]
    assert "events" not in outputs  # an output that could not be right after every `up` no longer exists
    assert (outputs["payload_url"], outputs["is_active"]) == (live["payload_url"], live["is_active"])


# ---- credentials and endpoints are proven by every operation ----------------------------------------


def test_a_preview_with_nothing_to_change_sends_one_token_request_and_the_catalogue(deploy, control):
    deployment = deploy([ORDERS])
    deployment.up()
    control.clear_requests()

    deployment.preview(expect_no_changes=True)

    assert sorted((r["method"], r["path"]) for r in control.requests()) == [
        ("GET", "/v1/events"),
        ("POST", "/oauth/token"),
    ]


def test_a_wrong_client_secret_fails_a_preview_with_nothing_to_change_in_one_line(deploy, control):
    deployment = deploy([ORDERS])
    deployment.up()
    deployment.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)
    control.clear_requests()

    text = failed(deployment.preview)

    errors = [line for line in error_lines(text) if "client credentials" in line]
    assert len(errors) == 1 and "mypos:clientSecret" in errors[0]
    assert [(r["method"], r["path"]) for r in control.requests()] == [("POST", "/oauth/token")]


def test_a_wrong_client_secret_fails_an_up_with_nothing_to_change(deploy):
    deployment = deploy([ORDERS])
    deployment.up()
    deployment.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)

    text = failed(deployment.up)

    assert "the Auth API rejected the client credentials" in text


def test_a_wrong_client_secret_fails_the_preview_of_an_in_place_change(deploy):
    deployment = deploy([ORDERS])
    deployment.up()
    deployment.set_webhooks([{**ORDERS, "active": False}])
    deployment.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)

    text = failed(deployment.preview)

    assert "the Auth API rejected the client credentials" in text


def test_a_refresh_with_a_wrong_client_secret_reports_it_once_with_one_token_request(deploy, control):
    deployment = deploy([ORDERS, {**ORDERS, "name": "other", "payloadUrl": URL + "/other"}])
    deployment.up()
    deployment.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)
    failed(deployment.up)  # the failed update records the new (wrong) provider configuration, as Pulumi does
    control.clear_requests()

    text = failed(deployment.refresh)

    assert [line for line in error_lines(text) if "not attempted" in line] == []
    assert sum("the Auth API rejected the client credentials" in line for line in error_lines(text)) == 1
    assert [(r["method"], r["path"]) for r in control.requests()] == [("POST", "/oauth/token")]


def test_an_unreachable_api_is_blamed_on_the_api_url_setting_not_on_a_field(deploy):
    deployment = deploy([ORDERS])
    deployment.set_config("mypos:apiUrl", "http://127.0.0.1:9/v1")
    deployment.set_config("mypos:maxRetries", "0")

    text = failed(deployment.preview)

    line = next(line for line in error_lines(text) if "cannot reach" in line)
    assert "the myPOS Webhook API at 127.0.0.1:9" in line and "mypos:apiUrl" in line
    assert "event" not in line.split("check", 1)[1]


def test_error_lines_carry_no_python_class_path(deploy):
    deployment = deploy([{**ORDERS, "payloadUrl": "ftp://shop.example.com/x"}])
    deployment.set_config("mypos:clientSecret", "not-the-right-secret", secret=True)

    text = failed(deployment.preview)

    assert "mypos_provider." not in text and "ProviderFailure" not in text and "Traceback" not in text


def test_an_unknown_event_suggests_the_closest_name(deploy):
    deployment = deploy([{**ORDERS, "events": ["pos.payment.complete"]}])

    text = failed(deployment.preview)

    assert "unknown event 'pos.payment.complete': did you mean 'pos.payment.completed'?" in text


def test_a_refresh_warning_is_printed_once(deploy, control, account, outofband):
    deployment = deploy([ORDERS])
    deployment.up()
    subscription = control.live_subscriptions(account.client_id)[0]["id"]
    outofband.delete_subscription(subscription)

    deployment.refresh()

    text = deployment.cli_text()
    mentions = [line for line in text.splitlines() if f"subscription {subscription} (" in line]
    assert mentions and all("warning: subscription" in line for line in mentions)  # no raw log line beside it
    diagnostics = text.split("Diagnostics:", 1)[1]
    assert diagnostics.count(f"subscription {subscription} (") == 1


# ---- state surgery ------------------------------------------------------------------------------------


def test_up_after_state_delete_of_a_subscription_adopts_it_instead_of_duplicating_it(deploy, control, account):
    deployment = deploy([ORDERS])
    deployment.up()
    urn = next(r["urn"] for r in deployment.resources("Subscription") if r["outputs"]["event"].endswith("completed"))
    deployment.cli("state", "delete", urn, "--yes", "--stack", deployment.stack.name)

    deployment.up()

    assert len(control.live_subscriptions(account.client_id)) == 2
    assert "already exists in the account but was not recorded in the state" in deployment.cli_text()
    deployment.preview(expect_no_changes=True)


# ---- adoption is reviewable ---------------------------------------------------------------------------


def test_a_preview_with_adopt_id_says_what_up_will_change_on_the_live_webhook(deploy, outofband):
    hook = outofband.create_webhook(URL + "/old", "clicked-together-secret-01")
    deployment = deploy([{"name": "legacy", "payloadUrl": URL, "adoptId": hook["id"], "secret": "new-secret-0123"}])

    deployment.preview()

    text = deployment.cli_text()
    assert f"webhook {hook['id']} ({URL}/old) will be adopted and changed in place" in text
    assert f"payload_url '{URL}/old' => '{URL}'" in text and "secret [secret] => [secret]" in text
    assert "new-secret-0123" not in text and "clicked-together-secret-01" not in text


def test_an_adopt_id_that_does_not_exist_fails_the_preview(deploy, control):
    missing = "0a1b2c3d-0000-4000-8000-000000000000"
    deployment = deploy([{"name": "legacy", "payloadUrl": URL, "adoptId": missing}])

    text = failed(deployment.preview)

    assert f"adopt_id {missing}: this account has no such webhook" in text
    assert control.writes() == []


def test_a_webhook_id_that_does_not_exist_fails_the_preview(deploy):
    program = textwrap.dedent(
        """
        from mypos_provider import Subscription
        Subscription("orphan", webhook_id="0a1b2c3d-0000-4000-8000-000000000000", event="pos.payment.completed")
        """
    )

    text = failed(deploy(program=program).preview)

    assert "webhook_id 0a1b2c3d-0000-4000-8000-000000000000: this account has no such webhook" in text


# ---- read-only lookups --------------------------------------------------------------------------------

LOOKUP_PROGRAM = textwrap.dedent(
    """
    import pulumi
    from mypos_provider import Subscription, Webhook, get_events, get_webhooks

    hook = Webhook.get("existing", "{webhook_id}")
    sub = Subscription.get("existing-paid", "{subscription_id}")
    pulumi.export("url", hook.payload_url)
    pulumi.export("secret", hook.secret)
    pulumi.export("event", sub.event)
    pulumi.export("events", get_events())
    pulumi.export("webhooks", [w.payload_url for w in get_webhooks()])
    """
)


def test_get_reads_an_existing_webhook_and_subscription_into_the_program_with_the_secret_as_a_secret(deploy, outofband):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    sub = outofband.subscribe(hook["id"], "pos.payment.completed")
    deployment = deploy(program=LOOKUP_PROGRAM.format(webhook_id=hook["id"], subscription_id=sub["id"]))

    up = deployment.up()

    assert up.outputs["url"].value == URL and up.outputs["event"].value == "pos.payment.completed"
    assert up.outputs["secret"].secret is True and up.outputs["secret"].value == "clicked-together-secret-01"
    assert "pos.payment.completed" in up.outputs["events"].value
    assert up.outputs["webhooks"].value == [URL]


def test_destroy_never_deletes_what_get_read(deploy, control, account, outofband):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    sub = outofband.subscribe(hook["id"], "pos.payment.completed")
    deployment = deploy(program=LOOKUP_PROGRAM.format(webhook_id=hook["id"], subscription_id=sub["id"]))
    deployment.up()
    control.clear_requests()

    deployment.destroy()

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [hook["id"]]
    assert [s["id"] for s in control.live_subscriptions(account.client_id)] == [sub["id"]]
    assert control.writes() == []


def test_lookups_run_during_a_preview(deploy, outofband):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    sub = outofband.subscribe(hook["id"], "pos.payment.completed")
    deployment = deploy(program=LOOKUP_PROGRAM.format(webhook_id=hook["id"], subscription_id=sub["id"]))

    deployment.preview()

    text = deployment.cli_text()
    assert "read pulumi-python:dynamic/mypos:Webhook existing" in text
    assert "read pulumi-python:dynamic/mypos:Subscription existing-paid" in text
    assert '"account.out-bank-transfer.approved"' in text  # get_events() ran: its names are previewed outputs


def test_get_of_a_missing_webhook_fails_with_one_line(deploy):
    missing = "0a1b2c3d-0000-4000-8000-000000000000"
    program = f'from mypos_provider import Webhook\nWebhook.get("gone", "{missing}")\n'

    text = failed(deploy(program=program).preview)

    assert f"webhook {missing}: this account has no such webhook" in text


# ---- targeted and forced operations ---------------------------------------------------------------------


def urn_of(deployment, type_name: str, name: str) -> str:
    return next(r["urn"] for r in deployment.resources(type_name) if r["urn"].endswith(f"::{name}"))


def test_up_with_replace_of_a_webhook_moves_its_subscriptions_and_leaves_no_orphan(deploy, control, account):
    deployment = deploy([ORDERS])
    deployment.up()
    old = control.live_webhooks(account.client_id)[0]["id"]

    deployment.up(replace=[urn_of(deployment, "Webhook", "orders")])

    [webhook] = control.live_webhooks(account.client_id)
    assert webhook["id"] != old
    assert [s["webhook_id"] for s in control.live_subscriptions(account.client_id)] == [webhook["id"]] * 2
    deployment.preview(expect_no_changes=True)


def test_up_with_target_changes_only_the_targeted_webhook(deploy, control, account):
    other = {**ORDERS, "name": "other", "payloadUrl": URL + "/other"}
    deployment = deploy([ORDERS, other])
    deployment.up()
    deployment.set_webhooks([{**ORDERS, "active": False}, {**other, "active": False}])

    deployment.up(target=[urn_of(deployment, "Webhook", "orders")])

    active = {w["payload_url"]: w["is_active"] for w in control.live_webhooks(account.client_id)}
    assert active == {URL: False, URL + "/other": True}
    assert deployment.preview().change_summary.get("update") == 1


def test_a_rename_of_an_adopted_webhook_applied_with_target_first_still_keeps_the_webhook(
    deploy, control, account, outofband
):
    hook = outofband.create_webhook(URL, "clicked-together-secret-01")
    deployment = deploy([{"name": "legacy", "payloadUrl": URL, "adoptId": hook["id"], "events": []}])
    deployment.up()
    deployment.set_webhooks([{"name": "orders", "payloadUrl": URL, "adoptId": hook["id"], "events": []}])
    new_urn = urn_of(deployment, "Webhook", "legacy").replace("::legacy", "::orders")

    deployment.up(target=[new_urn])  # the new name adopts the webhook; the old name stays in the state
    deployment.up()  # now the old name is removed

    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [hook["id"]]
    assert [r["urn"] for r in deployment.resources("Webhook")] == [new_urn]
    deployment.preview(expect_no_changes=True)
