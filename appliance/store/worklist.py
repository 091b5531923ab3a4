"""The front desk's worklist (``worklist``): what the box changed that the source system cannot learn.

A practice system that feeds the box appointments over HL7 rarely takes
messages back. When the box itself changes an appointment that came from
a feed (a patient cancels or confirms on a reminder call or by SMS, the
front desk marks a no-show in the box), :func:`on_appointment_change`
adds an entry ("cancel this visit in your system") in the same
transaction. It stays open until someone ticks it done, audited. Changes
the feed made itself (actor ``feed:...``) need no entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.errors import NotFoundError, ValidationError
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

#: Appointment changes the source system should hear of, and what the desk does there.
ACTIONS = {
    "cancelled": "cancel",
    "confirmed": "confirm",
    "no-show": "no-show",
    "attended": "attended",
}
FEED_ACTOR = "feed:"


@dataclass(frozen=True)
class WorkItem:
    id: int
    created_at: str
    appointment_id: int | None
    action: str
    feed: str
    detail: str
    done_at: str | None
    done_by: str | None
    patient_name: str
    starts_at: str
    placer_id: str
    filler_id: str


def on_appointment_change(conn: Connection, appointment_id: int, change: str) -> None:
    """The appointment hook: a status the box set on a feed's appointment goes to the worklist."""
    action = ACTIONS.get(change)
    if action is None:
        return
    row = conn.execute(
        "SELECT feed, status_changed_by, updated_at FROM appointments WHERE id = ?",
        (appointment_id,),
    ).fetchone()
    if row is None or not row[0] or str(row[1] or "").startswith(FEED_ACTOR):
        return
    conn.execute(
        "INSERT INTO worklist(created_at, appointment_id, action, feed, detail) VALUES (?,?,?,?,?)",
        (row[2], appointment_id, action, row[0], f"changed on the box by {row[1] or 'the box'}"),
    )


def add(conn: Connection, created_at: str, appointment_id: int, action: str, detail: str, feed: str = "") -> int:
    """An item the box itself raises, in the caller's transaction: ``rebook`` (a no-show's answer
    to its follow-up), ``book`` (a visit filled from the waitlist, ``feed`` naming its feed if any)."""
    cur = conn.execute(
        "INSERT INTO worklist(created_at, appointment_id, action, feed, detail) VALUES (?,?,?,?,?)",
        (created_at, appointment_id, action, feed, detail),
    )
    return int(cur.lastrowid or 0)


def open_count(conn: Connection) -> int:
    """Items not ticked done yet (the dashboard's and the doctor's count)."""
    return int(conn.execute("SELECT count(*) FROM worklist WHERE done_at IS NULL").fetchone()[0])


def open_for_feed(conn: Connection, feed: str) -> list[tuple[int, int, str, str]]:
    """(item, appointment, action, the appointment's filler ID) of a feed's open items (write-back)."""
    return [
        (int(r[0]), int(r[1]), str(r[2]), str(r[3]))
        for r in conn.execute(
            "SELECT w.id, w.appointment_id, w.action, coalesce(a.filler_id, '') FROM worklist w"
            " JOIN appointments a ON a.id = w.appointment_id WHERE w.feed = ? AND w.done_at IS NULL ORDER BY w.id",
            (feed,),
        )
    ]


def done_in(conn: Connection, audit: AuditLog, item_id: int, actor: str, now: str, detail: str) -> None:
    """Tick an item done inside the caller's transaction (the box told the source itself); audited."""
    conn.execute("UPDATE worklist SET done_at = ?, done_by = ? WHERE id = ? AND done_at IS NULL", (now, actor, item_id))
    audit.append(conn, actor, "worklist-done", "worklist", item_id, detail)


class Worklist:
    """Open items for the front desk, and ticking them done (audited)."""

    def __init__(self, store: Store, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit

    def items(self, actor: str, include_done: bool = False, limit: int = 200) -> list[WorkItem]:
        """Open items (and done ones if asked), oldest first, with the patient's name (an audited read)."""
        where = "" if include_done else "WHERE w.done_at IS NULL"
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT w.id, w.created_at, w.appointment_id, w.action, w.feed, w.detail, w.done_at, w.done_by,"
                " coalesce(p.display_name, ''), coalesce(a.starts_at, ''), coalesce(a.placer_id, ''),"
                " coalesce(a.filler_id, '') FROM worklist w LEFT JOIN appointments a ON a.id = w.appointment_id"
                f" LEFT JOIN patients p ON p.id = a.patient_id {where} ORDER BY w.done_at IS NOT NULL, w.created_at,"
                " w.id LIMIT ?",
                (limit,),
            ).fetchall()
            self.audit.append(conn, actor, "view", "worklist", "", f"{len(rows)} items")
        return [WorkItem(*r) for r in rows]

    def open_count(self) -> int:
        return open_count(self.store.connection())

    def tick_done(self, item_id: int, actor: str) -> None:
        """Mark an item done in the source system (audited).

        Raises:
            NotFoundError: no such item.
            ValidationError: it was ticked done already.
        """
        with self.store.transaction() as conn:
            row = conn.execute("SELECT done_at, action, appointment_id FROM worklist WHERE id = ?", (item_id,))
            found = row.fetchone()
            if found is None:
                raise NotFoundError(f"no worklist item {item_id}")
            if found[0] is not None:
                raise ValidationError("this item was ticked done already")
            now = to_db(self.store.clock.now())
            conn.execute("UPDATE worklist SET done_at = ?, done_by = ? WHERE id = ?", (now, actor, item_id))
            self.audit.append(conn, actor, "worklist-done", "worklist", item_id, f"{found[1]} appointment {found[2]}")
