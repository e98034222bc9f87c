"""Command line: `python -m mypos_emulator [--port 8787] ...` (also `mypos-emulator`, and `python -m
mypos_provider.emulator` where mypos-pulumi is installed)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from .core import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from .guard import TOKEN_ENVIRONMENT_VARIABLE, ControlTokenRequired, checked_token
from .persistence import StateFileError
from .runtime import Emulator
from .settings import BODY_STYLES, EVENT_NAMINGS, RETRIES_AFTER_RESEND, SIGNING_SCHEMES, SettingsError

CLIENT_SECRET_ENVIRONMENT_VARIABLE = "MYPOS_EMULATOR_CLIENT_SECRET"
PROG = "python -m mypos_emulator"

_DESCRIPTION = "Local emulator of the myPOS Auth API (/oauth/token) and Webhook API (/v1) on one port."
_EPILOG = f"""\
Without --client-id the emulator accepts the documented demo credentials:
  client id:     {DEMO_CLIENT_ID}
  client secret: {DEMO_CLIENT_SECRET}
Each --client-id with its secret is a separate merchant account. A secret given with --client-secret
is visible to other users of this machine (ps); prefer --client-secret-file, or for one account
the environment variable {CLIENT_SECRET_ENVIRONMENT_VARIABLE}.
Control plane and dashboard: http://HOST:PORT/_emulator/ui (see docs/emulator.md). Loopback only,
unless a control token is set ({TOKEN_ENVIRONMENT_VARIABLE} or --control-token-file), which
then guards every control-plane request; --host beyond loopback requires one."""

_NEEDS_TOKEN = (
    "mypos emulator: --host {host} can be reached from other machines, so the control plane needs a token: "
    f"set {TOKEN_ENVIRONMENT_VARIABLE} or pass --control-token-file PATH"
)

# CLI flag -> setting; only flags actually given override settings restored from --state-file.
_SETTING_FLAGS = ("token_lifetime", "latency", "event_naming", "signing_scheme", "body_style", "retries_after_resend")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one (default 8787)")
    parser.add_argument("--client-id", action="append", default=[], metavar="ID", help="account client id (repeatable)")
    parser.add_argument(
        "--client-secret",
        action="append",
        dest="client_secrets",
        default=[],
        metavar="SECRET",
        help="secret of the matching --client-id (visible to other users in ps)",
    )
    parser.add_argument(
        "--client-secret-file",
        action="append",
        dest="client_secrets",
        type=_secret_file("--client-secret-file"),
        metavar="PATH",
        help="read the matching --client-id's secret from this file",
    )
    parser.add_argument(
        "--control-token-file",
        type=_secret_file("--control-token-file"),
        metavar="PATH",
        help=f"read the control token from this file (or set {TOKEN_ENVIRONMENT_VARIABLE})",
    )
    parser.add_argument("--state-file", metavar="PATH", help="persist all state in this JSON file across restarts")
    parser.add_argument("--token-lifetime", type=float, metavar="SECONDS", help="access token lifetime (default 3600)")
    parser.add_argument("--latency", type=float, metavar="SECONDS", help="delay added to every request (default 0)")
    parser.add_argument(
        "--event-naming", choices=EVENT_NAMINGS, help="event names of the myPOS .com or .eu docs (default com)"
    )
    parser.add_argument("--signing-scheme", choices=SIGNING_SCHEMES, help="what v1 signs (default body)")
    parser.add_argument("--body-style", choices=BODY_STYLES, help="notification body JSON style (default compact)")
    parser.add_argument(
        "--retries-after-resend",
        choices=RETRIES_AFTER_RESEND,
        help="after a successful resend, a retry still due is sent (continue, the default) or cancelled (stop)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request to stderr")
    return parser


def _secret_file(flag: str) -> Any:
    """An argparse type that reads a secret from a file (one trailing newline dropped)."""

    def read(path: str) -> str:
        try:
            value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as problem:
            raise argparse.ArgumentTypeError(f"cannot read {path}: {getattr(problem, 'strerror', problem)}") from None
        if not value:
            raise argparse.ArgumentTypeError(f"{path} is empty")
        return value

    read.__name__ = flag  # argparse names the type in its error message
    return read


def _accounts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str] | None:
    secrets = list(args.client_secrets)
    from_environment = os.environ.get(CLIENT_SECRET_ENVIRONMENT_VARIABLE)
    if not secrets and len(args.client_id) == 1 and from_environment:
        secrets = [from_environment]
    if len(args.client_id) != len(secrets):
        parser.error(
            "every --client-id needs exactly one secret: --client-secret-file PATH (or --client-secret, "
            f"visible in ps), or for a single account the environment variable {CLIENT_SECRET_ENVIRONMENT_VARIABLE}"
        )
    return dict(zip(args.client_id, secrets, strict=True)) if args.client_id else None


def _control_token(args: argparse.Namespace) -> str | None:
    """From --control-token-file, else the environment; never from the command line itself."""
    return checked_token(args.control_token_file or os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or None)


def _setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in _SETTING_FLAGS if getattr(args, name) is not None}


class StopSignals:
    """Turns SIGTERM and SIGINT into a byte on a socket that the main thread blocks on.

    Entered before the ready line is printed, so a signal sent right after it still stops
    cleanly. The Python-level handler does nothing: the interpreter writes the wakeup byte at
    C level. A handler that sets a threading.Event instead can run while the main thread
    holds that Event's lock inside Event.wait(), and then waits for that lock forever.
    """

    _SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self) -> StopSignals:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous_handlers = {signum: signal.signal(signum, _ignore_signal) for signum in self._SIGNALS}
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop signal has arrived (even before the call); False after `timeout` seconds."""
        self._reader.settimeout(timeout)
        try:
            return bool(self._reader.recv(1))
        except TimeoutError:
            return False

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        self._reader.close()
        self._writer.close()


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    """Installed so the signal neither kills the process nor raises; StopSignals.wait() sees it."""


def _dashboard_line(url: str, has_token: bool) -> str:
    if has_token:  # never the token itself: the user has it, and stdout may be logged
        return f"mypos emulator dashboard: {url}?token=<control token> (once; a cookie keeps the browser in)"
    return f"mypos emulator dashboard: {url}"


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Runs the emulator until SIGTERM or SIGINT; `prog` is how the usage line names the command."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    accounts = _accounts(parser, args)
    try:
        token = _control_token(args)
    except ValueError as problem:
        print(f"mypos emulator: {problem}", file=sys.stderr)
        return 2
    with StopSignals() as stop_signals:
        try:
            emulator = Emulator(
                args.host, args.port, accounts, state_file=args.state_file, quiet=args.quiet, control_token=token
            )
            emulator.update_settings(**_setting_overrides(args))
        except ControlTokenRequired:
            print(_NEEDS_TOKEN.format(host=args.host or "''"), file=sys.stderr)
            return 2
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
        # The ready line stays first and exactly so: scripts and tests parse it.
        print(f"mypos emulator listening on {emulator.url}", flush=True)
        print(_dashboard_line(emulator.dashboard_url, token is not None), flush=True)
        try:
            stop_signals.wait()
        finally:
            emulator.stop()
    return 0


def run() -> None:
    """The `mypos-emulator` console script."""
    sys.exit(main(prog="mypos-emulator"))


if __name__ == "__main__":
    sys.exit(main())
