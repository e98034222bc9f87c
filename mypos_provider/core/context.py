"""What the resources of one deployment share: the client, the live account, the event catalogue, the claims.

One `DeploymentContext` lives in one provider process, which the engine starts for one deployment
(`preview`, `up`, `refresh`, `destroy`). It is created by the process's shell and passed to the rules, which
run on as many threads at once as the engine sends operations: everything here is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..client import Event, MyPOSClient
from . import reconcile
from .account import AccountView
from .values import Reporter


class Claims:
    """The myPOS objects that resources of this deployment hold: created, adopted, or kept in the program.

    A resource removed from a program must never delete an object another resource holds (a rename that
    re-adopts the same webhook, a subscription adopted after `state delete`): the engine runs deletes last,
    after every check, diff and create of the deployment, so by then every holder has said so here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._created: set[str] = set()
        self._held: set[str] = set()

    def created(self, object_id: str) -> None:
        with self._lock:
            self._created.add(object_id)
            self._held.add(object_id)

    def hold(self, object_id: str) -> None:
        with self._lock:
            self._held.add(object_id)

    def was_created(self, object_id: str) -> bool:
        """True for objects this deployment made: nothing else can refer to them yet."""
        with self._lock:
            return object_id in self._created

    def is_held(self, object_id: str) -> bool:
        with self._lock:
            return object_id in self._held

    def release(self, object_id: str) -> None:
        """Forget an object made here that is being deleted again (a create undone): nothing holds it now."""
        with self._lock:
            self._created.discard(object_id)
            self._held.discard(object_id)


class ConnectionCheck:
    """The proof that the credentials and both endpoints work: one token, then the event catalogue.

    It runs once per deployment, on a thread of its own from `start()` (a provider process starts it when it is
    configured), so it overlaps the first operations instead of preceding them. Each caller waits for the part
    it needs: `token()` before sending a request, `whole()` before reporting anything done. Once the catalogue
    has failed, `token()` fails too: no request starts after the check failed. A failure is kept and raised
    again to every later caller, without a new request."""

    def __init__(self, client: MyPOSClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._started = False
        self._token_known = threading.Event()
        self._whole_known = threading.Event()
        self._failure: Exception | None = None

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="mypos-connection-check", daemon=True).start()

    def token(self) -> None:
        self.start()
        self._token_known.wait()
        self._raise_failure()

    def whole(self) -> None:
        self.start()
        self._whole_known.wait()
        self._raise_failure()

    def _run(self) -> None:
        try:
            self._client.tokens.token()
            self._token_known.set()
            self._client.list_events()
        except Exception as failure:  # noqa: BLE001 (kept for every caller, who raises it: a bug with its traceback)
            self._failure = failure
        finally:
            self._token_known.set()
            self._whole_known.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


class DeploymentContext:
    def __init__(
        self,
        client: MyPOSClient,
        reporter: Reporter,
        *,
        account: AccountView | None = None,
    ) -> None:
        self.client = client
        self.reporter = reporter
        self.account = account or AccountView(client)
        self.claims = Claims()
        self.connection = ConnectionCheck(client)

    def event_names(self) -> list[str]:
        return [e.name for e in self._catalogue()]

    def event(self, name: str) -> Event | None:
        return next((e for e in self._catalogue() if e.name == name), None)

    def _catalogue(self) -> tuple[Event, ...]:
        """The live catalogue, as the connection check read it (once per deployment; its failure, if it failed)."""
        self.connection.whole()
        return self.client.list_events()

    def server_now(self) -> float:
        return self.client.server_now()

    def not_before(self) -> int:
        """The stamp for a create about to be planned: no object it makes can carry an earlier `created_on`.

        The server's clock is known once a request has been answered (its Date header); before that, ours
        is used and the margin covers the difference only if the clocks agree to the second."""
        return int(reconcile.attempt_started(self.server_now()))

    def excluded(self) -> Callable[[str], bool]:
        """For look-ups: objects another resource of this deployment already holds are never taken."""
        return self.claims.is_held
