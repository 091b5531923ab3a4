"""Freed slots and the offers that fill them: every read and write of ``waitlist_slots`` and
``waitlist_offers`` (schema 0010).

* A cancelled visit still to come is *held* in the transaction that cancels
  it (:class:`FreedSlotHook`, one of the appointment hooks), whichever
  process cancelled it: a patient's SMS, the web UI, a feed.
* The offer engine (:mod:`appliance.waitlist`) offers the held slot and
  books it with :func:`book`: one ``UPDATE ... WHERE state = 'held'`` moves
  the slot to ``filled``, so of two yeses one books and the other is told
  the slot is taken; a unique index allows one accepted offer per slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from appliance.clock import Clock
from appliance.errors import NotFoundError
from appliance.store import worklist
from appliance.store.appointments import AppointmentInput, Appointments, load
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection
from appliance.store.timefmt import from_db, to_db
from appliance.store.waitlist import Entry, mark_booked, waiting_count

#: Offer states that still wait for the patient's answer.
OPEN = "offered"
BOOKED, TAKEN, EXPIRED, ALREADY = "booked", "taken", "expired", "already"


@dataclass(frozen=True)
class Slot:
    id: int
    freed_id: int | None
    freed_patient_id: int | None
    provider: str
    location: str
    starts_at: datetime
    ends_at: datetime
    feed: str
    state: str
    reason: str
    created_at: str


@dataclass(frozen=True)
class Offer:
    id: int
    slot_id: int
    entry_id: int
    patient_id: int
    number: str
    created_at: str
    expires_at: str | None
    state: str
    reason: str
    language: str | None
    sms_id: int | None
    answered_at: str | None


_SLOT = "id, freed_id, freed_patient_id, provider, location, starts_at, ends_at, feed, state, reason, created_at"
_OFFER = (
    "id, slot_id, entry_id, patient_id, number, created_at, expires_at, state, reason, language, sms_id, answered_at"
)


def _slot(r: tuple[object, ...]) -> Slot:
    values = list(r)
    values[5] = from_db(str(r[5]))
    values[6] = from_db(str(r[6]))
    return Slot(*values)  # type: ignore[arg-type]


def _offer(r: tuple[object, ...]) -> Offer:
    return Offer(*r)  # type: ignore[arg-type]


# -- holding a freed slot: an appointment hook -----------------------------------------------
class FreedSlotHook:
    """The appointment hook: a visit still to come that is cancelled is held for the waitlist
    (only while ``enabled()``, and only when someone waits); booked again, it is released."""

    def __init__(self, clock: Clock, enabled: Callable[[], bool]) -> None:
        self.clock = clock
        self.enabled = enabled

    def __call__(self, conn: Connection, appointment_id: int, change: str) -> None:
        now = self.clock.now()
        if change in ("cancelled", "feed-cancelled"):
            if not self.enabled() or not waiting_count(conn):
                return
            appt = load(conn, appointment_id)
            if appt.status != "cancelled" or appt.starts_at <= now:
                return
            row = conn.execute(
                "SELECT coalesce(feed, ''), coalesce(status_changed_by, '') FROM appointments WHERE id = ?",
                (appointment_id,),
            ).fetchone()
            conn.execute(
                "INSERT OR IGNORE INTO waitlist_slots(freed_id, freed_patient_id, provider, location, starts_at,"
                " ends_at, feed, freed_by, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    appointment_id, appt.patient_id, appt.provider, appt.location, to_db(appt.starts_at),
                    to_db(appt.ends_at), row[0], row[1], to_db(now),
                ),
            )  # fmt: skip
        elif change in ("booked", "confirmed", "rescheduled", "feed-updated"):
            conn.execute(
                "UPDATE waitlist_slots SET state = 'released', reason = 'visit booked again', closed_at = ?"
                " WHERE freed_id = ? AND state = 'held'",
                (to_db(now), appointment_id),
            )


# -- what the offer engine reads and writes (inside its transactions) -----------------------
def held_slots(conn: Connection) -> list[Slot]:
    return [
        _slot(r) for r in conn.execute(f"SELECT {_SLOT} FROM waitlist_slots WHERE state = 'held' ORDER BY starts_at")
    ]


def slot(conn: Connection, slot_id: int) -> Slot:
    row = conn.execute(f"SELECT {_SLOT} FROM waitlist_slots WHERE id = ?", (slot_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no waitlist slot {slot_id}")
    return _slot(row)


def close_slot(conn: Connection, slot_id: int, state: str, reason: str, now: datetime) -> bool:
    cur = conn.execute(
        "UPDATE waitlist_slots SET state = ?, reason = ?, closed_at = ? WHERE id = ? AND state = 'held'",
        (state, reason, to_db(now), slot_id),
    )
    return cur.rowcount == 1


def offers_for_slot(conn: Connection, slot_id: int) -> list[Offer]:
    return [_offer(r) for r in conn.execute(f"SELECT {_OFFER} FROM waitlist_offers WHERE slot_id = ?", (slot_id,))]


def busy_at(conn: Connection, patient_id: int, start: datetime, end: datetime) -> bool:
    """The patient has a visit (not cancelled) overlapping ``start``-``end``."""
    row = conn.execute(
        "SELECT 1 FROM appointments WHERE patient_id = ? AND status IN ('booked', 'confirmed')"
        " AND starts_at < ? AND ends_at > ? LIMIT 1",
        (patient_id, to_db(end), to_db(start)),
    ).fetchone()
    return row is not None


def booked_over(conn: Connection, held: Slot) -> bool:
    """Someone else's visit (booked since, by the desk or a feed) now fills the slot's time
    with its provider and room: the slot is not free any more."""
    row = conn.execute(
        "SELECT 1 FROM appointments WHERE status IN ('booked', 'confirmed') AND provider = ? AND location = ?"
        " AND starts_at < ? AND ends_at > ? AND id IS NOT ? LIMIT 1",
        (held.provider, held.location, to_db(held.ends_at), to_db(held.starts_at), held.freed_id),
    ).fetchone()
    return row is not None


def add_offer(
    conn: Connection,
    slot_id: int,
    entry: Entry,
    number: str,
    now: datetime,
    state: str,
    *,
    expires_at: datetime | None = None,
    reason: str = "",
    language: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO waitlist_offers(slot_id, entry_id, patient_id, number, created_at, expires_at, state, reason,"
        " language) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            slot_id, entry.id, entry.patient_id, number, to_db(now), to_db(expires_at) if expires_at else None,
            state, reason, language,
        ),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


def offer_sent(conn: Connection, offer_id: int, sms_id: int | None, state: str = OPEN, reason: str = "") -> None:
    conn.execute(
        "UPDATE waitlist_offers SET sms_id = ?, state = ?, reason = ? WHERE id = ?", (sms_id, state, reason, offer_id)
    )


def expire_offers(conn: Connection, now: datetime) -> list[int]:
    """Offers past their expiry become ``expired``; returns their slots."""
    rows = conn.execute(
        "SELECT id, slot_id FROM waitlist_offers WHERE state = 'offered' AND expires_at <= ?", (to_db(now),)
    ).fetchall()
    for offer_id, _ in rows:
        conn.execute("UPDATE waitlist_offers SET state = 'expired' WHERE id = ? AND state = 'offered'", (offer_id,))
    return sorted({int(r[1]) for r in rows})


def latest_offer_to(conn: Connection, number: str, since: datetime) -> Offer | None:
    """The newest offer texted to ``number`` since ``since`` (what a reply answers)."""
    row = conn.execute(
        f"SELECT {_OFFER} FROM waitlist_offers WHERE number = ? AND created_at >= ? AND sms_id IS NOT NULL"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        (number, to_db(since)),
    ).fetchone()
    return None if row is None else _offer(row)


def answer(conn: Connection, offer_id: int, state: str, now: datetime, reason: str = "") -> bool:
    """An open offer becomes ``declined`` (or ``expired``); False when it was not open."""
    cur = conn.execute(
        "UPDATE waitlist_offers SET state = ?, reason = ?, answered_at = ? WHERE id = ? AND state = 'offered'",
        (state, reason, to_db(now), offer_id),
    )
    return cur.rowcount == 1


def book(
    conn: Connection, offer_id: int, appointments: Appointments, audit: AuditLog, actor: str, now: datetime
) -> tuple[str, int | None]:
    """A yes to an offer, inside the caller's transaction: ``(outcome, appointment id)``.

    ``booked``: the slot was held and is now this patient's (the appointment
    is created with its hooks, so reminders are planned; the entry is
    booked; the slot's other open offers become ``taken``). ``taken``:
    someone else got it first (the entry keeps waiting). ``expired``: the
    offer ran out first. ``already``: this offer was booked before (the
    same yes twice).
    """
    row = conn.execute(f"SELECT {_OFFER} FROM waitlist_offers WHERE id = ?", (offer_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no waitlist offer {offer_id}")
    offer = _offer(row)
    if offer.state == "accepted":
        return ALREADY, _booked_appointment(conn, offer.slot_id)
    if offer.state == "taken":
        return TAKEN, None
    if offer.state != OPEN or (offer.expires_at and from_db(offer.expires_at) <= now):  # type: ignore[operator]
        answer(conn, offer_id, "expired", now, "answered after the expiry")
        return EXPIRED, None
    cur = conn.execute(
        "UPDATE waitlist_slots SET state = 'filled', entry_id = ?, closed_at = ? WHERE id = ? AND state = 'held'",
        (offer.entry_id, to_db(now), offer.slot_id),
    )
    if cur.rowcount != 1:
        conn.execute("UPDATE waitlist_offers SET state = 'taken', answered_at = ? WHERE id = ?", (to_db(now), offer_id))
        return TAKEN, None
    held = slot(conn, offer.slot_id)
    if booked_over(conn, held):  # the desk booked someone into that time meanwhile
        conn.execute(
            "UPDATE waitlist_slots SET state = 'released', reason = 'booked by the desk', entry_id = NULL WHERE id = ?",
            (offer.slot_id,),
        )
        conn.execute(
            "UPDATE waitlist_offers SET state = 'taken', answered_at = ? WHERE slot_id = ? AND state = 'offered'",
            (to_db(now), offer.slot_id),
        )
        return TAKEN, None
    conn.execute("UPDATE waitlist_offers SET state = 'accepted', answered_at = ? WHERE id = ?", (to_db(now), offer_id))
    appointment_id = appointments.create(
        AppointmentInput(
            patient_id=offer.patient_id,
            starts_at=held.starts_at,
            ends_at=held.ends_at,
            provider=held.provider,
            location=held.location,
            source="waitlist",
        ),
        actor,
    )
    conn.execute("UPDATE waitlist_slots SET appointment_id = ? WHERE id = ?", (appointment_id, offer.slot_id))
    mark_booked(conn, offer.entry_id, appointment_id, now)
    conn.execute(
        "UPDATE waitlist_offers SET state = 'taken', answered_at = ? WHERE slot_id = ? AND state = 'offered'",
        (to_db(now), offer.slot_id),
    )
    worklist.add(
        conn, to_db(now), appointment_id, "book", f"filled from the waitlist (slot {offer.slot_id})", feed=held.feed
    )
    audit.append(
        conn, actor, "waitlist-booked", "appointment", appointment_id, f"offer {offer_id} slot {offer.slot_id}"
    )
    return BOOKED, appointment_id


def _booked_appointment(conn: Connection, slot_id: int) -> int | None:
    row = conn.execute("SELECT appointment_id FROM waitlist_slots WHERE id = ?", (slot_id,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


# -- the front desk's view ------------------------------------------------------------------
@dataclass(frozen=True)
class OfferRow:
    """An offer as the Waitlist page lists it."""

    id: int
    slot_id: int
    patient_name: str
    starts_at: str
    provider: str
    state: str
    reason: str
    created_at: str
    expires_at: str | None
    slot_state: str


@dataclass(frozen=True)
class Figures:
    """The manager's KPIs over a period: slots freed, offers sent, fills, the fill rate."""

    freed: int
    offers: int
    filled: int

    @property
    def fill_rate(self) -> float | None:
        return None if not self.freed else self.filled / self.freed


def figures(conn: Connection, since: datetime, until: datetime) -> Figures:
    s, u = to_db(since), to_db(until)
    freed = conn.execute("SELECT count(*) FROM waitlist_slots WHERE created_at >= ? AND created_at < ?", (s, u))
    offers = conn.execute(
        "SELECT count(*) FROM waitlist_offers WHERE created_at >= ? AND created_at < ? AND sms_id IS NOT NULL",
        (s, u),
    )
    filled = conn.execute(
        "SELECT count(*) FROM waitlist_slots WHERE state = 'filled' AND created_at >= ? AND created_at < ?", (s, u)
    )
    return Figures(int(freed.fetchone()[0]), int(offers.fetchone()[0]), int(filled.fetchone()[0]))


def entries_with_open_offers(conn: Connection) -> set[int]:
    """Entries with an offer waiting for an answer (one offer at a time per patient)."""
    return {int(r[0]) for r in conn.execute("SELECT DISTINCT entry_id FROM waitlist_offers WHERE state = 'offered'")}


def reminder_after(conn: Connection, number: str, sms_id: int) -> bool:
    """A reminder SMS went to ``number`` after SMS ``sms_id`` (a reply then answers the reminder)."""
    row = conn.execute(
        "SELECT 1 FROM sms_messages WHERE direction = 'out' AND number = ? AND id > ?"
        " AND reminder_attempt_id IS NOT NULL LIMIT 1",
        (number, sms_id),
    ).fetchone()
    return row is not None


def fail_offer_sms(conn: Connection, sms_id: int, now: datetime) -> int | None:
    """The modem could not send an offer's SMS: the offer fails (the next patient gets one); its slot."""
    row = conn.execute(
        "SELECT id, slot_id FROM waitlist_offers WHERE sms_id = ? AND state = 'offered'", (sms_id,)
    ).fetchone()
    if row is None:
        return None
    answer(conn, int(row[0]), "failed", now, "the modem could not send it")
    return int(row[1])


def withdraw_for_entry(conn: Connection, entry_id: int, now: datetime) -> None:
    """An entry removed from the waitlist: its open offers are declined."""
    conn.execute(
        "UPDATE waitlist_offers SET state = 'declined', reason = 'removed from the waitlist', answered_at = ?"
        " WHERE entry_id = ? AND state = 'offered'",
        (to_db(now), entry_id),
    )


def offer_rows(conn: Connection, limit: int = 100) -> list[OfferRow]:
    """The newest offers with their slot and patient (the caller audits the view)."""
    rows = conn.execute(
        "SELECT o.id, o.slot_id, p.display_name, s.starts_at, s.provider, o.state, o.reason, o.created_at,"
        " o.expires_at, s.state FROM waitlist_offers o JOIN waitlist_slots s ON s.id = o.slot_id"
        " JOIN patients p ON p.id = o.patient_id ORDER BY o.created_at DESC, o.id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [OfferRow(*r) for r in rows]
