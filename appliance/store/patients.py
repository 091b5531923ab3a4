"""Patients: create, edit, search, export and erase, every read audited.

Reads that show patient data to a person take an ``actor`` and write an
audit row in the same transaction. The switchboard's internal caller-ID
lookup (:mod:`appliance.store.callerid`) is the one unaudited read: it
routes the call and shows nothing to anyone; the screen pop that shows
the result to an agent is audited by the web UI.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from appliance.errors import NotFoundError, ValidationError
from appliance.store import callbacks, contacts, voicemail
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.names import fold
from appliance.store.patient_input import PatientInput
from appliance.store.phones import normalize
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: str
    is_primary: bool


@dataclass(frozen=True)
class Patient:
    id: int
    external_id: str | None
    family_name: str
    given_name: str
    display_name: str
    date_of_birth: str | None
    language: str
    reminder_channel: str
    consent_reminders: bool
    consent_recording: bool
    opted_out_at: str | None
    notes: str
    phones: tuple[Phone, ...]
    created_at: str
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["phones"] = [asdict(p) for p in self.phones]
        return data


_COLUMNS = (
    "id, external_id, family_name, given_name, display_name, date_of_birth, language, reminder_channel,"
    " consent_reminders, consent_recording, opted_out_at, notes, created_at, updated_at"
)


def _row_to_patient(row: Any, phones: list[Phone]) -> Patient:
    return Patient(
        id=row[0],
        external_id=row[1],
        family_name=row[2],
        given_name=row[3],
        display_name=row[4],
        date_of_birth=row[5],
        language=row[6],
        reminder_channel=row[7],
        consent_reminders=bool(row[8]),
        consent_recording=bool(row[9]),
        opted_out_at=row[10],
        notes=row[11],
        phones=tuple(phones),
        created_at=row[12],
        updated_at=row[13],
    )


def load(conn: Connection, patient_id: int) -> Patient:
    """Read one patient without auditing (for code paths that audit themselves)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no patient with id {patient_id}")
    phones = [
        Phone(r[0], r[1], bool(r[2]))
        for r in conn.execute(
            "SELECT e164, kind, is_primary FROM patient_phones WHERE patient_id = ? ORDER BY is_primary DESC, id",
            (patient_id,),
        )
    ]
    return _row_to_patient(row, phones)


def _values(data: PatientInput) -> tuple[Any, ...]:
    return (
        data.external_id or None,
        data.family_name,
        data.given_name,
        data.name,
        data.name_search or fold(data.name),
        data.date_of_birth or None,
        data.language,
        data.reminder_channel,
        int(data.consent_reminders),
        int(data.consent_recording),
        data.notes,
    )


def upsert_many(conn: Connection, items: list[PatientInput], now: str) -> list[str]:
    """:func:`upsert` for a batch (imports): a few bulk statements instead of
    four per patient. Returns each item's status, in order."""
    keys = [item.import_key() for item in items]
    marks = ",".join("?" * len(keys))
    existing = {
        row[0]: tuple(row[1:])
        for row in conn.execute(
            "SELECT import_key, id, external_id, family_name, given_name, display_name, name_search, date_of_birth,"
            " language, reminder_channel, consent_reminders, consent_recording, notes FROM patients"
            f" WHERE import_key IN ({marks})",
            keys,
        )
    }
    statuses: list[str] = []
    inserts, updates = [], []
    for key, item in zip(keys, items, strict=True):
        values = _values(item)
        old = existing.get(key)
        if old is None:
            inserts.append((key, *values, now, now))
            statuses.append("inserted")
        elif old[1:] != values:
            updates.append((*values, now, old[0]))
            statuses.append("updated")
        else:
            statuses.append("unchanged")
    conn.executemany(
        "INSERT INTO patients(import_key, external_id, family_name, given_name, display_name, name_search,"
        " date_of_birth, language, reminder_channel, consent_reminders, consent_recording, notes,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        inserts,
    )
    conn.executemany(
        "UPDATE patients SET external_id=?, family_name=?, given_name=?, display_name=?, name_search=?,"
        " date_of_birth=?, language=?, reminder_channel=?, consent_reminders=?, consent_recording=?,"
        " notes=?, updated_at=? WHERE id=?",
        updates,
    )
    ids = dict(conn.execute(f"SELECT import_key, id FROM patients WHERE import_key IN ({marks})", keys).fetchall())
    id_marks = ",".join("?" * len(ids))
    have: dict[int, set[str]] = {}
    for pid, e164 in conn.execute(
        f"SELECT patient_id, e164 FROM patient_phones WHERE patient_id IN ({id_marks})", list(ids.values())
    ):
        have.setdefault(pid, set()).add(e164)
    phones = []
    for i, (key, item) in enumerate(zip(keys, items, strict=True)):
        pid = ids[key]
        known = have.get(pid, set())
        for n, number in enumerate(item.phones):
            if number not in known:
                phones.append((pid, number, "mobile", int(n == 0 and not known)))
                if statuses[i] == "unchanged":
                    statuses[i] = "updated"
    conn.executemany("INSERT INTO patient_phones(patient_id, e164, kind, is_primary) VALUES (?,?,?,?)", phones)
    return statuses


def upsert(conn: Connection, data: PatientInput, now: str) -> tuple[int, str]:
    """Insert or update by import key inside the caller's transaction.

    Returns:
        (patient id, "inserted" | "updated" | "unchanged").
    """
    key = data.import_key()
    values = _values(data)
    existing = conn.execute(
        "SELECT id, external_id, family_name, given_name, display_name, name_search, date_of_birth, language,"
        " reminder_channel, consent_reminders, consent_recording, notes FROM patients WHERE import_key = ?",
        (key,),
    ).fetchone()
    if existing is None:
        cur = conn.execute(
            "INSERT INTO patients(import_key, external_id, family_name, given_name, display_name, name_search,"
            " date_of_birth, language, reminder_channel, consent_reminders, consent_recording, notes,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (key, *values, now, now),
        )
        pid = int(cur.lastrowid or 0)
        status = "inserted"
    else:
        pid = int(existing[0])
        status = "unchanged"
        if tuple(existing[1:]) != values:
            conn.execute(
                "UPDATE patients SET external_id=?, family_name=?, given_name=?, display_name=?, name_search=?,"
                " date_of_birth=?, language=?, reminder_channel=?, consent_reminders=?, consent_recording=?,"
                " notes=?, updated_at=? WHERE id=?",
                (*values, now, pid),
            )
            status = "updated"
    have = {r[0] for r in conn.execute("SELECT e164 FROM patient_phones WHERE patient_id = ?", (pid,))}
    for i, number in enumerate(data.phones):
        if number not in have:
            conn.execute(
                "INSERT INTO patient_phones(patient_id, e164, kind, is_primary) VALUES (?,?,?,?)",
                (pid, number, "mobile", int(i == 0 and not have)),
            )
            if status == "unchanged":
                status = "updated"
    return pid, status


class Patients:
    """The patients aggregate. ``region`` is the clinic's country for phone numbers."""

    def __init__(self, store: Store, audit: AuditLog, region: str, default_language: str) -> None:
        self.store = store
        self.audit = audit
        self.region = region
        self.default_language = default_language

    def _now(self) -> str:
        return to_db(self.store.clock.now())

    def create(self, data: PatientInput, actor: str) -> int:
        clean = data.validated(self.region, self.default_language)
        with self.store.transaction() as conn:
            key = clean.import_key()
            if conn.execute("SELECT 1 FROM patients WHERE import_key = ?", (key,)).fetchone():
                raise ValidationError("a patient with the same name and date of birth (or clinic id) already exists")
            pid, _ = upsert(conn, clean, self._now())
            self.audit.append(conn, actor, "create", "patient", pid)
            return pid

    def update(self, patient_id: int, data: PatientInput, actor: str) -> None:
        """Replace a patient's details and phone list."""
        clean = data.validated(self.region, self.default_language)
        with self.store.transaction() as conn:
            load(conn, patient_id)
            clash = conn.execute(
                "SELECT id FROM patients WHERE import_key = ? AND id != ?",
                (clean.import_key(), patient_id),
            ).fetchone()
            if clash:
                raise ValidationError("another patient already has this name and date of birth (or clinic id)")
            conn.execute(
                "UPDATE patients SET import_key=?, external_id=?, family_name=?, given_name=?, display_name=?,"
                " name_search=?, date_of_birth=?, language=?, reminder_channel=?, consent_reminders=?,"
                " consent_recording=?, notes=?, updated_at=? WHERE id=?",
                (
                    clean.import_key(),
                    clean.external_id or None,
                    clean.family_name,
                    clean.given_name,
                    clean.name,
                    fold(clean.name),
                    clean.date_of_birth or None,
                    clean.language,
                    clean.reminder_channel,
                    int(clean.consent_reminders),
                    int(clean.consent_recording),
                    clean.notes,
                    self._now(),
                    patient_id,
                ),
            )
            conn.execute("DELETE FROM patient_phones WHERE patient_id = ?", (patient_id,))
            for i, number in enumerate(clean.phones):
                conn.execute(
                    "INSERT INTO patient_phones(patient_id, e164, kind, is_primary) VALUES (?,?,?,?)",
                    (patient_id, number, "mobile", int(i == 0)),
                )
            self.audit.append(conn, actor, "update", "patient", patient_id)

    def get(self, patient_id: int, actor: str, purpose: str = "view") -> Patient:
        with self.store.transaction() as conn:
            patient = load(conn, patient_id)
            self.audit.append(conn, actor, purpose, "patient", patient_id)
            return patient

    def search(self, query: str, actor: str, limit: int = 50) -> list[Patient]:
        """Find patients by name (any script), phone number, or birth date (YYYY-MM-DD).

        The audit row records what kind of search and how many results,
        never the search text (which may be a name).
        """
        text = query.strip()
        if not text:
            return []
        conn = self.store.connection()
        kind = "name"
        ids: list[int]
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(text) == 10 and text[4] == "-" and text[7] == "-" and digits == text.replace("-", ""):
            kind = "dob"
            ids = [r[0] for r in conn.execute("SELECT id FROM patients WHERE date_of_birth = ? LIMIT ?", (text, limit))]
        elif digits and len(digits) >= 5 and len(digits) >= len(text.replace(" ", "").replace("+", "")) - 2:
            kind = "phone"
            try:
                e164 = normalize(text, self.region)
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT patient_id FROM patient_phones WHERE e164 = ? LIMIT ?",
                        (e164, limit),
                    )
                ]
            except ValidationError:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT patient_id FROM patient_phones WHERE e164 LIKE ? LIMIT ?",
                        (f"%{digits}%", limit),
                    )
                ]
        else:
            folded = fold(text)
            if len(folded) >= 3:
                phrase = '"' + folded.replace('"', '""') + '"'
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ? LIMIT ?",
                        (phrase, limit),
                    )
                ]
            else:
                pattern = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM patients WHERE name_search LIKE ? ESCAPE '\\' LIMIT ?",
                        (f"%{pattern}%", limit),
                    )
                ]
        with self.store.transaction() as wconn:
            found = [load(wconn, pid) for pid in ids]
            self.audit.append(wconn, actor, "search", "patient", "", f"by {kind}: {len(found)} results")
        found.sort(key=lambda p: p.display_name)
        return found

    def export(self, patient_id: int, actor: str) -> dict[str, Any]:
        """Everything the box holds about one patient (GDPR/RODO access request)."""
        with self.store.transaction() as conn:
            patient = load(conn, patient_id)
            rows = {
                "appointments": "SELECT id, provider, location, reason, starts_at, ends_at, status, created_at"
                " FROM appointments WHERE patient_id = ? ORDER BY starts_at",
                "calls": "SELECT uuid, direction, purpose, caller, callee, started_at, ended_at, disposition, queue,"
                " agent, note FROM calls WHERE patient_id = ? ORDER BY started_at",
                "voicemail": "SELECT id, mailbox, received_at, duration_s, status FROM voicemail WHERE patient_id = ?",
                "recordings": "SELECT id, started_at, duration_s FROM recordings WHERE patient_id = ?",
                "sms": "SELECT direction, number, body, status, created_at FROM sms_messages WHERE patient_id = ?",
                "reminders": "SELECT r.id, r.channel, r.due_at, r.status, r.outcome FROM reminders r"
                " JOIN appointments a ON a.id = r.appointment_id WHERE a.patient_id = ?",
            }
            data: dict[str, Any] = {"patient": patient.as_dict()}
            for name, sql in rows.items():
                cur = conn.execute(sql, (patient_id,))
                cols = [d[0] for d in cur.description]
                data[name] = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
            self.audit.append(conn, actor, "export", "patient", patient_id)
            return data

    def erase(self, patient_id: int, actor: str) -> list[str]:
        """Erase a patient on request: their record, appointments, messages and
        media; call records keep their timing for statistics but lose the
        number and the link. Returns the media files to delete (the caller
        removes them after the commit, see :meth:`MediaVault.delete`)."""
        with self.store.transaction() as conn:
            patient = load(conn, patient_id)
            media = [
                r[0]
                for r in conn.execute(
                    "SELECT media_file FROM voicemail WHERE patient_id = ? UNION ALL"
                    " SELECT media_file FROM recordings WHERE patient_id = ?",
                    (patient_id, patient_id),
                )
            ]
            numbers = [p.e164 for p in patient.phones]
            conn.execute("UPDATE calls SET caller = 'erased', note = '' WHERE patient_id = ?", (patient_id,))
            for number in numbers:
                conn.execute("UPDATE calls SET caller = 'erased' WHERE caller = ?", (number,))
                conn.execute("UPDATE calls SET callee = 'erased' WHERE callee = ?", (number,))
                callbacks.erase_number(conn, number)
                conn.execute("DELETE FROM sms_messages WHERE number = ?", (number,))
                voicemail.erase_caller(conn, number)
            conn.execute("DELETE FROM patients WHERE id = ?", (patient_id,))
            self.audit.append(conn, actor, "erase", "patient", patient_id, f"{len(media)} media files")
            return media

    def set_opt_out(self, patient_id: int, opted_out: bool, actor: str, via: str = "web", detail: str = "") -> None:
        """Opt the patient out of (or back into) every message; the consent record says how and by whom."""
        with self.store.transaction() as conn:
            load(conn, patient_id)
            set_opted_out(conn, patient_id, opted_out, self.store.clock.now())
            contacts.consent(
                conn,
                self.store.clock.now(),
                "opt-out" if opted_out else "opt-in",
                via,
                actor,
                patient_id=patient_id,
                detail=detail,
            )
            self.audit.append(conn, actor, "opt-out" if opted_out else "opt-in", "patient", patient_id)

    def count(self) -> int:
        row = self.store.query_one("SELECT count(*) FROM patients")
        return int(row[0]) if row else 0


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


def merge_from_feed(conn: Connection, data: PatientInput, now: str, *, language_given: bool) -> tuple[int, str]:
    """A patient as a feed tells it (``data`` validated, ``external_id`` = MRN^authority).

    Found by that ID alone, never by phone or name: two people who share a
    number stay two patients. A new patient is created; a known one gets
    the name, birth date and language the feed sends (when it sends them:
    ``language_given``)
    and any new phone number, while what the clinic set on the box
    (reminder channel, consents, notes, opt-out) stays.

    Returns:
        (patient id, "inserted" | "updated" | "unchanged").
    """
    found = conn.execute("SELECT id FROM patients WHERE import_key = ?", (data.import_key(),)).fetchone()
    if found is None:
        return upsert(conn, data, now)
    old = load(conn, int(found[0]))
    merged = PatientInput(
        family_name=data.family_name or old.family_name,
        given_name=data.given_name or old.given_name,
        name=data.name if (data.family_name or data.given_name) else old.display_name,
        name_search=data.name_search if (data.family_name or data.given_name) else fold(old.display_name),
        date_of_birth=data.date_of_birth or (old.date_of_birth or ""),
        phones=list(data.phones),
        language=data.language if language_given else old.language,
        reminder_channel=old.reminder_channel
        if old.reminder_channel != "none" or not data.phones
        else data.reminder_channel,
        consent_reminders=old.consent_reminders,
        consent_recording=old.consent_recording,
        notes=old.notes,
        external_id=data.external_id,
    )
    return upsert(conn, merged, now)


def set_opted_out(conn: Connection, patient_id: int, opted_out: bool, at: datetime) -> None:
    """``patients.opted_out_at`` (inside the caller's transaction; the consent event is theirs to add)."""
    conn.execute(
        "UPDATE patients SET opted_out_at = ?, updated_at = ? WHERE id = ?",
        (to_db(at) if opted_out else None, to_db(at), patient_id),
    )
