"""provider/process.py: the gate every operation of a provider process passes, and the wording of its failures.

`ProviderProcess` is built here as the first `configure()` builds it, from a stack config, against the emulator;
no engine runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mypos_provider.client import ConfigError, NotFoundError, TransientError, UnreachableError
from mypos_provider.client.errors import Culprit
from mypos_provider.core.context import DeploymentContext
from mypos_provider.core.values import CollectingReporter, ObjectGone, RuleError
from mypos_provider.provider.process import ProcessStopped, Proof, ProviderFailure, ProviderProcess, Skipped
from mypos_provider.resources.hosting import ProcessSlot


@pytest.fixture(autouse=True)
def _isolated(no_ambient_settings) -> None:
    """The process reads the environment and a .env: nothing of the developer's machine may reach it."""


@pytest.fixture
def start() -> Callable[[dict[str, Any]], ProviderProcess]:
    def make(config: dict[str, Any]) -> ProviderProcess:
        return ProviderProcess(config, reporter=CollectingReporter())

    return make


# ---- the gate -------------------------------------------------------------------------------------------


HOLD_CATALOGUE = [{"method": "GET", "path": "/v1/events", "kind": "slow", "delay": 30}]


def test_configuring_the_process_requests_the_token_before_any_operation(start, stack_config, control, wait_until):
    start(stack_config).start_connection_check()

    wait_until(lambda: control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1})
    assert [r["path"] for r in control.requests()] == ["/oauth/token", "/v1/events"]


def test_a_working_configuration_opens_the_gate_with_one_token_and_one_catalogue_request(start, stack_config, control):
    process = start(stack_config)

    contexts = {id(process.gate(proof)) for proof in (Proof.TOKEN, Proof.WHOLE, Proof.TOKEN, Proof.WHOLE)}

    assert len(contexts) == 1 and isinstance(process.gate(), DeploymentContext)
    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_an_operation_may_send_once_the_token_is_in_while_the_catalogue_is_still_read(
    start, stack_config, emulator, wait_until
):
    emulator.set_faults(HOLD_CATALOGUE)
    process = start(stack_config)
    process.start_connection_check()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(process.gate, Proof.TOKEN).result(timeout=10)  # not held up by the catalogue
        wait_until(lambda: emulator.faults()[0]["fired"] == 1)
        emulator.set_faults([])


def test_nothing_is_reported_done_before_the_catalogue_has_answered(start, stack_config, emulator, wait_until):
    emulator.set_faults(HOLD_CATALOGUE)
    process = start(stack_config)
    proven_at: list[float] = []

    with ThreadPoolExecutor(1) as pool:
        whole = pool.submit(lambda: (process.gate(Proof.WHOLE), proven_at.append(time.monotonic())))
        wait_until(lambda: emulator.faults()[0]["fired"] == 1)
        released_at = time.monotonic()
        emulator.set_faults([])
        whole.result(timeout=10)

    assert proven_at[0] >= released_at


def test_a_wrong_client_secret_fails_once_in_full_then_skips(start, stack_config, control):
    process = start({**stack_config, "mypos:clientSecret": "not-the-right-secret"})
    process.start_connection_check()

    with pytest.raises(ProcessStopped) as first:
        process.gate(Proof.TOKEN)
    with pytest.raises(Skipped) as later:
        process.gate(Proof.TOKEN)
    with pytest.raises(Skipped):
        process.gate(Proof.WHOLE)

    assert "rejected the client credentials" in str(first.value) and "mypos:clientSecret" in str(first.value)
    assert "not-the-right-secret" not in str(first.value)
    assert str(later.value) == "not attempted: stopped by the connection problem reported above"
    assert control.request_counts() == {"POST /oauth/token": 1}


def test_once_the_catalogue_failed_no_operation_may_send(start, stack_config, emulator, control):
    emulator.set_faults([{"method": "GET", "path": "/v1/events", "kind": "status", "status": 503}])
    process = start({**stack_config, "mypos:maxRetries": "0"})

    with pytest.raises(ProcessStopped, match="list events failed after 1 attempt"):
        process.gate(Proof.WHOLE)
    with pytest.raises(Skipped, match="stopped by the connection problem reported above"):
        process.gate(Proof.TOKEN)

    assert control.request_counts() == {"POST /oauth/token": 1, "GET /v1/events": 1}


def test_a_configuration_error_fails_before_any_request(start, stack_config, control):
    process = start({key: value for key, value in stack_config.items() if key != "mypos:clientId"})
    process.start_connection_check()

    with pytest.raises(ProcessStopped, match="mypos:clientId is not set"):
        process.gate(Proof.TOKEN)
    with pytest.raises(Skipped, match="stopped by the configuration problem reported above"):
        process.gate(Proof.WHOLE)

    assert control.requests() == []


def test_an_unreachable_api_fails_the_gate_naming_the_setting_to_check(start, stack_config):
    process = start({**stack_config, "mypos:apiUrl": "http://127.0.0.1:9/v1", "mypos:maxRetries": "0"})

    with pytest.raises(ProcessStopped) as first:
        process.gate(Proof.WHOLE)

    assert "cannot reach the myPOS Webhook API" in str(first.value)
    assert "check mypos:apiUrl (http://127.0.0.1:9/v1), the network" in str(first.value)
    assert first.value.short == "the connection problem reported above"


# ---- failure wording ------------------------------------------------------------------------------------


@pytest.fixture
def process(start, stack_config) -> ProviderProcess:
    return start(stack_config)


def test_an_object_gone_failure_says_to_refresh_then_up(process):
    failure = process.failure(ObjectGone("webhook", "w-1"), "webhook w-1")

    assert str(failure) == (
        "webhook w-1 no longer exists in myPOS (deleted outside this stack): run `pulumi refresh` to drop it "
        "from the state, then `pulumi up` to recreate it"
    )


def test_a_rule_error_is_its_message_alone(process):
    failure = process.failure(RuleError("adopt_id w-1: this account has no such webhook", field="adopt_id"), "x")

    assert str(failure) == "adopt_id w-1: this account has no such webhook"


def test_a_spent_retry_budget_names_the_settings_and_says_up_resumes(process):
    error = TransientError("create webhook", 5, "HTTP 503", status=503)

    text = str(process.failure(error, "webhook https://shop.example.com/cb"))

    assert text.startswith("webhook https://shop.example.com/cb: create webhook failed after 5 attempt(s)")
    assert "myPOS may be rate limiting or unavailable: try again later, or raise mypos:maxRetries" in text
    assert text.endswith("then deploy again (`pulumi up`, or the project's deploy): it resumes where it stopped")


def test_an_api_error_names_the_subject_without_the_resume_advice(process):
    text = str(process.failure(NotFoundError("read webhook w-1", 404, "not found"), "webhook w-1"))

    assert text == "webhook w-1: read webhook w-1 failed: HTTP 404: not found"


def test_an_error_without_a_subject_is_its_explanation_alone(process):
    error = UnreachableError("cannot reach the myPOS Auth API", culprit=Culprit.AUTH_ENDPOINT)

    assert str(process.failure(error, "")).startswith("cannot reach the myPOS Auth API: check mypos:authUrl")


def test_an_unconfigured_process_explains_an_error_as_it_is(start):
    error = ConfigError("mypos:clientId is not set", field="mypos:clientId")

    assert str(start({}).failure(error, "webhook w-1")) == "webhook w-1: mypos:clientId is not set"


def test_an_unexpected_error_is_raised_as_it_is(process):
    with pytest.raises(KeyError):
        process.failure(KeyError("bug"), "webhook w-1")


def test_failures_are_provider_failures_the_host_shows_as_one_line(process):
    assert isinstance(process.failure(RuleError("x"), "y"), ProviderFailure)


# ---- the process slot -----------------------------------------------------------------------------------


def test_using_the_provider_before_configure_is_a_bug_said_plainly():
    with pytest.raises(ProviderFailure, match=r"used before configure\(\): a bug of mypos-pulumi"):
        ProcessSlot().current()


def test_a_bad_log_level_is_a_configuration_problem_naming_the_variable(start, stack_config, monkeypatch):
    monkeypatch.setenv("MYPOS_LOG_LEVEL", "chatty")

    with pytest.raises(ProcessStopped, match="MYPOS_LOG_LEVEL is 'chatty': use one of DEBUG, INFO, WARNING, ERROR"):
        start(stack_config).gate(Proof.TOKEN)
