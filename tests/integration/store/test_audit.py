"""The audit log is append-only and its hash chain exposes tampering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.clock import FakeClock
from appliance.store import Store
from appliance.store.audit import AuditLog


def _fill(store: Store, n: int = 5) -> AuditLog:
    audit = AuditLog(store)
    for i in range(n):
        audit.record("alice", "view", "patient", i)
    return audit


def _sql_shell(store: Store, sql: str) -> None:
    """What an intruder with the key and a SQL shell would do: drop the guard first."""
    conn = store.connection()
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute(sql)


def test_intact_chain_verifies(store: Store) -> None:
    report = _fill(store).verify()
    assert report.ok and report.rows_checked == 5


def test_update_and_delete_are_refused(store: Store) -> None:
    _fill(store)
    conn = store.connection()
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log WHERE id = 2"):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(sql)
    assert AuditLog(store).verify().ok


def test_edited_row_is_found(store: Store) -> None:
    audit = _fill(store)
    _sql_shell(store, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    report = audit.verify()
    assert not report.ok and report.first_bad_id == 3
    assert "changed" in str(report)


def test_deleted_middle_row_is_found(store: Store) -> None:
    audit = _fill(store)
    _sql_shell(store, "DELETE FROM audit_log WHERE id = 2")
    report = audit.verify()
    assert not report.ok and report.first_bad_id == 2
    assert "missing" in str(report)


def test_deleted_last_rows_are_found(store: Store) -> None:
    audit = _fill(store)
    _sql_shell(store, "DELETE FROM audit_log WHERE id >= 4")
    report = audit.verify()
    assert not report.ok
    assert "deleted" in str(report)


def test_retention_moves_the_anchor_and_chain_stays_valid(store: Store, clock: FakeClock) -> None:
    audit = _fill(store, 3)
    clock.advance(86400 * 10)
    audit.record("bob", "view", "patient", 9)
    removed = audit.prune_before(clock.now() - timedelta(days=1))
    assert removed == 3
    report = audit.verify()
    assert report.ok and report.rows_checked == 1
    audit.record("bob", "export", "patient", 9)
    assert audit.verify().ok


def test_search_filters(store: Store) -> None:
    audit = _fill(store, 3)
    audit.record("bob", "export", "patient", 1)
    assert [e.actor for e in audit.search(action="export")] == ["bob"]
    assert len(audit.search(actor="alice")) == 3
