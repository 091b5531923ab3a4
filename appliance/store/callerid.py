"""Caller-ID lookup: number → patients, their next visit and last contacts.

This is the screen-pop path: it runs for every ringing call and must stay
fast on a large clinic's data (see ``python -m bench.store``), so it is a
handful of indexed point queries. It does not audit: the switchboard uses
it to pick the caller's language, and the web UI audits when it shows the
card to an agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from appliance.store import callbacks
from appliance.store.connection import Connection
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class NextVisit:
    appointment_id: int
    starts_at: str
    provider: str
    location: str
    status: str


@dataclass(frozen=True)
class Contact:
    at: str
    kind: str  # call-in, call-out, reminder, callback, sms-in, sms-out
    outcome: str


@dataclass(frozen=True)
class PatientCard:
    patient_id: int
    display_name: str
    date_of_birth: str | None
    language: str
    next_visit: NextVisit | None
    last_contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class CallerMatch:
    number: str
    patients: tuple[PatientCard, ...] = ()
    recent_calls: tuple[Contact, ...] = ()
    open_callbacks: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def language(self) -> str | None:
        """The caller's language when every matching patient agrees on one."""
        langs = {p.language for p in self.patients}
        return langs.pop() if len(langs) == 1 else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _contact(row: Any) -> Contact:
    direction, purpose, disposition = row[1], row[2], row[3] or ""
    if purpose in ("reminder", "callback"):
        kind = purpose
    else:
        kind = "call-in" if direction == "inbound" else "call-out"
    return Contact(row[0], kind, disposition)


def lookup(conn: Connection, number: str, now: datetime, contacts: int = 5) -> CallerMatch:
    """Everything the screen pop shows for ``number`` (E.164)."""
    now_s = to_db(now)
    cards = []
    for pid, name, dob, lang in conn.execute(
        "SELECT p.id, p.display_name, p.date_of_birth, p.language FROM patient_phones ph"
        " JOIN patients p ON p.id = ph.patient_id WHERE ph.e164 = ? ORDER BY p.id LIMIT 10",
        (number,),
    ):
        nxt = conn.execute(
            "SELECT id, starts_at, provider, location, status FROM appointments"
            " WHERE patient_id = ? AND starts_at >= ? AND status IN ('booked', 'confirmed')"
            " ORDER BY starts_at LIMIT 1",
            (pid, now_s),
        ).fetchone()
        last = conn.execute(
            "SELECT started_at, direction, purpose, disposition FROM calls WHERE patient_id = ?"
            " ORDER BY started_at DESC LIMIT ?",
            (pid, contacts),
        ).fetchall()
        cards.append(
            PatientCard(
                patient_id=pid,
                display_name=name,
                date_of_birth=dob,
                language=lang,
                next_visit=NextVisit(*nxt) if nxt else None,
                last_contacts=tuple(_contact(r) for r in last),
            )
        )
    recent = conn.execute(
        "SELECT started_at, direction, purpose, disposition FROM calls WHERE caller = ?"
        " ORDER BY started_at DESC LIMIT ?",
        (number, contacts),
    ).fetchall()
    return CallerMatch(
        number=number,
        patients=tuple(cards),
        recent_calls=tuple(_contact(r) for r in recent),
        open_callbacks=tuple(callbacks.open_for_number(conn, number)),
    )
