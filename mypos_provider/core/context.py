"""What the resources of one deployment share: the client, the live account, the event catalogue, the claims.

One `DeploymentContext` lives in one provider process, which the engine starts for one deployment
(`preview`, `up`, `refresh`, `destroy`). It is created by the process's shell and passed to the rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..client import Event, MyPOSClient, MyPOSError
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
        self._lock = threading.Lock()
        self._verified = False
        self._failure: MyPOSError | None = None

    def verify(self) -> None:
        """Prove once that the credentials and both endpoints work (one token, the event catalogue).

        The outcome is kept: a failure is raised again to every later caller without a new request."""
        with self._lock:
            if not self._verified:
                self._failure, self._verified = self._first_verification(), True
            failure = self._failure
        if failure is not None:
            raise failure

    def _first_verification(self) -> MyPOSError | None:
        try:
            self.client.verify()
        except MyPOSError as failure:
            return failure
        return None

    def event_names(self) -> list[str]:
        return [e.name for e in self.client.list_events()]

    def event(self, name: str) -> Event | None:
        return self.client.event_by_name(name)

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
