"""`python -m mypos_provider`: look at a myPOS account and exercise a deployed stack.

    python -m mypos_provider list [--stack NAME] [--format python|yaml|json] [--show-secrets]
    python -m mypos_provider emit EVENT [--stack NAME]
    python -m mypos_provider recover --stack NAME [--dry-run]
    python -m mypos_provider preview-report|deploy|drift --stack NAME   (for CI: see mypos_provider.ci)

Credentials come from the same chain as the provider: the stack's config (with --stack, read through
`pulumi config`), then MYPOS_* environment variables, then a .env file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .client import MyPOSClient, MyPOSError, Notification, Subscription, Webhook
from .settings import Settings, load_settings

MASK = "********"


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CliError, MyPOSError) as error:
        if os.environ.get("MYPOS_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mypos_provider", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="print the account's webhooks and subscriptions, and code to adopt them")
    listing.add_argument("--stack", help="read credentials from this stack's config (via `pulumi config`)")
    listing.add_argument(
        "--format",
        choices=("python", "yaml", "json"),
        default="python",
        help="python (default): declarations with adopt_id; yaml: mypos:webhooks stack config; json: raw data",
    )
    listing.add_argument(
        "--show-secrets", action="store_true", help="print webhook secrets in clear (they are masked otherwise)"
    )
    listing.set_defaults(run=run_list)

    emit = commands.add_parser("emit", help="have myPOS (or the emulator) send a sample event to a stack's webhooks")
    emit.add_argument("event", help="event name, e.g. pos.payment.completed")
    emit.add_argument("--stack", default="local", help="the deployed stack whose webhooks receive it (default: local)")
    emit.add_argument("--wait", type=float, default=2.0, help="seconds to wait for delivery results (default 2)")
    emit.set_defaults(run=run_emit)

    recover = commands.add_parser(
        "recover", help="after an interrupted deployment: remove what it created but could not record"
    )
    recover.add_argument("--stack", required=True, help="the stack whose deployment was interrupted")
    recover.add_argument("--dry-run", action="store_true", help="only report what would be removed")
    recover.set_defaults(run=run_recover)

    from .ci import register  # preview-report, deploy, drift: commands for CI pipelines

    register(commands)
    return parser


# ---- list -------------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    settings = _settings(args.stack)
    client = settings.client()
    webhooks = list(client.iter_webhooks())
    subscriptions = list(client.iter_subscriptions())
    if args.format == "json":
        print(json.dumps(_as_json(webhooks, subscriptions, args.show_secrets), indent=2))
    elif args.format == "yaml":
        print(render_yaml(webhooks, subscriptions, show_secrets=args.show_secrets))
    else:
        print(render_summary(settings, webhooks, subscriptions, show_secrets=args.show_secrets))
        print()
        print(render_python(webhooks, subscriptions, show_secrets=args.show_secrets))
    return 0


def render_summary(
    settings: Settings, webhooks: list[Webhook], subscriptions: list[Subscription], *, show_secrets: bool
) -> str:
    lines = [
        f"# Account {settings.client_id} at {settings.api_url}: {len(webhooks)} webhook(s), "
        f"{len(subscriptions)} subscription(s)"
    ]
    for hook in webhooks:
        state = "active" if hook.is_active else "inactive"
        secret = hook.secret if show_secrets else MASK
        lines.append(f"#   webhook {hook.id}  {state}  {hook.payload_url}  secret {secret}")
        for sub in _subscriptions_of(hook, subscriptions):
            terminals = f"  terminals {', '.join(sub.terminal_ids)}" if sub.terminal_ids else ""
            lines.append(f"#     subscription {sub.id}  {sub.event_name}{terminals}")
    return "\n".join(lines)


def render_python(webhooks: list[Webhook], subscriptions: list[Subscription], *, show_secrets: bool) -> str:
    """Declarations that bring every object under management without recreating it or rotating a secret."""
    lines = [
        "# Paste into your Pulumi program: `pulumi up` adopts these objects in place (adopt_id) instead of",
        "# creating new ones. Once adopted, adopt_id may stay; it is only read when the resource is created.",
        "import pulumi",
        "from mypos_provider import Subscription, Webhook",
    ]
    names = _unique_names(webhooks)
    for hook in webhooks:
        name = names[hook.id]
        lines.append("")
        lines.append(f"{_identifier(name)} = Webhook(")
        lines.append(f"    {name!r},")
        lines.append(f"    payload_url={hook.payload_url!r},")
        if show_secrets:
            lines.append(f"    secret=pulumi.Output.secret({hook.secret!r}),")
        else:
            lines.append("    # secret omitted: the current secret is kept (see --show-secrets to manage it here)")
        if not hook.is_active:
            lines.append("    is_active=False,")
        lines.append(f"    adopt_id={hook.id!r},")
        lines.append(")")
        for sub in _subscriptions_of(hook, subscriptions):
            lines.append("Subscription(")
            lines.append(f"    {name + '-' + sub.event_name!r},")
            lines.append(f"    webhook_id={_identifier(name)}.id,")
            lines.append(f"    event={sub.event_name!r},")
            if sub.terminal_ids:
                lines.append(f"    terminal_ids={list(sub.terminal_ids)!r},")
            lines.append(f"    adopt_id={sub.id!r},")
            lines.append(")")
    return "\n".join(lines)


def render_yaml(webhooks: list[Webhook], subscriptions: list[Subscription], *, show_secrets: bool) -> str:
    """The same, as `mypos:webhooks` stack config for this repository's stack program."""
    names = _unique_names(webhooks)
    lines = ["  mypos:webhooks:"]
    for hook in webhooks:
        lines.append(f"    - name: {names[hook.id]}")
        lines.append(f"      payloadUrl: {json.dumps(hook.payload_url)}")
        lines.append(f"      adoptId: {hook.id}")
        if not hook.is_active:
            lines.append("      active: false")
        if show_secrets:
            lines.append(
                f"      secret: {json.dumps(hook.secret)}  # move into a secure value: "
                "pulumi config set --secret --path ..."
            )
        subs = _subscriptions_of(hook, subscriptions)
        lines.append("      events:" if subs else "      events: []")
        for sub in subs:
            lines.append(f"        - event: {sub.event_name}")
            lines.append(f"          adoptId: {sub.id}")
            if sub.terminal_ids:
                lines.append(f"          terminalIds: {json.dumps(list(sub.terminal_ids))}")
    return "\n".join(lines)


def _as_json(webhooks: list[Webhook], subscriptions: list[Subscription], show_secrets: bool) -> dict[str, Any]:
    return {
        "webhooks": [
            {
                "id": h.id,
                "payload_url": h.payload_url,
                "is_active": h.is_active,
                "secret": h.secret if show_secrets else MASK,
                "subscriptions": [
                    {"id": s.id, "event": s.event_name, "terminal_ids": list(s.terminal_ids or ())}
                    for s in _subscriptions_of(h, subscriptions)
                ],
            }
            for h in webhooks
        ]
    }


def _subscriptions_of(hook: Webhook, subscriptions: list[Subscription]) -> list[Subscription]:
    return [s for s in subscriptions if s.webhook_id == hook.id]


def _unique_names(webhooks: list[Webhook]) -> dict[str, str]:
    names: dict[str, str] = {}
    taken: set[str] = set()
    for hook in webhooks:
        path = hook.payload_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        base = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "webhook"
        if not base[0].isalpha():
            base = f"webhook-{base}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        names[hook.id] = name
    return names


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)


# ---- emit -------------------------------------------------------------------------------------------


def run_emit(args: argparse.Namespace) -> int:
    settings = _settings(args.stack)
    client = settings.client()
    webhook_ids = _stack_webhook_ids(args.stack)
    targets = [s for s in client.iter_subscriptions() if s.webhook_id in webhook_ids and s.event_name == args.event]
    if not targets:
        raise CliError(
            f"no webhook of stack {args.stack} subscribes to {args.event}: "
            "declare the subscription and run `pulumi up` first"
        )
    started = time.time()
    for sub in targets:
        print(f"sent {args.event} to webhook {sub.webhook_id} (subscription {sub.id})")
        client.request_fake_event(sub.id)
    time.sleep(max(0.0, args.wait))
    print(render_deliveries(client, webhook_ids, args.event, since=started))
    return 0


def render_deliveries(client: MyPOSClient, webhook_ids: set[str], event: str, *, since: float) -> str:
    rows: list[Notification] = [
        n
        for n in client.iter_notifications(event=event)
        if n.webhook_id in webhook_ids and (n.sent_on is None or n.sent_on.timestamp() >= since - 1)
    ]
    lines = [f"{len(rows)} delivery attempt(s) recorded by GET /v1/notifications:"]
    for n in rows:
        result = "delivered" if n.delivered else "FAILED"
        code = n.response_code if n.response_code is not None else "no answer"
        lines.append(f"  {result:9} HTTP {code}  retry {n.retry_count}  {n.url}")
    return "\n".join(lines)


# ---- recover ----------------------------------------------------------------------------------------

WEBHOOK_TYPE = "pulumi-python:dynamic/mypos:Webhook"
SUBSCRIPTION_TYPE = "pulumi-python:dynamic/mypos:Subscription"


def run_recover(args: argparse.Namespace) -> int:
    """A killed `pulumi up` leaves "pending creates": objects that may exist in myPOS but not in the state.

    Each pending create records the inputs it was sent with (URL and secret; webhook, event and filter),
    so the objects it made can be found exactly. They are deleted (nothing refers to them: their ids were
    never recorded) and the pending creates cleared; the next `pulumi up` then creates them once.
    """
    settings = _settings(args.stack)
    client = settings.client()
    deployment = json.loads(_pulumi("stack", "export", "--show-secrets", "--stack", args.stack)).get("deployment") or {}
    recorded = {r.get("id") for r in deployment.get("resources") or [] if r.get("id")}
    pending = [
        op["resource"]
        for op in deployment.get("pending_operations") or []
        if op.get("type") == "creating" and op.get("resource", {}).get("type") in (WEBHOOK_TYPE, SUBSCRIPTION_TYPE)
    ]
    if not pending:
        print(f"stack {args.stack} has no pending creates of myPOS objects: nothing to recover")
        return 0
    webhooks = [w for w in client.iter_webhooks() if w.id not in recorded]
    subscriptions = [s for s in client.iter_subscriptions() if s.id not in recorded]
    orphans: list[tuple[str, str, str]] = []  # (kind, id, description)
    for resource in pending:
        inputs = {k: _plain(v) for k, v in (resource.get("inputs") or {}).items()}
        if inputs.get("adopt_id"):
            continue  # an adoption creates nothing
        name = resource["urn"].rsplit("::", 1)[-1]
        if resource["type"] == WEBHOOK_TYPE:
            orphans += [
                ("webhook", w.id, f"{name}: {w.payload_url}")
                for w in webhooks
                if w.payload_url == inputs.get("payload_url") and w.secret == inputs.get("secret")
            ]
        else:
            tids = set(inputs.get("terminal_ids") or ())
            orphans += [
                ("subscription", s.id, f"{name}: {s.event_name} of webhook {s.webhook_id}")
                for s in subscriptions
                if s.webhook_id == inputs.get("webhook_id")
                and s.event_name == inputs.get("event")
                and set(s.terminal_ids or ()) == tids
            ]
    for kind, object_id, description in orphans:
        print(f"{'would remove' if args.dry_run else 'removing'} unrecorded {kind} {object_id} ({description})")
        if not args.dry_run:
            try:
                (client.delete_webhook if kind == "webhook" else client.delete_subscription)(object_id)
            except MyPOSError as error:
                if getattr(error, "status", None) != 404:
                    raise
    if args.dry_run:
        print(f"{len(pending)} pending create(s); nothing changed (dry run)")
        return 0
    _pulumi("refresh", "--clear-pending-creates", "--yes", "--skip-preview", "--stack", args.stack)
    print(
        f"cleared {len(pending)} pending create(s) and removed {len(orphans)} unrecorded object(s); "
        f"now run `pulumi up --stack {args.stack}`"
    )
    return 0


def _plain(value: Any) -> Any:
    """A property of `pulumi stack export --show-secrets`: secrets come as {sig, plaintext: <JSON>}."""
    if isinstance(value, dict) and "plaintext" in value:
        return json.loads(value["plaintext"])
    return value


# ---- credentials and stacks -------------------------------------------------------------------------


def _settings(stack: str | None) -> Settings:
    return load_settings(_stack_config(stack) if stack else {})


def _stack_config(stack: str) -> dict[str, str]:
    raw = json.loads(_pulumi("config", "--json", "--show-secrets", "--stack", stack))
    return {key: entry.get("value") for key, entry in raw.items() if isinstance(entry, dict)}


def _stack_webhook_ids(stack: str) -> set[str]:
    outputs = json.loads(_pulumi("stack", "output", "--json", "--show-secrets", "--stack", stack))
    webhooks = outputs.get("webhooks") or {}
    return {entry["id"] for entry in webhooks.values() if isinstance(entry, dict) and entry.get("id")}


def _pulumi(*args: str) -> str:
    binary = shutil.which("pulumi") or str(Path.cwd() / ".tools" / "bin" / "pulumi")
    if not Path(binary).exists():
        raise CliError("the pulumi CLI is needed to read a stack: put it on PATH (scripts/install-pulumi-cli)")
    done = subprocess.run([binary, *args, "--non-interactive"], capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        hint = ""
        if "passphrase" in done.stderr:
            hint = " (set PULUMI_CONFIG_PASSPHRASE; for the demo stack `local` it is mypos-local-demo)"
        raise CliError(f"`pulumi {' '.join(args[:2])}` failed: {detail}{hint}")
    return done.stdout
