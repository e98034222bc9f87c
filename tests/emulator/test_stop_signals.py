"""StopSignals: how the emulator's command line waits for SIGTERM or Ctrl-C without a lock a signal could
deadlock on."""

from __future__ import annotations

import signal

import pytest

from mypos_emulator.__main__ import StopSignals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_that_arrives_before_the_wait_is_not_lost(signum: int) -> None:
    with StopSignals() as stop_signals:
        signal.raise_signal(signum)

        assert stop_signals.wait(timeout=5) is True


def test_wait_times_out_without_a_signal() -> None:
    with StopSignals() as stop_signals:
        assert stop_signals.wait(timeout=0.01) is False


def current_wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


def test_leaving_restores_the_previous_handlers_and_wakeup_fd() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), current_wakeup_fd()

    with StopSignals():
        pass

    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), current_wakeup_fd()) == before
