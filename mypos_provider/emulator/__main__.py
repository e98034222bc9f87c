"""Command line: `python -m mypos_provider.emulator [--port 8787] ...`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .core import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from .persistence import StateFileError
from .runtime import Emulator
from .settings import BODY_STYLES, EVENT_NAMINGS, SIGNING_SCHEMES, SettingsError

_DESCRIPTION = "Local emulator of the myPOS Auth API (/oauth/token) and Webhook API (/v1) on one port."
_EPILOG = f"""\
Without --client-id the emulator accepts the documented demo credentials:
  client id:     {DEMO_CLIENT_ID}
  client secret: {DEMO_CLIENT_SECRET}
Each --client-id/--client-secret pair is a separate merchant account.
Test control plane (no auth): http://HOST:PORT/_emulator/ (see docs/emulator.md)."""

# CLI flag -> setting; only flags actually given override settings restored from --state-file.
_SETTING_FLAGS = ("token_lifetime", "latency", "event_naming", "signing_scheme", "body_style")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mypos_provider.emulator",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one (default 8787)")
    parser.add_argument("--client-id", action="append", default=[], metavar="ID", help="account client id (repeatable)")
    parser.add_argument(
        "--client-secret", action="append", default=[], metavar="SECRET", help="secret of the matching --client-id"
    )
    parser.add_argument("--state-file", metavar="PATH", help="persist all state in this JSON file across restarts")
    parser.add_argument("--token-lifetime", type=float, metavar="SECONDS", help="access token lifetime (default 3600)")
    parser.add_argument("--latency", type=float, metavar="SECONDS", help="delay added to every request (default 0)")
    parser.add_argument(
        "--event-naming", choices=EVENT_NAMINGS, help="event names of the myPOS .com or .eu docs (default com)"
    )
    parser.add_argument("--signing-scheme", choices=SIGNING_SCHEMES, help="what v1 signs (default body)")
    parser.add_argument("--body-style", choices=BODY_STYLES, help="notification body JSON style (default compact)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request to stderr")
    return parser


def _accounts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str] | None:
    if len(args.client_id) != len(args.client_secret):
        parser.error("every --client-id needs exactly one --client-secret")
    return dict(zip(args.client_id, args.client_secret)) if args.client_id else None


def _setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in _SETTING_FLAGS if getattr(args, name) is not None}


def _catch_stop_signals() -> threading.Event:
    """Installed before the ready line is printed, so a signal sent right after it still stops cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    stop = _catch_stop_signals()
    accounts = _accounts(parser, args)
    try:
        emulator = Emulator(args.host, args.port, accounts, state_file=args.state_file, quiet=args.quiet)
        emulator.update_settings(**_setting_overrides(args))
    except StateFileError as problem:
        print(f"mypos emulator: {problem}", file=sys.stderr)
        return 2
    except SettingsError as problem:
        parser.error(str(problem))
    try:
        emulator.start()
    except OSError as problem:
        print(f"mypos emulator: cannot listen on {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 1
    print(f"mypos emulator listening on {emulator.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
