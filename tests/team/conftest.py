"""Fixtures of the team tests: one PostgreSQL server per session, a database per test (or per scenario
module), two engineers.

The `sandbox` and `production` stacks deploy to two merchant accounts of the test's emulator (myPOS sandbox
and production stand-ins), each with its own credentials and its own passphrase.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.accounts import Account, random_credentials
from harness.emulator import EmulatorControl
from harness.engine import kill_processes_in
from harness.outofband import OutOfBand
from harness.postgres import PostgresServer, shared_server
from harness.team import StackSecrets, TeamMember
from harness.workers import coordination_dir
from mypos_emulator import Emulator

STACKS = ("sandbox", "production")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One server for the session; under pytest-xdist, for all workers of the session."""
    with shared_server(coordination_dir(tmp_path_factory)) as server:
        yield server


@dataclass
class StateDatabase:
    server: PostgresServer
    name: str
    url: str

    def text(self) -> str:
        """Everything the backend stored, decoded: what anyone who can read the table can read."""
        return "\n".join(f"{row.key}\n{row.content}" for row in self.server.rows(self.name))

    def lock_keys(self) -> list[str]:
        return self.server.lock_keys(self.name)


@contextmanager
def new_state_database(server: PostgresServer) -> Iterator[StateDatabase]:
    """A database of its own on the session's server, dropped afterwards."""
    name = f"state_{secrets.token_hex(6)}"
    url = server.create_database(name)
    try:
        yield StateDatabase(server, name, url)
    finally:
        server.drop_database(name)


@pytest.fixture
def state_database(postgres: PostgresServer) -> Iterator[StateDatabase]:
    with new_state_database(postgres) as database:
        yield database


@dataclass
class Team:
    alice: TeamMember
    bob: TeamMember
    accounts: dict[str, Account]
    secrets: dict[str, StackSecrets]
    database: StateDatabase
    emulator: Emulator
    control: EmulatorControl

    @property
    def members(self) -> tuple[TeamMember, TeamMember]:
        return self.alice, self.bob

    def by_hand(self, stack: str) -> OutOfBand:
        """The stack's merchant account, as someone clicking in the web account reaches it."""
        account = self.accounts[stack]
        return OutOfBand(self.emulator.url, account.client_id, account.client_secret)

    def add_stack(self, stack: str, *, configured_as: str, account_of: str) -> None:
        """A further stack of Alice's, configured as `configured_as` is, deploying to the account of
        `account_of`; Bob has its passphrase too."""
        account = self.accounts[account_of]
        made = StackSecrets(
            passphrase=f"{stack}-passphrase-{secrets.token_hex(8)}",
            client_id=account.client_id,
            client_secret=account.client_secret,
            treasury_secret=f"tr-{stack[:4]}-{secrets.token_hex(8)}",
        )
        self.secrets[stack] = made
        self.alice.passphrases[stack] = made.passphrase  # one dict: the team's (open_team)
        self.alice.create_stack(stack, made, stack_config(configured_as, self.emulator.url))

    def all_secrets(self) -> list[str]:
        """Every secret the test knows of: passphrases, client secrets, tokens, every webhook secret ever."""
        values = [s.passphrase for s in self.secrets.values()]
        values += [s.client_secret for s in self.secrets.values()]
        values += [s.treasury_secret for s in self.secrets.values()]
        values += self.emulator.issued_tokens()
        for account in self.accounts.values():
            values += [w["secret"] for w in self.control.state(account.client_id)["webhooks"]]
        values.append(self.database.server.password)
        return [v for v in values if v]


def stack_config(stack: str, emulator_url: str) -> dict[str, str]:
    return {
        "mypos:environment": stack,
        "mypos:authUrl": emulator_url,
        "mypos:apiUrl": emulator_url.rstrip("/") + "/v1",
        "shop:baseUrl": f"https://{'staging.' if stack == 'sandbox' else ''}shop.example.com/mypos",
    }


@contextmanager
def open_team(directory: Path, emulator: Emulator, control: EmulatorControl, database: StateDatabase) -> Iterator[Team]:
    """Alice has created both stacks in the shared database; Bob has pulled her working copy. When the team
    is done, nothing secret may be in plaintext in the table, a CLI output or a provider log."""
    accounts = {stack: random_credentials() for stack in STACKS}
    stack_secrets = {
        stack: StackSecrets(
            passphrase=f"{stack}-passphrase-{secrets.token_hex(8)}",
            client_id=accounts[stack].client_id,
            client_secret=accounts[stack].client_secret,
            treasury_secret=f"tr-{stack[:4]}-{secrets.token_hex(8)}",
        )
        for stack in STACKS
    }
    for account in accounts.values():
        control.add_account(account.client_id, account.client_secret)
    passphrases = {stack: s.passphrase for stack, s in stack_secrets.items()}
    alice = TeamMember.join("alice", directory, database.url, passphrases)
    bob = TeamMember.join("bob", directory, database.url, passphrases)
    for stack in STACKS:
        alice.create_stack(stack, stack_secrets[stack], stack_config(stack, emulator.url))
    bob.pull_from(alice)
    made = Team(alice, bob, accounts, stack_secrets, database, emulator, control)
    yield made
    assert_no_leaks(made)


@pytest.fixture
def team(tmp_path: Path, emulator: Emulator, control: EmulatorControl, state_database: StateDatabase) -> Iterator[Team]:
    """A team of its own for one test."""
    with open_team(tmp_path, emulator, control, state_database) as made:
        yield made


@pytest.fixture(scope="module")
def team_scenario(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, postgres: PostgresServer
) -> Iterator[Team]:
    """One team (emulator, database, two members, two stacks) for all the steps of a scenario module
    (`pytest.mark.scenario`, harness/scenario.py): each step starts where the step before it left. The leak
    check runs once, when the module is done."""
    directory = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with (
        Emulator(port=0).start() as emulator,
        new_state_database(postgres) as database,
        open_team(directory, emulator, EmulatorControl(emulator.url), database) as made,
    ):
        yield made


@pytest.fixture(scope="module")
def alice(team_scenario: Team) -> Iterator[TeamMember]:
    """Alice of the scenario's team; whatever a failed step left running in her clone is killed after."""
    yield team_scenario.alice
    kill_processes_in(team_scenario.alice.work_dir)


@pytest.fixture(scope="module")
def bob(team_scenario: Team) -> TeamMember:
    return team_scenario.bob


def assert_no_leaks(team: Team) -> None:
    """No secret in plaintext in the shared state (read with psql), any CLI output, or a provider log."""
    places = {"state table": team.database.text()}
    for member in team.members:
        places[f"{member.name}'s CLI output"] = "\n".join(member.transcript)
        places[f"{member.name}'s provider log"] = member.log_text()
        places[f"{member.name}'s PULUMI_HOME"] = member.home_text()
    leaks = [
        f"{place} contains {secret[:4]}..."
        for secret in team.all_secrets()
        for place, text in places.items()
        if secret in text
    ]
    assert not leaks, f"secrets leaked: {leaks}"


def assert_converged(team: Team, stack: str, member: TeamMember | None = None, **expected: int) -> None:
    """The account holds exactly the objects the stack's state records, each once (and as many as expected)."""
    who = member or team.alice
    account = team.accounts[stack]
    live_hooks = team.control.live_webhooks(account.client_id)
    live_subs = team.control.live_subscriptions(account.client_id)
    recorded = {r["id"] for r in who.resources(stack, "Webhook")} | {
        r["id"] for r in who.resources(stack, "Subscription")
    }
    assert recorded == {w["id"] for w in live_hooks} | {s["id"] for s in live_subs}, "state and myPOS differ"
    urls = [w["payload_url"] for w in live_hooks]
    assert len(urls) == len(set(urls)), f"a webhook exists twice: {sorted(urls)}"
    if "webhooks" in expected:
        assert len(live_hooks) == expected["webhooks"]
    if "subscriptions" in expected:
        assert len(live_subs) == expected["subscriptions"]


@pytest.fixture
def converged(team: Team) -> Callable[..., None]:
    """Asserts that an account holds exactly the objects the stack's state records, each once."""

    def check(stack: str, member: TeamMember | None = None, **expected: int) -> None:
        assert_converged(team, stack, member, **expected)

    return check


@pytest.fixture(scope="module")
def scenario_converged(team_scenario: Team) -> Callable[..., None]:
    """`converged` for the team of a scenario module."""

    def check(stack: str, member: TeamMember | None = None, **expected: int) -> None:
        assert_converged(team_scenario, stack, member, **expected)

    return check
