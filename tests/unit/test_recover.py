"""`recover` on recorded states: what it records, what it refuses, against the in-process emulator.

The stack is a recorded deployment (what `pulumi stack export --show-secrets` prints); the account is the
emulator's, reached over HTTP. Through the real engine: tests/engine/test_command_line.py."""

from __future__ import annotations

import copy
import io
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from mypos_provider.cli.errors import CliError, StackLocked
from mypos_provider.cli.locks import AssessedLock, Liveness, LockHolder
from mypos_provider.cli.recover import RecoverRequest, recover
from mypos_provider.cli.stack import SECRET_SIGNATURE
from mypos_provider.client import Credentials, MyPOSClient, RetryPolicy
from mypos_provider.tokens import SUBSCRIPTION_TYPE, WEBHOOK_TYPE

URL = "https://shop.example.com/mypos/orders"
SECRET = "declared-secret-000000000001"
STACK_URN = "urn:pulumi:b::p::pulumi:pulumi:Stack::p-b"


class RecordedStack:
    """A stack whose state is a recorded deployment; `replace_deployment` keeps what would be imported."""

    def __init__(self, deployment: dict[str, Any], *, locked: bool = False) -> None:
        self.name = "b"
        self._deployment = deployment
        self.locked = locked
        self.held: list[AssessedLock] | None = []  # what reading the backend's locks finds (None: unreadable)
        self.released = False
        self.imported: dict[str, Any] | None = None
        self.reads = 0
        self.changes_after_read: dict[str, Any] | None = None

    def config(self) -> dict[str, Any]:
        return {}

    def deployment(self) -> dict[str, Any]:
        self.reads += 1
        if self.reads > 1 and self.changes_after_read is not None:
            return copy.deepcopy(self.changes_after_read)
        return copy.deepcopy(self._deployment)

    def replace_deployment(self, deployment: dict[str, Any]) -> None:
        if self.locked:
            raise StackLocked(self.name, [])
        self.imported = deployment
        self._deployment = copy.deepcopy(deployment)  # what the next run reads, as with `pulumi stack import`

    def locks(self) -> list[AssessedLock] | None:
        return self.held

    def release_lock(self) -> None:
        self.released = True
        self.held = []

    def managed_ids(self) -> set[str]:
        return {r["id"] for r in self._deployment.get("resources") or [] if r.get("id")}


def secret(value: str) -> dict[str, str]:
    return {SECRET_SIGNATURE[0]: SECRET_SIGNATURE[1], "plaintext": f'"{value}"'}


def pending_webhook(name: str, *, not_before: float | None, generated: bool = False, **inputs: Any) -> dict[str, Any]:
    values = {
        "payload_url": URL,
        "secret": secret(SECRET),
        "is_active": True,
        "__provider": "blob",
        "__secret_generated": generated,
        **inputs,
    }
    if not_before is not None:
        values["__not_before"] = int(not_before)
    return {
        "type": "creating",
        "resource": {
            "urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::{name}",
            "type": WEBHOOK_TYPE,
            "custom": True,
            "parent": STACK_URN,
            "inputs": values,
        },
    }


def pending_subscription(name: str, webhook_id: str, *, not_before: float) -> dict[str, Any]:
    values = {
        "webhook_id": webhook_id,
        "event": "pos.payment.completed",
        "__provider": "blob",
        "__not_before": int(not_before),
    }
    return {
        "type": "creating",
        "resource": {
            "urn": f"urn:pulumi:b::p::{SUBSCRIPTION_TYPE}::{name}",
            "type": SUBSCRIPTION_TYPE,
            "custom": True,
            "inputs": values,
        },
    }


def deployment_with(*pending: dict[str, Any], resources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"manifest": {"time": "t"}, "resources": resources or [], "pending_operations": list(pending)}


@pytest.fixture
def client(emulator, account) -> MyPOSClient:
    return MyPOSClient.connect(
        api_url=emulator.api_url,
        auth_url=emulator.url,
        credentials=Credentials(account.client_id, account.client_secret),
        retry=RetryPolicy(max_retries=1, backoff_factor=0.01),
    )


def run(stack: RecordedStack, client: MyPOSClient, **request: Any) -> tuple[int, str]:
    out = io.StringIO()
    status = recover(stack, client, RecoverRequest(**request), out)
    return status, out.getvalue()


def earlier() -> float:
    return time.time() - 3600


def test_a_webhook_the_killed_run_made_is_recorded_as_its_resource_and_pending_creates_cleared(client, outofband):
    stamp = time.time() - 2
    made = outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    status, out = run(stack, client)

    assert status == 0 and stack.imported is not None
    assert stack.imported["pending_operations"] == []
    [recorded] = stack.imported["resources"]
    assert recorded["id"] == made["id"] and recorded["urn"].endswith("::orders")
    assert recorded["outputs"]["secret"] == secret(SECRET)  # stays a secret when imported
    assert recorded["outputs"]["payload_url"] == URL and recorded["outputs"]["__provider"] == "blob"
    assert f"orders: webhook {made['id']} was made by it" in out


def test_a_look_alike_that_appeared_before_the_run_began_is_never_taken(client, outofband, emulator):
    outofband.create_webhook(URL, SECRET)  # another stack's, made before b's check stamped its create
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=time.time() + 5)))

    status, out = run(stack, client)

    assert status == 0 and stack.imported is not None and stack.imported["resources"] == []
    assert "orders: nothing was made: the deploy creates it" in out


def test_an_object_already_recorded_in_the_state_is_not_taken_again(client, outofband):
    stamp = time.time() - 2
    made = outofband.create_webhook(URL, SECRET)
    recorded = {"urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::old", "type": WEBHOOK_TYPE, "id": made["id"]}
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp), resources=[recorded]))

    status, _ = run(stack, client)

    assert status == 0 and stack.imported is not None and stack.imported["resources"] == [recorded]


def test_more_candidates_than_creates_changes_nothing_and_lists_them_with_the_command_to_choose(client, outofband):
    stamp = time.time() - 2
    first, second = outofband.create_webhook(URL, SECRET), outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    status, out = run(stack, client)

    assert status == 1 and stack.imported is None
    assert "2 match, but the killed run sent 1 create(s)" in out
    assert first["id"] in out and second["id"] in out
    assert f"python -m mypos_provider recover --stack b --record orders={first['id']}" in out


def test_a_person_s_choice_settles_an_ambiguity(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    chosen = outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    status, _ = run(stack, client, chosen={"orders": chosen["id"]})

    assert status == 0 and stack.imported is not None
    assert [r["id"] for r in stack.imported["resources"]] == [chosen["id"]]


def test_a_choice_that_is_not_a_candidate_is_refused(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    with pytest.raises(CliError, match="--record orders=nonsense: not among the candidates"):
        run(stack, client, chosen={"orders": "nonsense"})


def test_a_state_without_the_stamp_proves_nothing_so_recover_asks(client, outofband):
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=None)))

    status, out = run(stack, client)

    assert status == 1 and stack.imported is None
    assert "the state does not say when the killed run began" in out


def test_a_match_on_a_declared_secret_is_recorded_with_a_warning(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp, generated=False)))

    _, out = run(stack, client)

    assert "warning: orders: webhook" in out and "matched on a declared secret" in out


def test_a_match_on_a_generated_secret_needs_no_warning(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp, generated=True)))

    _, out = run(stack, client)

    assert "warning" not in out


def test_a_subscription_the_killed_run_made_is_recorded_with_its_event_id(client, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    stamp = time.time() - 2
    made = outofband.subscribe(hook["id"], "pos.payment.completed")
    stack = RecordedStack(deployment_with(pending_subscription("orders-paid", hook["id"], not_before=stamp)))

    status, _ = run(stack, client)

    assert status == 0 and stack.imported is not None
    [recorded] = stack.imported["resources"]
    assert recorded["id"] == made["id"]
    assert recorded["outputs"]["event_id"] == "33bcd9a7-43e4-4c0c-a728-106210056b1a"


def test_an_adoption_left_pending_records_nothing(client, outofband):
    hook = outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=earlier(), adopt_id=hook["id"])))

    status, out = run(stack, client)

    assert status == 0 and stack.imported is not None and stack.imported["resources"] == []
    assert "orders: an adoption: nothing to record" in out


def test_dry_run_writes_nothing(client, outofband):
    stamp = time.time() - 2
    made = outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    status, out = run(stack, client, dry_run=True)

    assert status == 0 and stack.imported is None
    assert f"orders: webhook {made['id']} was made by it" in out and "nothing changed (dry run)" in out


def test_a_stack_changed_while_recover_read_it_is_left_alone(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))
    stack.changes_after_read = deployment_with()

    with pytest.raises(CliError, match="changed while recover was reading it"):
        run(stack, client)

    assert stack.imported is None


def test_a_locked_stack_is_refused(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)), locked=True)

    with pytest.raises(StackLocked, match="stack b is locked by a deployment that is alive, so nothing was changed"):
        run(stack, client)


def test_a_stack_without_pending_creates_needs_nothing(client):
    status, out = run(RecordedStack(deployment_with()), client)

    assert status == 0 and "has no pending creates" in out


# ---- a pending create whose resource a later deployment recorded -------------------------------------------


def superseded(client, outofband) -> tuple[RecordedStack, dict[str, Any], dict[str, Any]]:
    """The interrupted run made `orphan`; a later `pulumi up` made `kept` for the same resource and recorded it."""
    stamp = time.time() - 2
    orphan = outofband.create_webhook(URL, SECRET)
    kept = outofband.create_webhook(URL, "second-run-secret-0000000001")
    recorded = {"urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::orders", "type": WEBHOOK_TYPE, "id": kept["id"]}
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp), resources=[recorded]))
    return stack, orphan, kept


def test_the_object_of_a_pending_create_recorded_later_is_reported_as_an_orphan_with_the_command(client, outofband):
    stack, orphan, kept = superseded(client, outofband)

    status, out = run(stack, client, dry_run=True)

    assert status == 1 and stack.imported is None  # undecided: a person must delete the orphan
    assert f"orders: recorded later as webhook {kept['id']}" in out and f"{orphan['id']}, is an orphan" in out
    assert f"python -m mypos_provider recover --stack b --delete-orphan {orphan['id']}" in out


def test_an_orphan_left_in_place_changes_nothing_so_the_command_recover_printed_still_works(client, outofband):
    stack, orphan, _ = superseded(client, outofband)

    status, out = run(stack, client)

    # Writing the state (`pulumi stack import`) clears every pending create, and the stale one is what
    # identifies the orphan: written now, the next run would find nothing to delete.
    assert status == 1 and stack.imported is None
    assert "the orphan(s) of orders are still in the account; nothing was changed" in out
    assert f"--delete-orphan {orphan['id']}" in out


def test_an_orphan_is_deleted_only_when_named_and_no_second_object_is_recorded(client, outofband, control, account):
    stack, orphan, kept = superseded(client, outofband)

    run(stack, client)
    assert {w["id"] for w in control.live_webhooks(account.client_id)} == {orphan["id"], kept["id"]}
    status, out = run(stack, client, delete_orphans=(orphan["id"],))

    assert status == 0 and f"deleted the orphan webhook {orphan['id']}" in out
    assert [w["id"] for w in control.live_webhooks(account.client_id)] == [kept["id"]]
    assert [r["id"] for r in stack.imported["resources"]] == [kept["id"]]
    assert stack.imported["pending_operations"] == []


def test_a_stale_pending_create_that_made_nothing_is_cleared(client):
    recorded = {"urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::orders", "type": WEBHOOK_TYPE, "id": "recorded-later"}
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=time.time()), resources=[recorded]))

    status, out = run(stack, client)

    assert status == 0 and "the interrupted run made nothing: its pending create is cleared" in out
    assert stack.imported["pending_operations"] == []


def test_deleting_anything_but_a_found_orphan_is_refused(client, outofband, control, account):
    stack, _, kept = superseded(client, outofband)

    with pytest.raises(CliError, match=f"--delete-orphan {kept['id']}: not an orphan"):
        run(stack, client, delete_orphans=(kept["id"],))

    assert stack.imported is None and len(control.live_webhooks(account.client_id)) == 2


# ---- the lock, the last line, what is no orphan ---------------------------------------------------------------


def assessed(alive: bool) -> AssessedLock:
    holder = LockHolder("ci", "runner-7", 4242, datetime.now(UTC))
    return AssessedLock(holder, Liveness(alive, "it is running" if alive else "pid 4242 no longer runs"))


def test_a_live_lock_is_refused_before_anything_is_read_or_changed(client, outofband, control, account):
    stack, orphan, _ = superseded(client, outofband)
    stack.held = [assessed(alive=True)]

    with pytest.raises(StackLocked, match="that is alive, so nothing was changed") as refused:
        run(stack, client, delete_orphans=(orphan["id"],))

    assert "pulumi cancel" not in str(refused.value) and "--release-dead-lock" not in str(refused.value)
    assert stack.imported is None and len(control.live_webhooks(account.client_id)) == 2


def test_a_live_lock_is_refused_even_with_nothing_to_recover(client):
    stack = RecordedStack(deployment_with())
    stack.held = [assessed(alive=True)]

    with pytest.raises(StackLocked):
        run(stack, client)


def test_a_gone_lock_is_named_with_the_one_command_and_released_only_when_asked(client):
    stack = RecordedStack(deployment_with())
    stack.held = [assessed(alive=False)]

    with pytest.raises(StackLocked, match="recover --stack b --release-dead-lock && python -m mypos_provider deploy"):
        run(stack, client)
    assert not stack.released
    status, out = run(stack, client, release_dead_lock=True)

    assert status == 0 and stack.released and "released the lock of ci@runner-7 (pid 4242" in out


def test_a_live_lock_is_never_released_even_when_asked(client):
    stack = RecordedStack(deployment_with())
    stack.held = [assessed(alive=True)]

    with pytest.raises(StackLocked):
        run(stack, client, release_dead_lock=True)

    assert not stack.released


def test_nothing_to_recover_still_writes_the_state_so_a_running_deployment_makes_it_refuse(client):
    stack = RecordedStack(deployment_with())
    stack.held = None  # a backend whose lock cannot be read here: the write is the gate
    stack.locked = True

    with pytest.raises(StackLocked):
        run(stack, client)


def test_the_last_line_names_the_deploy_command(client, outofband):
    stamp = time.time() - 2
    outofband.create_webhook(URL, SECRET)
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=stamp)))

    status, out = run(stack, client)

    assert status == 0
    assert out.strip().splitlines()[-1].endswith("now run `python -m mypos_provider deploy --stack b`")


def test_an_id_that_is_no_orphan_is_refused_with_a_reason_when_nothing_is_pending(client, outofband, control, account):
    hook = outofband.create_webhook(URL, SECRET)

    with pytest.raises(CliError, match=f"--delete-orphan {hook['id']}: not an orphan .* the stack holds no pending"):
        run(RecordedStack(deployment_with()), client, delete_orphans=(hook["id"],))

    assert len(control.live_webhooks(account.client_id)) == 1


def test_one_printed_command_deletes_every_orphan(client, outofband, control, account):
    stamp = time.time() - 2
    orphans = [outofband.create_webhook(f"{URL}/{n}", SECRET) for n in (1, 2)]
    kept = [outofband.create_webhook(f"{URL}/{n}", f"second-run-secret-{n}") for n in (1, 2)]
    recorded = [
        {"urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::hook-{n}", "type": WEBHOOK_TYPE, "id": k["id"]}
        for n, k in zip((1, 2), kept, strict=True)
    ]
    pending = [pending_webhook(f"hook-{n}", not_before=stamp, payload_url=f"{URL}/{n}") for n in (1, 2)]
    stack = RecordedStack(deployment_with(*pending, resources=recorded))

    status, out = run(stack, client)
    [command] = [line.split("`")[1] for line in out.splitlines() if "with one command" in line]
    named = tuple(part.strip() for part in command.split("--delete-orphan")[1:])
    assert status == 1 and command.startswith("python -m mypos_provider recover --stack b ")
    assert sorted(named) == sorted(o["id"] for o in orphans)

    status, _ = run(stack, client, delete_orphans=named)

    assert status == 0
    assert {w["id"] for w in control.live_webhooks(account.client_id)} == {k["id"] for k in kept}


# ---- duplicates -----------------------------------------------------------------------------------------------


def recorded_webhook(name: str, made: dict[str, Any], *, not_before: float, generated: bool = True) -> dict[str, Any]:
    values = {
        "payload_url": made["payload_url"],
        "secret": secret(made["secret"]),
        "is_active": True,
        "__secret_generated": generated,
        "__not_before": int(not_before),
    }
    return {
        "urn": f"urn:pulumi:b::p::{WEBHOOK_TYPE}::{name}",
        "type": WEBHOOK_TYPE,
        "id": made["id"],
        "inputs": values,
        "outputs": values,
    }


def with_a_late_commit(outofband) -> tuple[RecordedStack, dict[str, Any], dict[str, Any]]:
    stamp = time.time() - 2
    kept = outofband.create_webhook(URL, SECRET)
    late = outofband.create_webhook(URL, SECRET)  # the same create, committed by myPOS after it was given up
    late_sub = outofband.subscribe(late["id"], "pos.payment.completed")
    stack = RecordedStack(deployment_with(resources=[recorded_webhook("orders", kept, not_before=stamp)]))
    return stack, kept, {**late, "sub": late_sub}


def test_delete_duplicates_alone_is_a_dry_run_naming_them_and_the_command(client, outofband, control, account):
    stack, kept, late = with_a_late_commit(outofband)

    status, out = run(stack, client, delete_duplicates=True)

    assert status == 0 and len(control.live_webhooks(account.client_id)) == 2
    assert f"webhook {late['id']}: duplicate of `orders` (webhook {kept['id']}): same URL and generated secret" in out
    assert f"subscription {late['sub']['id']} (pos.payment.completed) of the duplicate webhook {late['id']}" in out
    assert "`python -m mypos_provider recover --stack b --delete-duplicates --yes`" in out


def test_delete_duplicates_yes_deletes_exactly_them(client, outofband, control, account):
    stack, kept, late = with_a_late_commit(outofband)
    by_hand = outofband.create_webhook(URL + "/other", "by-hand-secret-01")

    status, out = run(stack, client, delete_duplicates=True, yes=True)

    assert status == 0 and f"deleted the duplicate webhook {late['id']}" in out
    assert {w["id"] for w in control.live_webhooks(account.client_id)} == {kept["id"], by_hand["id"]}
    assert control.live_subscriptions(account.client_id) == []


def test_delete_duplicates_is_refused_under_a_live_lock(client, outofband, control, account):
    stack, _, _ = with_a_late_commit(outofband)
    stack.held = [assessed(alive=True)]

    with pytest.raises(StackLocked):
        run(stack, client, delete_duplicates=True, yes=True)

    assert len(control.live_webhooks(account.client_id)) == 2


def test_an_unmade_create_of_a_generated_secret_is_made_now_with_that_secret(client, control, account):
    stack = RecordedStack(deployment_with(pending_webhook("orders", not_before=time.time(), generated=True)))

    status, out = run(stack, client)

    [made] = control.live_webhooks(account.client_id)
    assert status == 0 and "orders: made now, webhook" in out
    assert (made["payload_url"], made["secret"]) == (URL, SECRET)
    [recorded] = stack.imported["resources"]
    assert recorded["id"] == made["id"] and stack.imported["pending_operations"] == []
