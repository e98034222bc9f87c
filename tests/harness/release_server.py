"""A static HTTP server of one directory, standing in for where a release lives (GitHub release assets, and the
npm, PyPI and Go module proxy downloads of our own packages), run as a process of its own:

    python release_server.py DIRECTORY --requests LOG --parent-pid PID

It prints its port on the first line, appends the path of every GET it answers to LOG (so a test can prove
what the engine downloaded), and exits when process PID ends (Linux pidfd): the pytest session that started
it, whichever worker asked first, stops it by ending.
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class LoggingHandler(SimpleHTTPRequestHandler):
    requests_log: Path

    def do_GET(self) -> None:
        with self.requests_log.open("a") as log:
            log.write(self.path + "\n")
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the requests log says what a test needs."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args()
    handler = type("Handler", (LoggingHandler,), {"requests_log": args.requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(args.directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    try:
        parent = os.pidfd_open(args.parent_pid)
    except ProcessLookupError:
        return
    select.select([parent], [], [])  # readable once the parent has exited
    server.shutdown()


if __name__ == "__main__":
    main()
