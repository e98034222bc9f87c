"""The transaction helper: a write that completes marks the state dirty; a read or a failed write does not."""

from __future__ import annotations

import pytest

from mypos_emulator import EmulatorSettings, ManualClock
from mypos_emulator.database import Database
from mypos_emulator.models import Store


@pytest.fixture
def db() -> Database:
    return Database(Store(), EmulatorSettings(), ManualClock())


@pytest.fixture
def marks(db: Database) -> list[int]:
    heard: list[int] = []
    db.notify_changes_to(lambda: heard.append(db.version))
    return heard


def test_a_completed_write_marks_the_state_dirty_once(db: Database, marks: list[int]) -> None:
    with db.write() as store:
        store.add_account("ID", "SECRET")

    assert marks == [1]


def test_a_write_that_raises_marks_nothing(db: Database, marks: list[int]) -> None:
    with pytest.raises(LookupError), db.write() as store:
        raise LookupError(store)

    assert marks == [] and db.version == 0


def test_a_read_marks_nothing(db: Database, marks: list[int]) -> None:
    with db.read() as store:
        assert store.accounts == {}

    assert marks == []


def test_a_settings_change_is_a_write(db: Database, marks: list[int]) -> None:
    db.update_settings({"latency": 0.5})

    assert db.settings.latency == 0.5 and marks == [1]


def test_a_refused_settings_change_marks_nothing(db: Database, marks: list[int]) -> None:
    with pytest.raises(ValueError, match="latency"):
        db.update_settings({"latency": -1})

    assert db.settings.latency == 0 and marks == []


def test_snapshot_holds_settings_and_store(db: Database) -> None:
    with db.write() as store:
        store.add_account("ID", "SECRET")

    snapshot = db.snapshot()

    assert snapshot["format"] == "mypos-emulator-state"
    assert snapshot["settings"]["latency"] == 0
    assert list(snapshot["accounts"]) == ["ID"]
