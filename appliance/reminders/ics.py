"""iCalendar (RFC 5545) import of appointments: ``clinicbox import appointments FILE.ics``.

Calendars exported by practice software or a shared calendar: one
``VEVENT`` per visit. Times may carry a ``TZID`` (IANA names, Windows
names such as "W. Europe Standard Time", or the file's own
``VTIMEZONE`` definitions: ``icalendar`` resolves all three), be UTC
(``...Z``), or be floating (read in the clinic's time zone).

Mapping:

* ``UID`` → the appointment's external id, so re-importing a calendar
  updates moved visits instead of adding them twice;
* the patient: ``X-PATIENT-ID`` (the clinic's patient number, as in the
  patient CSV), else an ``ATTENDEE`` whose ``tel:`` URI is one patient's
  phone number;
* ``DTSTART`` and ``DTEND`` or ``DURATION`` (15 minutes if neither);
* ``ORGANIZER``'s ``CN`` (or ``X-PROVIDER``) → provider, ``LOCATION`` →
  location, ``DESCRIPTION`` → reason (stored, never spoken or sent);
* ``STATUS:CANCELLED`` cancels the visit if it was imported before.

All-day events and repeating events (``RRULE``) are refused: they are
not appointments a patient is reminded of. Bad events are reported with
the line of their ``BEGIN:VEVENT``, never their content; nothing is
written unless every event is good or ``--skip-bad`` is given. Changed
visits run the appointment hooks, so their reminders are re-planned.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

import icalendar

from appliance.errors import ImportFileError, NotFoundError, ValidationError
from appliance.store import appointments as appts
from appliance.store.importer import MAX_BYTES, ImportReport
from appliance.store.phones import normalize_caller
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db

_BEGIN = re.compile(r"^BEGIN:VEVENT\s*$", re.IGNORECASE)


def looks_like_ics(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \r\n\t")[:15].upper() == b"BEGIN:VCALENDAR"


def _event_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), start=1) if _BEGIN.match(line)]


def _moment(value: Any, tz: zoneinfo.ZoneInfo, name: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        raise ValidationError(f"{name}: an all-day event is not an appointment (give a time)")
    raise ValidationError(f"{name}: not a date and time")


class IcsImporter:
    """Reads a calendar into appointments, like the CSV importer does."""

    def __init__(self, repos: Repos) -> None:
        self.repos = repos
        self.tz = zoneinfo.ZoneInfo(repos.cfg.clinic.timezone)
        self.region = repos.cfg.clinic.country

    def run(self, data: bytes, actor: str, skip_bad: bool = False) -> ImportReport:
        """Import every VEVENT; see the module docstring.

        Raises:
            ImportFileError: the file is not a calendar, or has bad events (without ``skip_bad``).
        """
        if len(data) > MAX_BYTES:
            raise ImportFileError([(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it")])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError([(data[: exc.start].count(b"\n") + 1, "not UTF-8 text")]) from exc
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except (ValueError, KeyError, IndexError) as exc:
            raise ImportFileError([(1, f"not an iCalendar file ({str(exc)[:80]})")]) from None
        events = list(calendar.walk("VEVENT"))
        lines = _event_lines(text)
        report = ImportReport("appointments")
        store = self.repos.store
        now = to_db(store.clock.now())
        hooks = self.repos.importer.hooks
        with store.transaction() as conn:
            good: list[tuple[appts.AppointmentInput, bool]] = []
            seen: dict[str, int] = {}
            for index, event in enumerate(events):
                line = lines[index] if index < len(lines) else 0
                report.rows += 1
                try:
                    item, cancelled = self._parse(conn, event)
                except (ValidationError, NotFoundError) as exc:
                    report.errors.append((line, str(exc)))
                    continue
                key = item.import_key()
                if key in seen:
                    report.errors.append((line, f"the same appointment as line {seen[key]}"))
                    continue
                seen[key] = line
                good.append((item, cancelled))
            if report.errors and not skip_bad:
                raise ImportFileError(report.errors)
            for item, cancelled in good:
                if cancelled:
                    existing = conn.execute(
                        "SELECT id FROM appointments WHERE import_key = ?", (item.import_key(),)
                    ).fetchone()
                    if existing is None:
                        report.unchanged += 1  # never booked here: nothing to cancel
                        continue
                    self.repos.appointments.set_status(int(existing[0]), "cancelled", actor, conn=conn)
                    report.updated += 1
                    continue
                aid, status = appts.upsert(conn, item, now)
                if status != "unchanged":
                    for hook in hooks:
                        hook(conn, aid, "imported")
                setattr(report, status, getattr(report, status) + 1)
            self.repos.audit.append(conn, actor, "import", "appointments", "", report.summary() + " (iCalendar)")
        return report

    def _parse(self, conn: Any, event: Any) -> tuple[appts.AppointmentInput, bool]:
        if event.get("RRULE") is not None or event.get("RDATE") is not None:
            raise ValidationError("a repeating event; export single events, one per visit")
        uid = str(event.get("UID", "")).strip()
        if not uid:
            raise ValidationError("UID: missing (each event needs one, so a re-import updates it)")
        if event.get("DTSTART") is None:
            raise ValidationError("DTSTART: missing")
        start = _moment(event.decoded("DTSTART"), self.tz, "DTSTART")
        if event.get("DTEND") is not None:
            end = _moment(event.decoded("DTEND"), self.tz, "DTEND")
        elif event.get("DURATION") is not None:
            end = start + event.decoded("DURATION")
        else:
            end = start + timedelta(minutes=15)
        provider = str(event.get("X-PROVIDER", "") or "")
        organizer = event.get("ORGANIZER")
        if not provider and organizer is not None:
            provider = str(organizer.params.get("CN", ""))
        item = appts.AppointmentInput(
            patient_id=self._patient(conn, event),
            starts_at=start,
            ends_at=end,
            provider=provider,
            location=str(event.get("LOCATION", "") or ""),
            reason=str(event.get("DESCRIPTION", "") or "")[:500],
            external_id=f"ics:{uid}"[:64],
            source="ics",
        ).validated()
        return item, str(event.get("STATUS", "")).upper() == "CANCELLED"

    def _patient(self, conn: Any, event: Any) -> int:
        ext = str(event.get("X-PATIENT-ID", "") or "").strip()
        if ext:
            row = conn.execute("SELECT id FROM patients WHERE external_id = ?", (ext,)).fetchone()
            if row is None:
                raise NotFoundError("X-PATIENT-ID: no patient with that clinic id (import patients first)")
            return int(row[0])
        attendees = event.get("ATTENDEE")
        for attendee in attendees if isinstance(attendees, list) else [attendees] if attendees else []:
            uri = str(attendee)
            if not uri.lower().startswith("tel:"):
                continue
            number = normalize_caller(uri[4:], self.region)
            if number is None:
                continue
            rows = conn.execute("SELECT DISTINCT patient_id FROM patient_phones WHERE e164 = ?", (number,)).fetchall()
            if len(rows) == 1:
                return int(rows[0][0])
            if len(rows) > 1:
                raise ValidationError("ATTENDEE: that phone number belongs to several patients; add X-PATIENT-ID")
        raise NotFoundError("no patient: add X-PATIENT-ID or an ATTENDEE with the patient's tel: number")
