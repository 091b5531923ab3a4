"""The core's store.backup and store.retention commands: registered, off the caller's thread, refusing clearly."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from appliance import app
from appliance.control import Request
from appliance.errors import StoreLockedError, ValidationError
from appliance.store.backup_job import read_status
from tests.conftest import clinic_config


class _LockedStore:
    locked = True


@pytest.fixture
def core(tmp_path: Path) -> Any:
    core = app.Core(clinic_config(tmp_path))
    yield core
    core._jobs.shutdown(wait=True)


def test_the_core_answers_the_store_jobs(core: Any) -> None:
    assert {"store.backup", "store.retention", "store.unlock"} <= set(core.commands.names())


def test_a_locked_store_refuses_the_backup_and_the_doctor_can_read_why(core: Any) -> None:
    core.store = _LockedStore()
    with pytest.raises(StoreLockedError, match="passphrase has not been entered since the core started"):
        core.commands.handle(Request(1, "store.backup", {}))
    with pytest.raises(StoreLockedError):
        core.commands.handle(Request(2, "store.retention", {}))
    status = read_status(core.cfg.paths.state_dir)
    assert status.backup is not None and status.backup.cause == "locked" and status.backup.by == "core"
    assert status.retention is not None and status.retention.cause == "locked"


def test_a_relative_destination_is_refused(core: Any) -> None:
    core.store = _LockedStore()
    with pytest.raises(ValidationError, match="absolute path"):
        core.commands.handle(Request(1, "store.backup", {"to": "backups"}))


def test_jobs_run_on_the_store_jobs_thread(core: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fake_backup(cfg: Any, store: Any, dest: Any, by: str, if_present: bool = False) -> dict[str, Any]:
        seen.append(threading.current_thread().name)
        return {"by": by, "dest": dest}

    monkeypatch.setattr(app, "run_backup", fake_backup)
    core.store = object()
    assert core.backup_store({"to": "/tmp/x.tar"}) == {"by": "core", "dest": Path("/tmp/x.tar")}
    assert core.backup_store({}) == {"by": "core", "dest": None}
    assert all(name.startswith("store-jobs") for name in seen) and len(seen) == 2
