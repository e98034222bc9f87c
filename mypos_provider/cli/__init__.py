"""`python -m mypos_provider`: look at a myPOS account, exercise a deployed stack, recover a killed one.

    python -m mypos_provider list [--stack NAME] [--format python|yaml|import|json] [--show-secrets]
    python -m mypos_provider emit EVENT [--stack NAME | --webhook-id ID | --url URL] [--set PATH=VALUE ...]
                                        [--terminal-id ID] [--wait SECONDS]
    python -m mypos_provider recover --stack NAME [--dry-run] [--record NAME=ID ...] [--delete-orphan ID ...]
                                     [--delete-duplicates [--yes]] [--release-dead-lock]
    python -m mypos_provider preview-report|deploy|drift --stack NAME   (for CI: docs/team.md)

Credentials come from the same chain as the provider: the stack's config (with --stack, read through
`pulumi config`), then MYPOS_* environment variables, then the .env file of the Pulumi project in or
above the working directory (MYPOS_DOTENV names another); the file used is named on stderr. Without
--stack nothing runs the pulumi CLI (`emit --webhook-id` and `--url` need none).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ..client import ConfigError, MyPOSClient, MyPOSError
from ..settings import Settings, emulator_control_token, load_diagnostics, load_settings
from . import deploy, drift, duplicates, listing, preview_report
from . import emit as emitting
from . import recover as recovering
from .errors import CliError
from .stack import PulumiStack, names_by_id


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        debug = load_diagnostics().debug
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return int(args.run(args, sys.stdout))
    except MyPOSError as error:
        if debug:
            raise
        settings = getattr(args, "settings", None)
        print(f"error: {settings.explain(error) if settings else error}", file=sys.stderr)
        return 1
    except CliError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mypos_provider",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Credentials: stack config (--stack), then MYPOS_* variables, then the project's .env.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    listed = commands.add_parser(
        "list",
        help="print the account's webhooks and subscriptions, which stack resource manages each, and how to "
        "take over the others: declarations with adopt_id, and `pulumi import` commands for the native provider",
    )
    listed.add_argument("--stack", help="read credentials from this stack and mark what it manages")
    listed.add_argument(
        "--format",
        choices=("python", "yaml", "import", "json"),
        default="python",
        help="python (default): declarations with adopt_id; yaml: mypos:webhooks "
        "stack config; import: only the `pulumi import` commands (native resources); json: raw data",
    )
    listed.add_argument("--show-secrets", action="store_true", help="print webhook secrets in clear (masked otherwise)")
    listed.set_defaults(run=run_list)

    emit = commands.add_parser(
        "emit",
        help="have myPOS (or the emulator) send a sample event to a stack's webhooks, or to a webhook of the account "
        "by id or URL; exit 1 if one failed",
        description="Send a sample of EVENT to each webhook subscribed to it: a stack's (--stack; the stack local\n"
        "when no target is given), or the account's, with no stack and no pulumi CLI (--webhook-id, --url).\n"
        "Credentials: the stack's config (--stack), then MYPOS_* variables, then the project's .env.",
        epilog=emitting.samples_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    emit.add_argument("event", help="event name, e.g. pos.payment.completed")
    emit.add_argument(
        "--stack", help="the deployed stack whose webhooks receive it, and whose config holds the credentials"
    )
    aimed = emit.add_mutually_exclusive_group()
    aimed.add_argument("--webhook-id", metavar="ID", help="the account's webhook with this id receives it (no stack)")
    aimed.add_argument("--url", metavar="URL", help="every webhook of the account with this payload URL (no stack)")
    emit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        dest="settings",
        help="replace a field of the sample payload, e.g. data.amount=12.50 (repeatable; emulator only)",
    )
    emit.add_argument("--terminal-id", metavar="ID", help="the sample's terminal (pos.* events; emulator only)")
    emit.add_argument(
        "--wait", type=float, default=2.0, metavar="SECONDS", help="seconds to wait for delivery results (default 2)"
    )
    emit.set_defaults(run=run_emit)

    recover = commands.add_parser(
        "recover",
        help="after a killed deployment: record in the state what it made but never recorded (refused while a "
        "deployment holds the stack's lock)",
    )
    recover.add_argument("--stack", required=True, help="the stack whose deployment was killed")
    recover.add_argument("--dry-run", action="store_true", help="only report what would be recorded")
    recover.add_argument(
        "--record",
        action="append",
        default=[],
        metavar="NAME=ID",
        help="where recover found several candidates: the object the killed run made for resource NAME",
    )
    recover.add_argument(
        "--delete-orphan",
        action="append",
        default=[],
        metavar="ID",
        help="delete this object, which recover reported as an orphan of an interrupted run (nothing else)",
    )
    recover.add_argument(
        "--delete-duplicates",
        action="store_true",
        help="list the objects the stack's own creates made that no stack records (late commits, killed or "
        "concurrent runs); with --yes, delete exactly those",
    )
    recover.add_argument("--yes", action="store_true", help="with --delete-duplicates: delete them (a dry run without)")
    recover.add_argument(
        "--release-dead-lock",
        action="store_true",
        help="release the stack's lock first, if the deployment that holds it is gone (refused while it is alive)",
    )
    recover.set_defaults(run=run_recover)
    for ci_command in (preview_report, deploy, drift):  # the commands of a team's CI (docs/team.md)
        ci_command.register(commands)
    return parser


def connect(args: argparse.Namespace, stack: PulumiStack | None) -> MyPOSClient:
    """The client for the settings chain of `stack` (or the environment); remembered on `args` for errors."""
    settings = load_settings(stack.config() if stack else {})
    args.settings = settings
    _name_the_dotenv(settings)
    return settings.connect()


def _name_the_dotenv(settings: Settings) -> None:
    used = sorted({origin.split(" in ", 1)[1] for origin in settings.origins.values() if " in " in origin})
    for path in used:
        print(f"note: settings read from {path}", file=sys.stderr)


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    stack = PulumiStack(args.stack) if args.stack else None
    client = connect(args, stack)
    deployment = stack.deployment() if stack else {}
    managed = {object_id: r.name for object_id, r in names_by_id(deployment).items()}
    webhooks, subscriptions = list(client.iter_webhooks()), list(client.iter_subscriptions())
    found = duplicates.duplicates_in(deployment, [*webhooks, *subscriptions], stack.managed_ids()) if stack else []
    account = listing.AccountListing(
        webhooks, subscriptions, managed, args.stack, stack_duplicates={d.obj.id: d.of.name for d in found}
    )
    if args.format == "json":
        print(json.dumps(listing.as_json(account, show_secrets=args.show_secrets), indent=2), file=out)
    elif args.format == "yaml":  # stack config to paste: nothing but YAML
        print(listing.render_yaml(account, show_secrets=args.show_secrets), file=out)
    elif args.format == "import":  # commands to paste: nothing but shell
        print(listing.render_imports(account), file=out)
    else:
        settings: Settings = args.settings
        where = f"{settings.credentials.client_id} at {settings.api_url}"
        print(listing.render_summary(account, where, show_secrets=args.show_secrets), file=out)
        if code := listing.render_python(account, show_secrets=args.show_secrets):
            print(file=out)
            print(code, file=out)
        if account.unmanaged():
            where = f" --stack {args.stack}" if args.stack else ""
            print(
                f"\n# native resources (mypos:index:*): `python -m mypos_provider list{where} --format import` "
                "prints the `pulumi import` commands",
                file=out,
            )
    return 0


def run_emit(args: argparse.Namespace, out: TextIO) -> int:
    choice = emitting.choose_sample(args.event, args.settings, args.terminal_id)  # bad input: before any request
    by_webhook = args.webhook_id is not None or args.url is not None
    stack = PulumiStack(args.stack or "local") if args.stack or not by_webhook else None
    client = connect(args, stack)
    control_url = emitting.emulator_control_url(args.settings.api_url)
    token = emulator_control_token()
    sender: emitting.Sender = emitting.FakeEvents(client)
    if choice.chosen:
        if control_url is None:
            raise CliError(
                f"--set and --terminal-id choose a sample only the emulator can send: myPOS's sample call "
                f"(POST /v1/subscriptions/{{id}}/fake, docs/mypos-api.md §5.12) takes no payload; drop them to emit "
                f"to {args.settings.api_url}"
            )
        sender = emitting.EmulatorSamples(control_url, token, choice)
    if stack is not None and not by_webhook:
        targets = emitting.stack_targets(stack, client, args.event)
    else:
        targets = emitting.webhook_targets(client, args.event, webhook_id=args.webhook_id, url=args.url)
    emitting.check_terminal(targets, choice)
    reasons = emitting.EmulatorDeliveryLog(control_url, token) if control_url else None
    return emitting.emit(targets, sender, client, wait=max(0.0, args.wait), out=out, reasons=reasons)


def run_recover(args: argparse.Namespace, out: TextIO) -> int:
    stack = PulumiStack(args.stack)
    chosen = {}
    for choice in args.record:
        name, equals, object_id = choice.partition("=")
        if not equals or not name or not object_id:
            raise CliError(f"--record {choice!r}: write it as RESOURCE_NAME=OBJECT_ID")
        chosen[name] = object_id
    if args.yes and not args.delete_duplicates:
        raise CliError("--yes confirms --delete-duplicates: give both, after a run with --delete-duplicates alone")
    request = recovering.RecoverRequest(
        dry_run=args.dry_run,
        chosen=chosen,
        delete_orphans=tuple(args.delete_orphan),
        delete_duplicates=args.delete_duplicates,
        yes=args.yes,
        release_dead_lock=args.release_dead_lock,
    )
    return recovering.recover(stack, connect(args, stack), request, out)
