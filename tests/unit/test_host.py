"""resources/host.py: the workarounds for the dynamic-provider host, and the checks that the host still has the
shape they rely on. If a `pulumi` release changes that shape, the first two tests fail (the installed host's
source, its dynamic Config), and if a grpc or Python release changes how a server's thread pool grows, the
widening tests do: read host.py's docstring."""

from __future__ import annotations

import importlib.util
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime.proto import provider_pb2

from mypos_provider.provider.engine_log import EngineLog
from mypos_provider.provider.process import ProviderFailure
from mypos_provider.resources import host


def test_the_installed_host_has_the_shape_the_workarounds_rely_on():
    assert host.host_shape_problems() == []


def test_the_installed_dynamic_config_keeps_the_whole_stack_config():
    assert host.config_shape_problems() == []


def installed_host_source() -> str:
    spec = importlib.util.find_spec(host.HOST_MODULE)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("call", "replacement"),
    [
        ("proto.DiffResponse(", "proto.SomeOtherResponse("),
        ("traceback.format_exc()", "traceback.format_exception(*sys.exc_info())"),
        ("provider.configure(", "provider.setup("),
    ],
)
def test_a_host_that_no_longer_makes_a_call_is_named_by_that_call(call, replacement):
    source = installed_host_source()
    assert call in source

    problems = host.host_shape_problems(source.replace(call, replacement))

    assert [p for p in problems if f"(no call to {call.removesuffix('(').removesuffix('()')})" in p]


def test_a_host_that_no_longer_imports_traceback_is_reported():
    source = installed_host_source().replace("import traceback\n", "\n")

    assert f"{host.HOST_MODULE}: it no longer imports the traceback module" in host.host_shape_problems(source)


def test_outside_the_host_there_is_no_host_module():
    assert host.host_module() is None


# ---- config access --------------------------------------------------------------------------------------


def test_the_stack_config_of_a_configure_request_includes_unknown_keys():
    raw = {"mypos:clientId": "id", "mypos:clientid": "typo", "aws:region": "eu-west-1"}

    assert host.stack_config(ConfigureRequest(Config(raw, "project")), ("mypos:clientId",)) == raw


class ConfigWithGetOnly:
    """A stand-in for a future SDK's Config that no longer keeps `_props`."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, key: str) -> str | None:
        return self._values.get(key)


def test_without_the_whole_config_only_the_known_keys_are_asked_for():
    request = types.SimpleNamespace(config=ConfigWithGetOnly({"mypos:clientId": "id", "mypos:clientid": "typo"}))

    assert host.stack_config(request, ("mypos:clientId", "mypos:apiUrl")) == {"mypos:clientId": "id"}


def test_a_request_without_config_has_an_empty_stack_config():
    assert host.stack_config(types.SimpleNamespace(config=None), ("mypos:clientId",)) == {}


# ---- detailed diffs -------------------------------------------------------------------------------------


@pytest.fixture
def proto() -> types.SimpleNamespace:
    """A stand-in for `pulumi.runtime.proto`, holding the real DiffResponse message class."""
    return types.SimpleNamespace(DiffResponse=provider_pb2.DiffResponse)


def test_a_reported_diff_becomes_the_detailed_diff_of_the_next_response(proto):
    diffs = host.DetailedDiffs()
    diffs.install(proto)

    diffs.report(("payload_url", "secret"), ("event",))
    response = proto.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, replaces=["event"])

    assert response.hasDetailedDiff and sorted(response.diffs) == ["event", "payload_url", "secret"]
    assert response.detailedDiff["secret"].kind == provider_pb2.PropertyDiff.UPDATE
    assert response.detailedDiff["event"].kind == provider_pb2.PropertyDiff.UPDATE_REPLACE
    assert response.detailedDiff["secret"].inputDiff


def test_a_report_serves_one_response_only(proto):
    diffs = host.DetailedDiffs()
    diffs.install(proto)
    diffs.report(("payload_url",), ())
    proto.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME)

    response = proto.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    assert not response.hasDetailedDiff and list(response.diffs) == []


def test_a_report_on_another_thread_does_not_reach_this_threads_response(proto):
    import threading

    diffs = host.DetailedDiffs()
    diffs.install(proto)
    other = threading.Thread(target=diffs.report, args=(("payload_url",), ()))
    other.start()
    other.join()

    assert not proto.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME).hasDetailedDiff


def test_installing_twice_wraps_the_response_class_once(proto):
    diffs = host.DetailedDiffs()
    diffs.install(proto)
    wrapped = proto.DiffResponse

    diffs.install(proto)

    assert proto.DiffResponse is wrapped


def test_the_wrapped_response_class_keeps_its_constants(proto):
    host.DetailedDiffs().install(proto)

    assert proto.DiffResponse.DIFF_SOME == provider_pb2.DiffResponse.DIFF_SOME


# ---- error display --------------------------------------------------------------------------------------


def formatted(errors: host.OneLineErrors, error: Exception) -> str:
    try:
        raise error
    except Exception:
        return errors.format_exc()


def test_a_provider_failure_shows_as_its_message_alone():
    errors = host.OneLineErrors(traceback, debug=False)

    assert formatted(errors, ProviderFailure("webhook x: check mypos:apiUrl")) == "webhook x: check mypos:apiUrl"


def test_any_other_error_shows_as_a_traceback():
    text = formatted(host.OneLineErrors(traceback, debug=False), KeyError("bug"))

    assert text.startswith("Traceback") and "KeyError: 'bug'" in text


def test_with_debugging_a_provider_failure_shows_its_traceback_too():
    text = formatted(host.OneLineErrors(traceback, debug=True), ProviderFailure("webhook x: problem"))

    assert text.startswith("Traceback") and "webhook x: problem" in text


def test_the_stand_in_passes_everything_else_to_the_traceback_module():
    assert host.OneLineErrors(traceback, debug=False).format_list is traceback.format_list


def test_installing_replaces_the_hosts_traceback_module():
    running_host = types.ModuleType("host")
    running_host.traceback = traceback  # type: ignore[attr-defined]
    errors = host.OneLineErrors(traceback, debug=False)

    errors.install(running_host)

    assert running_host.traceback is errors  # type: ignore[attr-defined]


def test_a_host_with_another_traceback_module_is_left_alone():
    running_host = types.ModuleType("host")
    running_host.traceback = types.ModuleType("traceback")  # type: ignore[attr-defined]
    original = running_host.traceback  # type: ignore[attr-defined]

    host.OneLineErrors(traceback, debug=False).install(running_host)

    assert running_host.traceback is original  # type: ignore[attr-defined]


# ---- the engine's log -----------------------------------------------------------------------------------


def test_the_engine_address_is_the_hosts_first_argument():
    assert EngineLog.from_argv(["pulumi-dynamic", "127.0.0.1:4100"])._address == "127.0.0.1:4100"
    assert EngineLog.from_argv(["pulumi-dynamic"])._address is None
    assert EngineLog.from_argv(["pulumi-dynamic", "--flag"])._address is None


@pytest.mark.parametrize("severity", ["warn", "info", "error"])
def test_without_an_engine_messages_go_to_stderr_labelled(capsys, severity):
    getattr(EngineLog(None), severity)("webhook x was adopted")

    label = {"warn": "warning", "info": "info", "error": "error"}[severity]
    assert capsys.readouterr().err == f"{label}: webhook x was adopted\n"


def test_an_engine_that_went_away_leaves_messages_on_stderr(capsys):
    EngineLog("127.0.0.1:9").warn("webhook x was released")

    assert capsys.readouterr().err == "warning: webhook x was released\n"


def test_the_host_module_is_found_by_its_servicer(monkeypatch):
    running_host = types.ModuleType("__main__")
    running_host.DynamicResourceProviderServicer = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", running_host)

    assert host.host_module() is running_host


# ---- as many operations at once as the engine sends -------------------------------------------------------


def test_a_host_whose_main_no_longer_serves_from_a_thread_pool_is_reported():
    source = installed_host_source()
    assert "futures.ThreadPoolExecutor(max_workers=4)" in source

    for changed in (
        source.replace("futures.ThreadPoolExecutor(max_workers=4)", "futures.ProcessPoolExecutor(max_workers=4)"),
        source.replace("server = grpc.server(", "grpc_server = grpc.server("),
        source.replace("max_workers=4", "4"),
    ):
        assert [p for p in host.host_shape_problems(changed) if "main() no longer assigns `server" in p]


HOST_LIKE = """
import grpc
from concurrent import futures


def main(serving):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    serving()  # where the real host waits for ever
    return server
"""


def test_the_running_hosts_server_is_found_in_the_frame_its_main_waits_in():
    running_host = types.ModuleType("__main__")
    exec(compile(HOST_LIKE, "host-like", "exec"), vars(running_host))  # noqa: S102 (our own source)
    problems: list[str] = []

    server = running_host.main(lambda: problems.extend(host.run_all_at_once(running_host, 32)))

    assert problems == [] and server._state.thread_pool._max_workers == 32


def test_outside_the_host_no_server_is_found_to_widen():
    problems = host.run_all_at_once(types.ModuleType("__main__"), 64)

    assert problems and "main()'s `server` was not found" in problems[0]


class WaitingService:
    """A gRPC server as the host builds one (`grpc.server(futures.ThreadPoolExecutor(max_workers=4))`), whose
    one method waits until `expected` calls are in it at once (or fails after `timeout` seconds)."""

    def __init__(self, expected: int, timeout: float = 10) -> None:
        self.together = threading.Barrier(expected, timeout=timeout)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(self._wait)
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Waiting", {"Wait": handler})])
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.call = self.channel.unary_unary("/test.Waiting/Wait")

    def _wait(self, request: bytes, context: object) -> bytes:
        self.together.wait()
        return b"together"

    def close(self) -> None:
        self.channel.close()
        self.server.stop(None)


@pytest.fixture
def waiting() -> Iterator[Callable[[int], WaitingService]]:
    made: list[WaitingService] = []

    def make(expected: int) -> WaitingService:
        made.append(WaitingService(expected))
        return made[-1]

    yield make
    for service in made:
        service.together.abort()
        service.close()


def test_a_widened_host_server_runs_every_call_at_once(waiting):
    service = waiting(12)

    assert host.widen(service.server, 12) == []
    answers = [service.call.future(b"") for _ in range(12)]

    assert [answer.result(timeout=15) for answer in answers] == [b"together"] * 12


def test_calls_already_waiting_when_the_server_is_widened_start_at_once(waiting, wait_until):
    service = waiting(12)
    answers = [service.call.future(b"") for _ in range(12)]
    wait_until(
        lambda: service.together.n_waiting == 4, timeout=15
    )  # the host's four threads are busy, eight calls queue

    assert host.widen(service.server, 12) == []

    assert [answer.result(timeout=15) for answer in answers] == [b"together"] * 12


def test_a_server_without_the_expected_pool_is_reported_not_widened():
    problems = host.widen(types.SimpleNamespace(_state=types.SimpleNamespace(thread_pool=None)), 64)

    assert problems and "_state.thread_pool" in problems[0]


def test_widening_never_narrows():
    pool = futures.ThreadPoolExecutor(max_workers=100)
    server = types.SimpleNamespace(_state=types.SimpleNamespace(thread_pool=pool))

    assert host.widen(server, 8) == [] and pool._max_workers == 100
    pool.shutdown()
