"""Runtime settings: every change is audited, also when the switchboard's
store writer makes it inside its own batch transaction (night mode)."""

from __future__ import annotations

from appliance.store.repos import Repos
from appliance.store.settings import NIGHT_MODE
from appliance.switchboard.writer import StoreWriter


def test_a_setting_written_by_the_store_writer_is_audited(repos: Repos) -> None:
    writer = StoreWriter(repos.store)
    writer.start()
    try:
        writer.db(lambda conn: repos.settings.set_in(conn, NIGHT_MODE, True, "console"))
        writer.flush()
    finally:
        writer.stop()
    assert writer.failures == 0
    assert repos.settings.get(NIGHT_MODE) is True
    entries = repos.audit.search(action="setting", object_id=NIGHT_MODE)
    assert [(e.actor, e.object_type) for e in entries] == [("console", "setting")]
    assert repos.audit.verify().ok


def test_set_and_set_in_write_the_same_row(repos: Repos) -> None:
    repos.settings.set("reminders.paused", True, "alice")
    with repos.store.transaction() as conn:
        repos.settings.set_in(conn, "reminders.paused", False, "bob")
    row = repos.store.query_one("SELECT value, updated_by FROM settings WHERE key = 'reminders.paused'")
    assert row is not None and tuple(row) == ("false", "bob")
    assert [e.actor for e in repos.audit.search(action="setting")] == ["bob", "alice"]
