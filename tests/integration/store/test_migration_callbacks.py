"""Migrations on a store that already holds data: 5 rebuilds the callbacks
table to accept 'busy' callers and keeps every row and rule of the table it
replaces; 6 fills each answered queued call's first answer from its queue
events."""

from __future__ import annotations

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from appliance.store import migrate


def at_version(last: int) -> sqlcipher.Connection:
    conn = sqlcipher.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    for number, _name, sql in migrate.available():
        if number > last:
            break
        for statement in migrate._statements(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    return conn


def test_upgrade_keeps_callbacks_and_accepts_busy_callers() -> None:
    conn = at_version(4)
    conn.execute(
        "INSERT INTO calls(uuid, direction, started_at, caller) VALUES ('c1', 'inbound', '2026-11-02T09:00:00Z', '+48600000001')"
    )
    rows = [
        ("+48600000001", "front-desk", "abandoned", 1, "2026-11-02T09:01:00Z", "open", 3),
        ("+48600000002", "billing", "requested", None, "2026-11-02T09:05:00Z", "done", 1),
    ]
    for n, q, s, c, r, st, a in rows:
        conn.execute(
            "INSERT INTO callbacks(number, queue, source, call_id, requested_at, place_at, status, attempts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (n, q, s, c, r, r, st, a),
        )
    with pytest.raises(sqlcipher.IntegrityError):  # version 4 refuses the new source
        conn.execute(
            "INSERT INTO callbacks(number, queue, source, requested_at, place_at) VALUES ('+1', 'q', 'busy', 'x', 'x')"
        )
    cur = conn.execute("SELECT * FROM callbacks ORDER BY id")
    before = cur.fetchall()
    # Later migrations may add columns; every column and value that was there must stay.
    columns = ", ".join(d[0] for d in cur.description)

    assert migrate.apply_migrations(conn)[0].startswith("0005")
    assert migrate.current_version(conn) == migrate.latest_version()
    assert conn.execute(f"SELECT {columns} FROM callbacks ORDER BY id").fetchall() == before
    conn.execute(
        "INSERT INTO callbacks(number, queue, source, requested_at, place_at)"
        " VALUES ('+48600000003', 'front-desk', 'busy', '2026-11-02T10:00:00Z', '2026-11-02T10:00:00Z')"
    )
    # The rules of the old table still hold: one open callback per number, known sources only.
    with pytest.raises(sqlcipher.IntegrityError):
        conn.execute(
            "INSERT INTO callbacks(number, queue, source, requested_at, place_at)"
            " VALUES ('+48600000001', 'front-desk', 'busy', 'x', 'x')"
        )
    with pytest.raises(sqlcipher.IntegrityError):
        conn.execute(
            "INSERT INTO callbacks(number, queue, source, requested_at, place_at) VALUES ('+5', 'q', 'other', 'x', 'x')"
        )
    indexes = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'callbacks'")
    }
    assert {"callbacks_one_open", "callbacks_status", "callbacks_requested"} <= indexes
    # Deleting the call a callback came from still clears the link, as before.
    conn.execute("DELETE FROM calls WHERE uuid = 'c1'")
    assert conn.execute("SELECT call_id FROM callbacks WHERE number = '+48600000001'").fetchone() == (None,)


def test_upgrade_fills_the_first_answer_of_transferred_calls() -> None:
    conn = at_version(5)
    conn.execute(
        "INSERT INTO calls(uuid, direction, started_at, caller, queue, queued_at, agent, agent_answered_at)"
        " VALUES ('t', 'inbound', '2026-11-02T09:00:00Z', '+48600000004', 'desk', '2026-11-02T09:00:10Z',"
        " 'billing1', '2026-11-02T09:03:35Z')"
    )
    conn.execute(
        "INSERT INTO calls(uuid, direction, started_at, caller) VALUES ('n', 'inbound', '2026-11-02T10:00:00Z', '+1')"
    )
    for when, event in (("09:00:25", "answer"), ("09:03:25", "transfer"), ("09:03:35", "answer")):
        conn.execute(
            "INSERT INTO queue_events(call_id, at, queue, event) VALUES (1, ?, 'desk', ?)",
            (f"2026-11-02T{when}Z", event),
        )
    migrate.apply_migrations(conn)
    rows = dict(conn.execute("SELECT uuid, first_answered_at FROM calls").fetchall())
    assert rows == {"t": "2026-11-02T09:00:25Z", "n": None}  # the first agent's answer; unanswered calls untouched
