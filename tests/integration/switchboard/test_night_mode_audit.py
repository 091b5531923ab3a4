"""Night mode set from the console is a runtime setting like any other: it
is stored through the audited settings owner, so the audit log says who
closed the clinic and when."""

from __future__ import annotations

from appliance.store.audit import AuditLog


def test_night_mode_from_the_console_leaves_an_audit_row(box) -> None:
    b = box(open_hours=True)
    b.control.night_mode(True)
    b.wait(lambda s: s["box"]["night_mode"], timeout=5, what="night mode on")
    rows = b.rows(
        "SELECT actor, action, object_type, object_id FROM audit_log WHERE action = 'setting' AND object_id = ?",
        ("night_mode",),
    )
    assert rows == [("console", "setting", "setting", "night_mode")]
    assert b.query("SELECT value, updated_by FROM settings WHERE key = 'night_mode'") == [("true", "console")]
    assert AuditLog(b.store).verify().ok
