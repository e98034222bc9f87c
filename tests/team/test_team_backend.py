"""Two engineers share the `sandbox` and `production` stacks in PostgreSQL, through the real Pulumi CLI."""

from __future__ import annotations

import base64
import json

import pytest

from harness.team import processes_in

pytestmark = pytest.mark.engine

LOCK_MESSAGE = "the stack is currently locked by 1 lock(s)"


def test_the_state_of_both_stacks_lives_in_the_shared_database(team, converged):
    team.alice.pulumi("up", "--yes", stack="sandbox")

    keys = [row.key for row in team.database.server.rows(team.database.name)]
    assert any(k.endswith("/sandbox.json") for k in keys), keys
    assert any(k.endswith("/production.json") for k in keys), keys
    assert not list(team.alice.work_dir.rglob(".pulumi-state")), "nothing may be written to a file backend"
    team.bob.pulumi("preview", "--expect-no-changes", stack="sandbox")  # Bob sees Alice's deployment
    assert json.loads(team.bob.pulumi("stack", "output", "--json", stack="sandbox").stdout)["ordersId"]
    converged("sandbox", member=team.bob, webhooks=2, subscriptions=2)


def test_a_second_up_on_a_locked_stack_is_refused_and_its_next_up_converges(team, converged, wait_until):
    # Alice's deployment stalls on its first create for a few seconds: long enough for Bob's attempt.
    team.control.set_faults([{"method": "POST", "path": "/v1/webhooks", "kind": "slow", "delay": 8, "times": 1}])
    alice_up = team.alice.start_up("sandbox")
    wait_until(team.database.lock_keys, timeout=60)

    refused = team.bob.pulumi("up", "--yes", stack="sandbox", check=False)

    assert alice_up.poll() is None, "Alice's deployment ended before Bob's attempt: the test proves nothing"
    assert refused.code != 0
    assert LOCK_MESSAGE in refused.output
    assert "****:****@" in refused.output, "the lock message must not show the database password"
    assert team.alice.finish(alice_up).code == 0
    posts = [r for r in team.control.writes() if r["method"] == "POST"]
    assert len(posts) == 4, "every object created once: Bob's refused run wrote nothing"

    team.bob.pulumi("up", "--yes", stack="sandbox")

    assert len([r for r in team.control.writes() if r["method"] == "POST"]) == 4
    converged("sandbox", member=team.bob, webhooks=2, subscriptions=2)
    assert team.database.lock_keys() == []


def test_a_deployment_killed_mid_run_is_recovered_with_the_readme_procedure(team, converged, wait_until):
    team.alice.set_program(1, extra_webhooks=4)
    # The third webhook is created in myPOS, but its answer is held back: the run dies before recording it.
    stalled = {"method": "POST", "path": "/v1/webhooks", "kind": "commit_then_fail", "then": "slow", "delay": 20}
    team.control.set_faults([{**stalled, "sequence": [False, False, True]}])
    alice_up = team.alice.start_up("sandbox")
    wait_until(lambda: team.control.ok("GET", "/faults")["rules"][0]["fired"] == 1, timeout=120)
    team.alice.kill(alice_up)  # the CI runner is lost mid-deployment
    wait_until(lambda: not processes_in(team.alice.work_dir), timeout=30)
    team.control.clear_faults()
    assert team.database.lock_keys(), "the killed run must have left its lock"
    team.bob.pull_from(team.alice)

    blocked = team.bob.pulumi("up", "--yes", stack="sandbox", check=False)
    assert LOCK_MESSAGE in blocked.output
    team.bob.pulumi("cancel", "--yes", stack="sandbox")
    recovered = team.bob.mypos("recover", stack="sandbox", check=True)
    team.bob.pulumi("up", "--yes", stack="sandbox")

    assert "was made by it: recorded in the state" in recovered.stdout
    assert "cleared" in recovered.stdout
    converged("sandbox", member=team.bob, webhooks=6, subscriptions=2)
    team.bob.pulumi("preview", "--expect-no-changes", stack="sandbox")


def test_promotion_from_sandbox_to_production_changes_only_what_config_says(team, converged):
    for stack in ("sandbox", "production"):
        team.alice.pulumi("up", "--yes", stack=stack)
    team.alice.set_program(2)  # the reviewed change

    team.alice.pulumi("up", "--yes", stack="sandbox")
    sandbox_hooks = team.control.live_webhooks(team.accounts["sandbox"].client_id)
    production_before = team.control.live_webhooks(team.accounts["production"].client_id)
    team.bob.pull_from(team.alice)  # merged: the same program reaches production from another working copy
    team.bob.pulumi("up", "--yes", stack="production")

    production_hooks = team.control.live_webhooks(team.accounts["production"].client_id)
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
        converged(stack, member=team.bob, webhooks=2, subscriptions=2)
        events = sorted(s["event"] for s in team.control.live_subscriptions(team.accounts[stack].client_id))
        assert events == ["pos.payment.cancelled", "pos.payment.failed"]
    assert {h["secret"] for h in sandbox_hooks}.isdisjoint({h["secret"] for h in production_hooks})


def test_each_stacks_secrets_stay_encrypted_in_the_shared_table(team):
    for stack in ("sandbox", "production"):
        team.alice.pulumi("up", "--yes", stack=stack)
    rows = team.database.server.sql("SELECT key, data->>'data' FROM pulumi_state", database=team.database.name)
    decoded = "\n".join(base64.b64decode(line.split("|", 1)[1]).decode() for line in rows.splitlines())

    assert "orders" in decoded and "ciphertext" in decoded, "the table should hold both states, secrets as ciphertext"
    for stack, secrets in team.secrets.items():
        live = [w["secret"] for w in team.control.live_webhooks(team.accounts[stack].client_id)]
        assert len(live) == 2
        for value in [secrets.client_secret, secrets.treasury_secret, secrets.passphrase, *live]:
            assert value not in decoded and value not in rows, f"a secret of {stack} is in the table in plaintext"


def test_a_stack_cannot_be_read_with_another_stacks_passphrase(team):
    team.alice.pulumi("up", "--yes", stack="production")
    team.alice.passphrases["production"] = team.secrets["sandbox"].passphrase

    refused = team.alice.pulumi("stack", "output", "--show-secrets", stack="production", check=False)

    assert refused.code != 0
    assert "passphrase" in refused.output.lower()
