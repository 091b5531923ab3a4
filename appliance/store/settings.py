"""Runtime settings the UI or CLI change while the box runs (night mode,
paused reminders). Values are JSON; every change records who made it."""

from __future__ import annotations

import json
from typing import Any

from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

#: The manual "closed now" switch (console, panel button, web UI); the core restores it at start.
NIGHT_MODE = "night_mode"


class RuntimeSettings:
    def __init__(self, store: Store, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit

    def get(self, key: str, default: Any = None) -> Any:
        row = self.store.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any, actor: str) -> None:
        with self.store.transaction() as conn:
            self.set_in(conn, key, value, actor)

    def set_in(self, conn: Connection, key: str, value: Any, actor: str) -> None:
        """:meth:`set` inside the caller's write transaction (the switchboard's store writer)."""
        conn.execute(
            "INSERT INTO settings(key, value, updated_at, updated_by) VALUES (?,?,?,?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
            " updated_by = excluded.updated_by",
            (key, json.dumps(value, ensure_ascii=False), to_db(self.store.clock.now()), actor),
        )
        self.audit.append(conn, actor, "setting", "setting", key)


def get_state(conn: Connection, key: str, default: Any = None) -> Any:
    """A value a service keeps for itself (a calendar's sync token), not a setting a person changed."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def put_state(conn: Connection, key: str, value: Any, now: str, by: str) -> None:
    """Write a service's own state (unaudited: it changes on every sync and says nothing about anyone)."""
    conn.execute(
        "INSERT INTO settings(key, value, updated_at, updated_by) VALUES (?,?,?,?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
        " updated_by = excluded.updated_by",
        (key, json.dumps(value, ensure_ascii=False), now, by),
    )
