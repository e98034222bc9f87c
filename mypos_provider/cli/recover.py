"""`recover --stack S`: after a killed deployment, record in the state what it made but never recorded.

A killed `pulumi up` leaves "pending creates": resources whose create may have reached myPOS without its id
reaching the state. For each, `core.reconcile.plan_recovery` finds the live object the killed run made,
by content and by time (it must have appeared after the resource's check stamped `__not_before`), never
more objects than creates; the state then records each as the resource it belongs to, and the pending
creates are cleared. Nothing in the account is deleted or changed, so an object of another stack that
merely looks the same is never touched; where the rules cannot decide, recover stops, lists the
candidates and says how to choose (`--record NAME=ID`).

A pending create whose resource a later deployment recorded (someone ran `pulumi up` past the interrupted
run) made an object no resource holds: an orphan. Recover names it and the command that deletes it
(`--delete-orphan ID`), the one case where recover changes the account, and only for an object it found to
be such an orphan. Until then it changes nothing, as when it cannot decide: the stale pending create is
what identifies the orphan, and writing the state (`pulumi stack import`) would clear it, so the printed
command would no longer find the orphan. A stale pending create that made nothing is cleared.

The state is written with `pulumi stack import`, which takes the stack's lock: while a deployment runs
(or a killed one still holds the lock) recover refuses and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from .. import tokens
from ..client import Event, MyPOSClient, Subscription, Webhook
from ..core import reconcile, subscriptions, webhooks
from ..core.context import DeploymentContext
from ..core.values import NOT_BEFORE, SECRET_GENERATED
from . import duplicates
from .errors import CliError, StackLocked
from .stack import Stack, StackResource, pending_creates, resources, secret, stack_resource


@dataclass(frozen=True)
class RecoverRequest:
    dry_run: bool = False
    chosen: Mapping[str, str] | None = None  # resource name -> the id a person says the killed run made
    delete_orphans: tuple[str, ...] = ()  # ids of orphans a person asks to delete
    delete_duplicates: bool = False  # list the stack's duplicates; with `yes`, delete them
    yes: bool = False
    release_dead_lock: bool = False  # `pulumi cancel` first, if (and only if) the lock's deployment is gone


def recover(stack: Stack, client: MyPOSClient, request: RecoverRequest, out: TextIO) -> int:
    gate_lock(stack, request, out)
    deployment = stack.deployment()
    pending = pending_creates(deployment)
    recorded_by_name = {r.name: r for r in resources(deployment) if r.id}
    live: list[Webhook | Subscription] = [*client.iter_webhooks(), *client.iter_subscriptions()]
    recorded = {r.id for r in recorded_by_name.values() if r.id}
    current = [r for r in pending if r.name not in recorded_by_name]
    plan = reconcile.plan_recovery(_creates(current), live, recorded=recorded)
    _apply_choices(plan, request.chosen or {}, stack.name)
    superseded = [r for r in pending if r.name in recorded_by_name]
    orphans = reconcile.plan_recovery(_creates(superseded), live, recorded=recorded)
    to_delete = _orphans_to_delete(orphans, request.delete_orphans, stack.name)
    if pending:
        _report(plan, current, stack.name, out)
        _report_orphans(orphans, recorded_by_name, stack.name, out)
    else:
        print(f"stack {stack.name} has no pending creates of myPOS objects: nothing to record", file=out)
    duplicates = _duplicates(stack, deployment, live, request, out)
    if left := _orphans_left(orphans, request.delete_orphans):
        print(
            f"error: the orphan(s) of {', '.join(sorted(left))} are still in the account; nothing was changed. "
            "Delete them with the one command above, which also records the rest (or delete them in the myPOS "
            "account and run recover again)",
            file=out,
        )
    if plan.ambiguities or left:
        return 1
    if request.dry_run:
        print(f"{len(pending)} pending create(s); nothing changed (dry run)", file=out)
        return 0
    made_now = _complete_unmade_webhooks(plan, current, client, out)
    updated = record(deployment, plan.made, client.event_by_name)
    # `stack import` refuses while a deployment holds the lock. A deployment that ended since the state was
    # read left it changed: compare right before writing, so the window for a lost update is one CLI call.
    if stack.deployment() != deployment:
        raise CliError(f"stack {stack.name} changed while recover was reading it (a deployment ran); run it again")
    # Written even when nothing changed: the write takes the stack's lock, so a deployment running now makes
    # recover refuse before it deletes anything.
    stack.replace_deployment(updated)
    for orphan in to_delete:
        _delete(client, orphan)
        print(f"deleted the orphan {_describe(orphan)}", file=out)
    for duplicate in duplicates if request.yes else []:
        if duplicate.via is None:  # a duplicate webhook's subscriptions go with it
            _delete(client, duplicate.obj)
            print(f"deleted the duplicate {_describe(duplicate.obj)} of `{duplicate.of.name}`", file=out)
    what = f"recorded {len(plan.made)} object(s) the killed run made" if pending else "nothing to record"
    if made_now:
        what += f" (made {made_now} of them now, with the content it sent)"
    cleared = f" and cleared {len(pending)} pending create(s)" if pending else ""
    print(f"{what}{cleared}; now run `python -m mypos_provider deploy --stack {stack.name}`", file=out)
    return 0


def gate_lock(stack: Stack, request: RecoverRequest, out: TextIO) -> None:
    """Refuse under a live lock (changing nothing); release a lock whose deployment is gone only when asked."""
    held = stack.locks()
    if held is None:  # this backend's lock cannot be read here: the state's write below is the gate
        return
    if not held:
        if request.release_dead_lock:
            print(f"stack {stack.name} has no lock to release", file=out)
        return
    if any(h.liveness.alive for h in held) or not request.release_dead_lock or request.dry_run:
        raise StackLocked(stack.name, held)
    stack.release_lock()
    for holder in held:
        print(f"released the lock of {holder.describe()}", file=out)


def _duplicates(
    stack: Stack,
    deployment: Mapping[str, Any],
    live: list[Webhook | Subscription],
    request: RecoverRequest,
    out: TextIO,
) -> list[reconcile.Duplicate]:
    if not request.delete_duplicates:
        return []
    found = duplicates.duplicates_in(deployment, live, stack.managed_ids())
    if not found:
        print(f"stack {stack.name} has no duplicates in the account", file=out)
        return []
    deleting = request.yes and not request.dry_run
    print(f"stack {stack.name}: {len(found)} duplicate(s) in the account{'' if deleting else ' (dry run)'}:", file=out)
    for duplicate in found:
        print(f"  {duplicates.describe(duplicate)}", file=out)
    if not deleting:
        print(
            "nothing was deleted. Delete exactly these with "
            f"`python -m mypos_provider recover --stack {stack.name} --delete-duplicates --yes`",
            file=out,
        )
    return found if deleting else []


def _complete_unmade_webhooks(
    plan: reconcile.RecoveryPlan, pending: list[StackResource], client: MyPOSClient, out: TextIO
) -> int:
    """Finish the creates of webhooks with a generated secret that made nothing (yet), with the URL and secret
    the killed run sent. myPOS may still commit that run's request late: it then has the same content as the
    recorded webhook, so `drift` names it as that webhook's duplicate and `--delete-duplicates` removes it.
    (Made by the next deployment instead, the webhook would get a new secret, and the late one would look
    like a webhook added by hand.) Declared secrets and subscriptions need nothing: the next deployment sends
    the same content again."""
    by_name = {r.name: r for r in pending}
    finished = 0
    for create in list(plan.never_made):
        if create.kind != "webhook" or not create.secret_generated:
            continue
        inputs = by_name[create.name].inputs
        context = DeploymentContext(client, PrintedReporter(out))
        created = webhooks.WebhookRules(context).create(inputs)
        made = client.get_webhook(created.id)
        plan.never_made.remove(create)
        plan.made.append(reconcile.Made(create, made))
        finished += 1
        print(
            f"  {create.name}: made now, webhook {made.id}, with the URL and generated secret the killed run sent; "
            "if myPOS commits that run's request late, drift names it as a duplicate of "
            f"`{create.name}` and `recover --delete-duplicates` removes it",
            file=out,
        )
    return finished


class PrintedReporter:
    """The core's reporter for a command: warnings and notes as lines of its output."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self._out)

    def info(self, message: str) -> None:
        print(f"  {message}", file=self._out)


def _creates(pending: list[StackResource]) -> list[reconcile.PendingCreate]:
    return [_pending_create(r) for r in pending if not r.inputs.get("adopt_id")]


def _report_orphans(
    orphans: reconcile.RecoveryPlan, recorded_by_name: Mapping[str, StackResource], stack_name: str, out: TextIO
) -> None:
    """Pending creates of resources a later deployment recorded: what each made is held by no resource."""
    for made in orphans.made:
        holder = recorded_by_name[made.pending.name]
        print(
            f"  {made.pending.name}: recorded later as {holder.kind} {holder.id}, so the {made.pending.kind} the "
            f"interrupted run made, {made.obj.id}, is an orphan no resource manages",
            file=out,
        )
    if orphans.made:
        flags = " ".join(f"--delete-orphan {made.obj.id}" for made in orphans.made)
        print(
            f"  delete {'it' if len(orphans.made) == 1 else 'them'} (and record the rest) with one command: "
            f"`python -m mypos_provider recover --stack {stack_name} {flags}`",
            file=out,
        )
    for create in orphans.never_made:
        print(
            f"  {create.name}: recorded later; the interrupted run made nothing: its pending create is cleared",
            file=out,
        )
    for ambiguity in orphans.ambiguities:
        names = ", ".join(c.name for c in ambiguity.pending)
        print(f"  {names}: recorded later; {ambiguity.reason}. Orphans among:", file=out)
        for obj in ambiguity.candidates:
            print(f"    {_describe(obj)}", file=out)
        print(
            f"  delete the one you know to be the interrupted run's with `python -m mypos_provider recover --stack "
            f"{stack_name} --delete-orphan ID`",
            file=out,
        )


def _orphans_to_delete(
    orphans: reconcile.RecoveryPlan, requested: tuple[str, ...], stack_name: str
) -> list[Webhook | Subscription]:
    found = {m.obj.id: m.obj for m in orphans.made}
    found |= {obj.id: obj for ambiguity in orphans.ambiguities for obj in ambiguity.candidates}
    unknown = [object_id for object_id in requested if object_id not in found]
    if unknown:
        reason = (
            "the stack holds no pending create, and an orphan is an object a pending create made for a resource "
            "recorded later"
            if not found
            else "it is not among the objects its pending creates made for resources recorded later"
        )
        raise CliError(
            f"--delete-orphan {', '.join(unknown)}: not an orphan of an interrupted run of stack {stack_name}: "
            f"{reason}; nothing was changed (recover deletes no other object; a duplicate goes with "
            f"`python -m mypos_provider recover --stack {stack_name} --delete-duplicates`)"
        )
    return [found[object_id] for object_id in requested]


def _orphans_left(orphans: reconcile.RecoveryPlan, deleted: tuple[str, ...]) -> list[str]:
    """Names of the stale pending creates whose orphans this run does not delete (for candidates recover could
    not tell apart: until as many are deleted as there are creates)."""
    left = [made.pending.name for made in orphans.made if made.obj.id not in deleted]
    for ambiguity in orphans.ambiguities:
        if sum(1 for obj in ambiguity.candidates if obj.id in deleted) < len(ambiguity.pending):
            left += [create.name for create in ambiguity.pending]
    return left


def _delete(client: MyPOSClient, obj: Webhook | Subscription) -> None:
    if isinstance(obj, Webhook):
        client.delete_webhook(obj.id)
    else:
        client.delete_subscription(obj.id)


def _pending_create(resource: StackResource) -> reconcile.PendingCreate:
    inputs = resource.inputs
    key: reconcile.Key
    if resource.kind == "webhook":
        key = reconcile.WebhookKey(str(inputs.get("payload_url")), str(inputs.get("secret")))
    else:
        tids = frozenset(inputs.get("terminal_ids") or ())
        key = reconcile.SubscriptionKey(str(inputs.get("webhook_id")), str(inputs.get("event")), tids)
    stamp = inputs.get(NOT_BEFORE)
    return reconcile.PendingCreate(
        resource.name,
        key,
        not_before=float(stamp) if stamp is not None else None,
        secret_generated=bool(inputs.get(SECRET_GENERATED)),
    )


def _apply_choices(plan: reconcile.RecoveryPlan, chosen: Mapping[str, str], stack_name: str) -> None:
    """A person's choice settles an ambiguity: that object was made by that create."""
    for ambiguity in list(plan.ambiguities):
        picks = {create.name: chosen[create.name] for create in ambiguity.pending if create.name in chosen}
        if not picks:
            continue
        by_id = {obj.id: obj for obj in ambiguity.candidates}
        unknown = [f"{name}={object_id}" for name, object_id in picks.items() if object_id not in by_id]
        if unknown:
            raise CliError(
                f"--record {', '.join(unknown)}: not among the candidates listed by "
                f"`python -m mypos_provider recover --stack {stack_name} --dry-run`"
            )
        plan.ambiguities.remove(ambiguity)
        for create in ambiguity.pending:
            if create.name in picks:
                plan.made.append(reconcile.Made(create, by_id[picks[create.name]]))
            else:
                plan.never_made.append(create)


def _report(plan: reconcile.RecoveryPlan, pending: list[StackResource], stack_name: str, out: TextIO) -> None:
    print(f"stack {stack_name}: {len(pending)} pending create(s) left by an interrupted deployment", file=out)
    for made in plan.made:
        print(
            f"  {made.pending.name}: {made.pending.kind} {made.obj.id} was made by it: recorded in the state", file=out
        )
    for create in plan.never_made:
        print(f"  {create.name}: nothing was made: the deploy creates it", file=out)
    for name in (r.name for r in pending if r.inputs.get("adopt_id")):
        print(f"  {name}: an adoption: nothing to record, the deploy adopts it again", file=out)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=out)
    for ambiguity in plan.ambiguities:
        names = ", ".join(c.name for c in ambiguity.pending)
        print(f"error: {names}: {ambiguity.reason}; nothing was changed. The candidates:", file=out)
        for obj in ambiguity.candidates:
            print(f"    {_describe(obj)}", file=out)
        example = ambiguity.candidates[0].id
        print(
            f"  choose the one the killed run made with `python -m mypos_provider recover --stack {stack_name} "
            f"--record {ambiguity.pending[0].name}={example}` (once per resource), or delete the surplus in the "
            "myPOS account and run recover again",
            file=out,
        )


def _describe(obj: Webhook | Subscription) -> str:
    created = obj.created_on.isoformat() if obj.created_on else "creation time unknown"
    if isinstance(obj, Webhook):
        return f"webhook {obj.id}  {obj.payload_url}  created {created}"
    return f"subscription {obj.id}  {obj.event_name} of webhook {obj.webhook_id}  created {created}"


def record(
    deployment: Mapping[str, Any],
    made: list[reconcile.Made],
    event_by_name: Callable[[str], Event | None],
) -> dict[str, Any]:
    """The deployment with each made object recorded as its resource, and no pending creates left."""
    updated = copy.deepcopy(dict(deployment))
    pending = {
        op["resource"]["urn"].rsplit("::", 1)[-1]: op["resource"]
        for op in updated.get("pending_operations") or []
        if op.get("type") == "creating"
    }
    for item in made:
        raw = pending[item.pending.name]
        updated.setdefault("resources", []).append(
            {**raw, "id": item.obj.id, "outputs": _outputs(raw, item.obj, event_by_name)}
        )
    updated["pending_operations"] = []
    return updated


def _outputs(
    raw: Mapping[str, Any], obj: Webhook | Subscription, event_by_name: Callable[[str], Event | None]
) -> dict[str, Any]:
    """The outputs the resource's create would have recorded, under its type's names (dynamic or native)."""
    resource = stack_resource(raw)
    if isinstance(obj, Webhook):
        outputs = webhooks.outputs(obj, resource.inputs)
        outputs["secret"] = secret(outputs["secret"])
    else:
        event = event_by_name(obj.event_name) or Event(id="", name=obj.event_name)
        outputs = subscriptions.outputs(obj, resource.inputs, event)
    if resource.type in tokens.NATIVE_TYPES and resource.kind is not None:
        return tokens.native_names(resource.kind, outputs)
    return {**outputs, "__provider": resource.inputs.get("__provider")}
