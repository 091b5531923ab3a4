"""The feed message ledger (``feed_messages``): one row per message a feed received.

It makes replays idempotent (a control ID already applied from the same
sender is answered as before and changes nothing), keeps the rejected and
held messages with their reason for the status page and for re-processing
once the mapping is fixed, and gives the counts the dashboard and
``clinicbox doctor`` show. Reasons hold no patient data; the raw message
stays in the encrypted store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appliance.errors import NotFoundError
from appliance.store.connection import Connection

#: Ledger states that a replay answers without applying again.
SETTLED = ("applied", "unchanged", "ignored", "held")


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    feed: str
    control_id: str
    received_at: str
    message_type: str
    status: str
    ack_code: str
    reason: str
    location: str
    appointment_id: int | None
    replays: int


_COLS = "id, feed, control_id, received_at, message_type, status, ack_code, reason, location, appointment_id, replays"


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        int(row[0]),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        str(row[6]),
        str(row[7]),
        str(row[8]),
        row[9],
        int(row[10]),
    )


def find(conn: Connection, feed: str, control_id: str) -> LedgerEntry | None:
    row = conn.execute(f"SELECT {_COLS} FROM feed_messages WHERE feed = ? AND control_id = ?", (feed, control_id))
    found = row.fetchone()
    return _entry(found) if found else None


def count_replay(conn: Connection, entry_id: int) -> None:
    conn.execute("UPDATE feed_messages SET replays = replays + 1 WHERE id = ?", (entry_id,))


def record(
    conn: Connection,
    *,
    feed: str,
    control_id: str,
    received_at: str,
    message_type: str,
    status: str,
    ack_code: str,
    raw: str,
    reason: str = "",
    location: str = "",
    appointment_id: int | None = None,
    patient_id: int | None = None,
) -> int:
    """Write (or overwrite, for a re-sent or re-processed message) the ledger row of one message."""
    cur = conn.execute(
        "INSERT INTO feed_messages(feed, control_id, received_at, message_type, status, ack_code, reason, location,"
        " appointment_id, patient_id, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(feed, control_id) DO UPDATE SET received_at = excluded.received_at,"
        " message_type = excluded.message_type, status = excluded.status, ack_code = excluded.ack_code,"
        " reason = excluded.reason, location = excluded.location, appointment_id = excluded.appointment_id,"
        " patient_id = excluded.patient_id, raw = excluded.raw RETURNING id",
        (
            feed,
            control_id,
            received_at,
            message_type,
            status,
            ack_code,
            reason,
            location,
            appointment_id,
            patient_id,
            raw,
        ),
    )
    return int(cur.fetchone()[0])


def raw_message(conn: Connection, entry_id: int) -> tuple[LedgerEntry, str]:
    """A stored message for re-processing.

    Raises:
        NotFoundError: no such ledger row.
    """
    row = conn.execute(f"SELECT {_COLS}, raw FROM feed_messages WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no feed message with id {entry_id}")
    return _entry(row[:11]), str(row[11])


def recent(conn: Connection, statuses: tuple[str, ...] = ("rejected", "held"), limit: int = 50) -> list[LedgerEntry]:
    """The latest messages in ``statuses`` (the status page's "needs attention" list)."""
    marks = ",".join("?" * len(statuses))
    return [
        _entry(r)
        for r in conn.execute(
            f"SELECT {_COLS} FROM feed_messages WHERE status IN ({marks}) ORDER BY received_at DESC, id DESC LIMIT ?",
            (*statuses, limit),
        )
    ]


def summary(conn: Connection, since: str) -> dict[str, Any]:
    """Counts by status since ``since`` (UTC text), and the last message per feed."""
    counts = {
        str(status): int(n)
        for status, n in conn.execute(
            "SELECT status, count(*) FROM feed_messages WHERE received_at >= ? GROUP BY status", (since,)
        )
    }
    last = {
        str(feed): str(at)
        for feed, at in conn.execute("SELECT feed, max(received_at) FROM feed_messages GROUP BY feed")
    }
    return {"counts": counts, "last": last}


@contextlib.contextmanager
def savepoint(conn: Connection, name: str = "feed_message") -> Iterator[None]:
    """One message inside a batch's transaction: on an exception only its own writes are undone."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


def entries_of(conn: Connection, feed: str) -> dict[str, tuple[int, str]]:
    """control ID -> (ledger id, raw) of every message a feed keeps (a calendar's objects by href)."""
    return {
        str(r[0]): (int(r[1]), str(r[2]))
        for r in conn.execute("SELECT control_id, id, raw FROM feed_messages WHERE feed = ?", (feed,))
    }


def forget(conn: Connection, entry_id: int) -> None:
    """Drop a ledger row (a calendar object deleted on the server, its visits cancelled)."""
    conn.execute("DELETE FROM feed_messages WHERE id = ?", (entry_id,))
