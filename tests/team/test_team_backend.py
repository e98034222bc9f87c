"""Scenario: two engineers share the `sandbox` and `production` stacks in PostgreSQL, through the real Pulumi
CLI: the state lives in the table, encrypted per stack; a reviewed change is promoted from sandbox to
production; a second `up` on a locked stack is refused. (A deployment killed mid-run, and what its printed
procedure does: test_interrupted_deploys.py and test_a_week_of_team_use.py.)"""

from __future__ import annotations

import base64
import json

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.scenario]

LOCK_MESSAGE = "the stack is currently locked by 1 lock(s)"


def webhook_creates(team) -> int:
    return len([r for r in team.control.writes() if r["method"] == "POST" and r["path"] == "/v1/webhooks"])


def test_the_state_of_both_stacks_lives_in_the_shared_database(team_scenario, alice, bob, scenario_converged):
    alice.pulumi("up", "--yes", stack="sandbox")

    keys = [row.key for row in team_scenario.database.server.rows(team_scenario.database.name)]
    assert any(k.endswith("/sandbox.json") for k in keys), keys
    assert any(k.endswith("/production.json") for k in keys), keys
    assert not list(alice.work_dir.rglob(".pulumi-state")), "nothing may be written to a file backend"
    bob.pulumi("preview", "--expect-no-changes", stack="sandbox")  # Bob sees Alice's deployment
    assert json.loads(bob.pulumi("stack", "output", "--json", stack="sandbox").stdout)["ordersId"]
    scenario_converged("sandbox", member=bob, webhooks=2, subscriptions=2)


def test_each_stacks_secrets_stay_encrypted_in_the_shared_table(team_scenario, alice):
    alice.pulumi("up", "--yes", stack="production")
    database = team_scenario.database
    rows = database.server.sql("SELECT key, data->>'data' FROM pulumi_state", database=database.name)
    decoded = "\n".join(base64.b64decode(line.split("|", 1)[1]).decode() for line in rows.splitlines())

    assert "orders" in decoded and "ciphertext" in decoded, "the table should hold both states, secrets as ciphertext"
    for stack, secrets in team_scenario.secrets.items():
        live = [w["secret"] for w in team_scenario.control.live_webhooks(team_scenario.accounts[stack].client_id)]
        assert len(live) == 2
        for value in [secrets.client_secret, secrets.treasury_secret, secrets.passphrase, *live]:
            assert value not in decoded and value not in rows, f"a secret of {stack} is in the table in plaintext"


def test_a_stack_cannot_be_read_with_another_stacks_passphrase(team_scenario, bob):
    own = bob.passphrases["production"]
    bob.passphrases["production"] = team_scenario.secrets["sandbox"].passphrase
    try:
        refused = bob.pulumi("stack", "output", "--show-secrets", stack="production", check=False)
    finally:
        bob.passphrases["production"] = own

    assert refused.code != 0
    assert "passphrase" in refused.output.lower()


def test_promotion_from_sandbox_to_production_changes_only_what_config_says(
    team_scenario, alice, bob, scenario_converged
):
    alice.set_program(2)  # the reviewed change

    alice.pulumi("up", "--yes", stack="sandbox")
    sandbox_hooks = team_scenario.control.live_webhooks(team_scenario.accounts["sandbox"].client_id)
    production_before = team_scenario.control.live_webhooks(team_scenario.accounts["production"].client_id)
    bob.pull_from(alice)  # merged: the same program reaches production from another working copy
    bob.pulumi("up", "--yes", stack="production")

    production_hooks = team_scenario.control.live_webhooks(team_scenario.accounts["production"].client_id)
    assert sorted(h["payload_url"] for h in sandbox_hooks) == [
        "https://staging.shop.example.com/mypos/orders-v2",
        "https://staging.shop.example.com/mypos/treasury",
    ]
    assert sorted(h["payload_url"] for h in production_before) == [
        "https://shop.example.com/mypos/orders",
        "https://shop.example.com/mypos/treasury",
    ], "deploying sandbox must not touch production"
    assert sorted(h["payload_url"] for h in production_hooks) == [
        "https://shop.example.com/mypos/orders-v2",
        "https://shop.example.com/mypos/treasury",
    ]
    for stack in ("sandbox", "production"):
        scenario_converged(stack, member=bob, webhooks=2, subscriptions=2)
        events = sorted(
            s["event"] for s in team_scenario.control.live_subscriptions(team_scenario.accounts[stack].client_id)
        )
        assert events == ["pos.payment.cancelled", "pos.payment.failed"]
    assert {h["secret"] for h in sandbox_hooks}.isdisjoint({h["secret"] for h in production_hooks})


def test_a_second_up_on_a_locked_stack_is_refused_and_its_next_up_converges(
    team_scenario, alice, bob, scenario_converged, wait_until
):
    alice.set_program(2, extra_webhooks=1)
    bob.pull_from(alice)
    team_scenario.control.clear_requests()
    # Alice's deployment stalls on its create for a few seconds: long enough for Bob's attempt.
    team_scenario.control.set_faults(
        [{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 8, "times": 1}]
    )
    alice_up = alice.start_up("sandbox")
    wait_until(team_scenario.database.lock_keys, timeout=60)

    refused = bob.pulumi("up", "--yes", stack="sandbox", check=False)

    assert alice_up.poll() is None, "Alice's deployment ended before Bob's attempt: the test proves nothing"
    assert refused.code != 0
    assert LOCK_MESSAGE in refused.output
    assert "****:****@" in refused.output, "the lock message must not show the database password"
    assert alice.finish(alice_up).code == 0
    assert webhook_creates(team_scenario) == 1, "the new webhook created once: Bob's refused run wrote nothing"

    bob.pulumi("up", "--yes", stack="sandbox")

    assert webhook_creates(team_scenario) == 1
    scenario_converged("sandbox", member=bob, webhooks=3, subscriptions=2)
    assert team_scenario.database.lock_keys() == []
