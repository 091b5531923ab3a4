"""A bundle may create the first manager from a password hash, never a clear password, and
only on a box without one; a box still without a manager gets a setup code in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance import setup_code
from appliance.config import load_config
from appliance.store import Store
from appliance.store.repos import make_repos
from appliance.store.users import hash_password
from provisioning.run import provision
from provisioning.services import RecordingServiceManager
from tests.unit.provisioning.kit import GOOD_TOML, Box, good_files, sign, write_bundle

SERIAL = "10000000abcdef01"
PASSWORD = "correct horse battery"


def with_store(box: Box, manager: str | None = None) -> None:
    """The box as first boot leaves it: an empty store (and, if asked, a manager in it)."""
    cfg = load_config(box.config)
    store = Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    if manager:
        make_repos(cfg, store).users.add(manager, "manager", "cli", password=PASSWORD)
    store.close()


def stick(box: Box, tmp_path: Path, manager_toml: str) -> Path:
    files = good_files()
    files["provision.toml"] = (GOOD_TOML + "\n" + manager_toml).encode()
    path = tmp_path / "stick"
    sign(write_bundle(path, files), box.key)
    return path


def manager_table(**fields: str) -> str:
    lines = ["[manager]", *(f'{key} = "{value}"' for key, value in fields.items())]
    return "\n".join(lines) + "\n"


def refused(box: Box, path: Path) -> str:
    """Run the bundle; assert it was refused and nothing changed; return the reason.

    The report's self-test opens the store, which may leave its (empty)
    WAL files behind; they are not a change of the box.
    """

    def files() -> dict[str, str]:
        return {k: v for k, v in box.snapshot().items() if not k.endswith(("-wal", "-shm"))}

    before = files()
    services = RecordingServiceManager()
    outcome = provision(path, box.config, services=services, serial=SERIAL, report_dir=path)
    assert not outcome.ok
    assert files() == before, "the box changed although the bundle was refused"
    assert services.calls == []
    report = json.loads(outcome.report_path.read_text())  # type: ignore[union-attr]
    assert report["result"] == "refused" and report["reason"] == outcome.reason and "setup" not in report
    return outcome.reason


def users(box: Box) -> list[tuple[str, str]]:
    cfg = load_config(box.config)
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    try:
        return [(u.username, u.role) for u in make_repos(cfg, store).users.list()]
    finally:
        store.close()


def test_a_bundle_creates_the_first_manager_from_its_hash(box: Box, tmp_path: Path) -> None:
    with_store(box)
    toml = manager_table(username="amira", display_name="Amira Haddad", language="pl")
    toml += f"password_hash = '{hash_password(PASSWORD)}'\n"
    outcome = provision(
        stick(box, tmp_path, toml), box.config, services=RecordingServiceManager(), serial=SERIAL, report_dir=tmp_path
    )
    assert outcome.ok, outcome.reason
    assert any("first manager amira created" in c for c in outcome.changes)
    cfg = load_config(box.config)
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    repos = make_repos(cfg, store)
    user = repos.users.authenticate("amira", PASSWORD)
    assert user.role == "manager" and user.language == "pl" and user.display_name == "Amira Haddad"
    assert any(e.action == "user-add" and e.actor.startswith("provisioning:") for e in repos.audit.search())
    store.close()
    report = json.loads(outcome.report_path.read_text())  # type: ignore[union-attr]
    assert "setup" not in report  # the box has its manager: no setup code
    assert PASSWORD not in outcome.report_path.read_text()  # type: ignore[union-attr]
    assert not setup_code.pending(cfg.paths.state_dir)


def test_a_clear_password_is_refused_and_nothing_changes(box: Box, tmp_path: Path) -> None:
    with_store(box)
    reason = refused(box, stick(box, tmp_path, manager_table(username="amira", password=PASSWORD)))
    assert "manager.password is a clear password" in reason and "clinicbox user hash-password" in reason
    assert users(box) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"username": "amira", "password_hash": PASSWORD}, "manager.password_hash: is not an argon2id password hash"),
        ({"username": "a", "password_hash": hash_password(PASSWORD)}, "manager.username: user names are 2-32"),
        ({"username": "amira"}, "manager.password_hash: missing"),
    ],
)
def test_a_bad_manager_table_is_refused(box: Box, tmp_path: Path, fields: dict[str, str], expected: str) -> None:
    with_store(box)
    assert expected in refused(box, stick(box, tmp_path, manager_table(**fields)))
    assert users(box) == []


def test_a_box_with_a_manager_refuses_the_whole_bundle(box: Box, tmp_path: Path) -> None:
    with_store(box, manager="boss")
    toml = manager_table(username="amira", password_hash=hash_password(PASSWORD))
    reason = refused(box, stick(box, tmp_path, toml))
    assert "this box has a manager already" in reason and "nothing was changed" in reason
    assert users(box) == [("boss", "manager")]
    assert load_config(box.config).clinic.name == "Test Clinic"  # the rest of the bundle was not applied either


def test_a_run_on_a_box_without_a_manager_reports_a_setup_code(box: Box, tmp_path: Path) -> None:
    with_store(box)
    outcome = provision(
        stick(box, tmp_path, ""), box.config, services=RecordingServiceManager(), serial=SERIAL, report_dir=tmp_path
    )
    assert outcome.ok, outcome.reason
    report = json.loads(outcome.report_path.read_text())  # type: ignore[union-attr]
    code = report["setup"]["code"]
    assert "/setup" in report["setup"]["how"]
    setup_code.claim(load_config(box.config).paths.state_dir, code)  # the code opens setup
