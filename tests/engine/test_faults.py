"""Deployments that converge under faults: N webhooks with 2 subscriptions each, deployed, updated (every
secret rotated) and destroyed under each fault the emulator can inject, with deterministic seeds.

After every operation the emulator holds exactly the declared objects (no duplicate, no orphan), the state
matches the emulator, a preview reports no changes, and no request was tried more often than the policy
allows; every case proves that each of its fault rules fired. Set MYPOS_FAULT_REPORT=/path.jsonl to record
the request counts of each run.

The default run has three cases at `--fault-hooks` webhooks (default 6, tests/conftest.py): a storm of every
network fault kind at once (429, 5xx, dropped connections, committed-then-failed creates, answers slower than
the read timeout; each rule must fire), the token expiring mid-run and a run killed mid-way. Each network kind
on its own, and the storm, at the full size of 30 webhooks carry the `full_size` marker, which only
`scripts/test -m full_size` runs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.emulator import EmulatorControl, route_counts
from harness.engine import PULUMI, Deployment, kill_processes_in

pytestmark = [pytest.mark.engine, pytest.mark.slow]

FULL_SIZE = 30
MAX_RETRIES = 8  # generous: at 20% faults, 9 attempts fail together once in ~2 million requests
MAX_ATTEMPTS = MAX_RETRIES + 1


def declared(version: int, hooks: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"hook{i:02}",
            "payloadUrl": f"https://shop.example.com/mypos/{i:02}",
            "secret": f"secret-v{version}-{i:02}-abcdefghij",
            "events": ["pos.payment.completed", {"event": "pos.payment.cancelled", "terminalIds": ["90004889"]}],
        }
        for i in range(hooks)
    ]


@dataclass
class FaultCase:
    id: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)
    kill: bool = False


def split(probability: float, statuses: list[int], seed: int) -> list[dict[str, Any]]:
    """Rules for 'a share of requests answered one of these statuses' (the first rule that fires wins)."""
    each = 1 - (1 - probability) ** (1 / len(statuses))
    return [
        {"path": "*", "kind": "status", "status": s, "probability": each, "seed": seed + n}
        for n, s in enumerate(statuses)
    ]


CASES = [
    FaultCase(
        "429-rate-limited-20pct",
        [{"path": "*", "kind": "status", "status": 429, "retry_after": 1, "probability": 0.2, "seed": 11}],
    ),
    FaultCase("5xx-20pct", split(0.2, [500, 502, 503], seed=21)),
    FaultCase("dropped-connections-10pct", [{"path": "*", "kind": "drop", "probability": 0.1, "seed": 31}]),
    FaultCase(
        "committed-then-failed-creates-20pct",
        [
            {
                "method": "POST",
                "path": "/v1/*",
                "kind": "commit_then_fail",
                "status": 500,
                "probability": 0.1,
                "seed": 44,
            },
            {
                "method": "POST",
                "path": "/v1/*",
                "kind": "commit_then_fail",
                "then": "slow",
                "delay": 1.5,
                "probability": 0.1,
                "seed": 42,
            },
        ],
        config={"mypos:timeout": "1"},
    ),
    FaultCase(
        "slower-than-read-timeout-5pct",
        [{"path": "*", "kind": "slow", "delay": 1.5, "probability": 0.05, "seed": 51}],
        config={"mypos:timeout": "1"},
    ),
    # Latency stretches even the smallest run past the 1 s token lifetime.
    FaultCase("token-expires-mid-run", settings={"token_lifetime": 1, "latency": 0.5}),
    # Latency stretches each run over a few seconds, so there is a "mid-run" to kill in.
    FaultCase("killed-mid-run", settings={"latency": 0.05}, kill=True),
]


# The default run: every fault kind of the network cases in one storm, then the token and kill cases. Each
# rule must fire, so each kind is proven; `-m full_size` runs each kind on its own, at 30 webhooks.
STORM = FaultCase(
    "every-network-fault-at-once",
    [
        {"method": "POST", "path": "/v1/*", "kind": "commit_then_fail", "status": 500, "probability": 0.08, "seed": 44},
        {
            "method": "POST",
            "path": "/v1/*",
            "kind": "commit_then_fail",
            "then": "slow",
            "delay": 1.5,
            "probability": 0.08,
            "seed": 42,
        },
        {"path": "*", "kind": "status", "status": 429, "retry_after": 1, "probability": 0.06, "seed": 11},
        {"path": "*", "kind": "status", "status": 502, "probability": 0.06, "seed": 21},
        {"path": "*", "kind": "drop", "probability": 0.05, "seed": 31},
        {"path": "*", "kind": "slow", "delay": 1.5, "probability": 0.04, "seed": 51},
    ],
    config={"mypos:timeout": "1"},
)
ON_THEIR_OWN = {"token-expires-mid-run", "killed-mid-run"}  # no network fault: they share no storm


def minimum_requests(operation: str, hooks: int) -> int:
    """Fault-free minimum: one request per object written, plus one token and (creating) the catalogue."""
    return {"up": 3 * hooks + 2, "update": hooks + 1, "destroy": 3 * hooks + 1}[operation]


def assert_converged(
    deployment: Deployment, control: EmulatorControl, client_id: str, hooks: list[dict[str, Any]]
) -> None:
    webhooks = control.live_webhooks(client_id)
    subscriptions = control.live_subscriptions(client_id)
    url_of = {w["id"]: w["payload_url"] for w in webhooks}
    assert sorted((w["payload_url"], w["secret"]) for w in webhooks) == sorted(
        (h["payloadUrl"], h["secret"]) for h in hooks
    ), "webhooks differ from the declared ones"
    assert sorted(
        (url_of.get(s["webhook_id"]), s["event"], tuple((s["filter"] or {}).get("tids") or ())) for s in subscriptions
    ) == sorted(
        (h["payloadUrl"], e, tids)
        for h in hooks
        for e, tids in (("pos.payment.completed", ()), ("pos.payment.cancelled", ("90004889",)))
    ), "subscriptions differ from the declared ones"
    state_ids = {r["id"] for r in deployment.resources("Webhook")} | {
        r["id"] for r in deployment.resources("Subscription")
    }
    assert state_ids == set(url_of) | {s["id"] for s in subscriptions}, "the state does not match the emulator"


def assert_within_policy(requests: list[dict[str, Any]], hooks: int) -> Counter[str]:
    """No object request tried more often than the policy allows; creates bounded per object."""
    per_target = Counter(f"{r['method']} {r['path']}" for r in requests if r["path"].startswith("/v1/"))
    for target, count in per_target.items():
        method, path = target.split(" ", 1)
        if method == "POST" and path == "/v1/webhooks":
            assert count <= hooks * MAX_ATTEMPTS, target
        elif method == "POST" and path == "/v1/subscriptions":
            assert count <= 2 * hooks * MAX_ATTEMPTS, target
        elif method != "GET":
            assert count <= MAX_ATTEMPTS, f"{target} tried {count} times"
    return route_counts(requests)


def report(case: FaultCase, operation: str, hooks: int, requests: list[dict[str, Any]], second_run: bool) -> None:
    path = os.environ.get("MYPOS_FAULT_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(
                json.dumps(
                    {
                        "case": case.id,
                        "operation": operation,
                        "requests": len(requests),
                        "hooks": hooks,
                        "minimum": minimum_requests(operation, hooks),
                        "second_run": second_run,
                        "faults": sum(1 for r in requests if r.get("fault")),
                    }
                )
                + "\n"
            )


def killed_then_recovered(
    deployment: Deployment, control: EmulatorControl, operation: str, hooks: int, rng: random.Random
) -> int:
    """Run the operation as a CLI process, SIGKILL it at a random point, then follow the README.

    The point is drawn among the operation's API requests, so the kill always lands mid-run.
    Returns how many requests had been answered when it was killed."""
    env = deployment.cli_env()
    command = ["destroy"] if operation == "destroy" else ["up"]
    kill_after = rng.randint(3, minimum_requests(operation, hooks) - 3)
    process = subprocess.Popen(
        [str(PULUMI), *command, "--yes", "--skip-preview", "--non-interactive", "--stack", deployment.stack.name],
        cwd=deployment.work_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(control.requests()) < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the deployment finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and everything it started, like a lost CI job:
    process.wait()
    kill_processes_in(deployment.work_dir)  # plugins run in their own process groups
    time.sleep(0.5)
    deployment.cli("cancel", "--yes", "--stack", deployment.stack.name)
    subprocess.run(
        [sys.executable, "-m", "mypos_provider", "recover", "--stack", deployment.stack.name],
        cwd=deployment.work_dir,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return kill_after


def sizes_of(cases: list[FaultCase]) -> list[Any]:
    """The storm and the cases without network faults at the default size (the --fault-hooks setting); under
    `full_size`, every case and the storm at 30 webhooks."""
    default = [pytest.param(case, None, id=case.id) for case in [STORM, *(c for c in cases if c.id in ON_THEIR_OWN)]]
    full = [
        pytest.param(case, FULL_SIZE, id=f"{case.id}-full", marks=pytest.mark.full_size) for case in [STORM, *cases]
    ]
    return default + full


def fired(control: EmulatorControl) -> list[int]:
    """How often each installed fault rule fired."""
    return [rule["fired"] for rule in control.ok("GET", "/faults")["rules"]]


@pytest.mark.parametrize(("case", "size"), sizes_of(CASES))
def test_up_update_and_destroy_converge_under_faults(deploy, emulator, control, account, case, size, request):
    hooks = size or request.config.getoption("fault_hooks")
    deployment = deploy(declared(1, hooks))
    deployment.set_config("mypos:maxRetries", str(MAX_RETRIES))
    for key, value in case.config.items():
        deployment.set_config(key, value)
    rng = random.Random(case.id)
    token_requests = 0
    fired_per_rule = [0] * len(case.rules)
    for operation, declaration in (("up", declared(1, hooks)), ("update", declared(2, hooks)), ("destroy", [])):
        deployment.set_webhooks(declaration or declared(2, hooks))
        control.clear_requests()
        if case.settings:
            emulator.update_settings(**case.settings)
        control.set_faults(case.rules)

        second_run = False
        if case.kill:
            killed_then_recovered(deployment, control, operation, hooks, rng)
            second_run = True
        if operation == "destroy":
            deployment.destroy()
        else:
            deployment.up()

        requests = control.requests()
        fired_per_rule = [total + now for total, now in zip(fired_per_rule, fired(control), strict=True)]
        control.clear_faults()
        emulator.update_settings(latency=0)
        counts = assert_within_policy(requests, hooks)
        if operation == "destroy":
            assert control.live_webhooks(account.client_id) == []
            assert control.live_subscriptions(account.client_id) == []
            assert deployment.resources("Webhook") == [] and deployment.resources("Subscription") == []
        else:
            assert_converged(deployment, control, account.client_id, declaration)
            deployment.preview(expect_no_changes=True)
        token_requests = max(token_requests, counts["POST /oauth/token"])
        report(case, operation, hooks, requests, second_run)
    assert all(fired_per_rule), f"a fault rule never fired at {hooks} webhooks: {fired_per_rule} (change its seed)"
    if case.settings.get("token_lifetime"):
        assert token_requests >= 2, "the token should have been renewed during a run"
    secrets = [h["secret"] for h in declared(1, hooks) + declared(2, hooks)]
    assert deployment.leaked([account.client_secret, *emulator.issued_tokens(), *secrets]) == []
