"""The pure mapping from a shared calendar's events to appointment changes.

The convention (README "Appointment feeds"): an event is a visit when it
names its patient, by ``X-PATIENT-ID`` (the clinic's patient number), an
``ATTENDEE`` with a ``tel:`` URI, or a phone number in its ``SUMMARY`` or
``DESCRIPTION`` (``Jan Kowalski +48601200300``); the name is the SUMMARY
without the number (or the attendee's ``CN``). Events that follow none of
these are listed with the reason, never guessed.

Repeating events are expanded over the horizon with
``recurring_ical_events`` (RRULE, RDATE, EXDATE, and RECURRENCE-ID
overrides, which move or cancel one occurrence); each occurrence is its
own appointment, keyed ``UID#<original start, UTC>``. Time zones come
from TZID (IANA or the calendar's VTIMEZONE); floating times are the
clinic's. ``STATUS:CANCELLED`` cancels. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from appliance.feeds.model import AppointmentFacts, Change, Header, PatientFacts
from appliance.store.names import fold

_PHONE = re.compile(r"\+?\d[\d \-()./]{6,}\d")
DEFAULT_MINUTES = 15


@dataclass(frozen=True)
class Unusable:
    """An event that is not a visit the box can remind (listed, not guessed)."""

    uid: str
    reason: str


def parse(data: str | bytes) -> icalendar.Calendar:
    """One calendar object resource (VCALENDAR); raises ``ValueError`` when it is not iCalendar."""
    return icalendar.Calendar.from_ical(data)


def key_of(uid: str, recurrence: datetime | None) -> str:
    """The appointment's key in the feed: the UID, with the original start for an occurrence."""
    if recurrence is None:
        return uid
    return f"{uid}#{recurrence.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _moment(value: Any, zone: zoneinfo.ZoneInfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return None  # an all-day event (a date) is no appointment


def _in_window(event: Any, start: datetime, end: datetime) -> bool:
    dtstart = event.get("DTSTART")
    value = dtstart.dt if dtstart is not None else None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=start.tzinfo)
        return start <= moment < end
    return True  # all-day or missing: let the caller say why it is skipped


def _patient(event: Any, uid: str) -> PatientFacts | Unusable:
    summary = str(event.get("SUMMARY", "")).strip()
    description = str(event.get("DESCRIPTION", "")).strip()
    patient_id = str(event.get("X-PATIENT-ID", "")).strip()
    phone, name = "", ""
    attendees = event.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        text = str(attendee)
        if text.lower().startswith("tel:"):
            phone = text[4:].strip()
            name = str(getattr(attendee, "params", {}).get("CN", "")).strip()
            break
    if not phone:
        found = _PHONE.search(summary) or _PHONE.search(description)
        if found:
            phone = re.sub(r"[^\d+]", "", found.group(0))
    if not name:
        name = _PHONE.sub("", summary).strip(" -,;:") if summary else ""
    if not (patient_id or (phone and name)):
        return Unusable(uid, "names no patient: give X-PATIENT-ID, a tel: ATTENDEE, or the name and phone in SUMMARY")
    if patient_id:
        return PatientFacts(mrn=patient_id, authority="", given_name=name, phones=(phone,) if phone else ())
    # No patient number: the person is their name with their phone (two people sharing a phone stay two).
    digest = hashlib.sha256(f"{fold(name)}|{phone}".encode()).hexdigest()[:20]
    return PatientFacts(mrn=f"cal-{digest}", authority="", given_name=name, phones=(phone,))


def changes(
    calendar: icalendar.Calendar,
    feed: str,
    clinic_zone: str,
    start: datetime,
    end: datetime,
) -> tuple[list[Change], list[Unusable], set[str]]:
    """The visits one calendar object holds between ``start`` and ``end``.

    Returns:
        (one change per occurrence, the unusable events with their reason,
        the UIDs the object covers: a key of these UIDs that is not among
        the changes has disappeared from the calendar).
    """
    zone = zoneinfo.ZoneInfo(clinic_zone)
    uids = {str(e.get("UID", "")) for e in calendar.walk("VEVENT") if e.get("UID")}
    repeating = {
        str(e.get("UID", ""))
        for e in calendar.walk("VEVENT")
        if e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID")
    }
    out: list[Change] = []
    unusable: list[Unusable] = []
    try:
        if repeating:
            occurrences = list(recurring_ical_events.of(calendar).between(start, end))
        else:  # single events (most of a clinic's book): no expansion needed, only the window
            occurrences = [e for e in calendar.walk("VEVENT") if _in_window(e, start, end)]
    except Exception as exc:  # a rule the library cannot expand: the whole object is listed
        return [], [Unusable(u, f"its repeat rule cannot be read ({type(exc).__name__})") for u in sorted(uids)], uids
    for event in occurrences:
        uid = str(event.get("UID", "")).strip()
        if not uid:
            unusable.append(Unusable("", "an event without a UID"))
            continue
        starts = _moment(event.get("DTSTART").dt if event.get("DTSTART") else None, zone)
        if starts is None:
            if not isinstance(event.get("DTSTART").dt if event.get("DTSTART") else None, date):
                unusable.append(Unusable(uid, "no start time"))
            continue  # all-day events are not visits: skipped silently (holidays, notes)
        ends = _moment(event.get("DTEND").dt, zone) if event.get("DTEND") else None
        if ends is None:
            duration = event.get("DURATION")
            ends = starts + (duration.dt if duration is not None else timedelta(minutes=DEFAULT_MINUTES))
        recurrence = event.get("RECURRENCE-ID") if uid in repeating else None
        key = key_of(uid, _moment(recurrence.dt, zone) if recurrence is not None else None)
        patient = _patient(event, uid)
        if isinstance(patient, Unusable):
            unusable.append(patient)
            continue
        cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
        organizer = event.get("ORGANIZER")
        provider = str(getattr(organizer, "params", {}).get("CN", "")) if organizer is not None else ""
        head = Header(
            sending_application=feed,
            sending_facility="",
            receiving_application="CLINICBOX",
            receiving_facility="",
            control_id=key[:50],
            version="",
            message_type="VEVENT",
            trigger="SYNC",
        )
        facts = AppointmentFacts(
            filler_id=key,
            starts_at=starts,
            ends_at=ends,
            provider=(provider or str(event.get("X-PROVIDER", "")))[:100],
            location=str(event.get("LOCATION", ""))[:100],
            status="cancelled" if cancelled else "",
        )
        out.append(Change("cancel" if cancelled else "book", head, patient=patient, appointment=facts))
    return out, unusable, uids


def written_back(raw: str, uid: str, occurrence: str, action: str) -> str | None:
    """The calendar object with the box's change: STATUS CANCELLED or CONFIRMED on the event, or,
    for one occurrence of a repeating event, an EXDATE for a cancellation (a confirmation of one
    occurrence cannot be said in iCalendar without splitting the event: None, it stays on the worklist)."""
    calendar = parse(raw)
    masters = [e for e in calendar.walk("VEVENT") if str(e.get("UID", "")) == uid and not e.get("RECURRENCE-ID")]
    if not masters:
        return None
    event = masters[0]
    if not occurrence:
        if "STATUS" in event:
            del event["STATUS"]
        event.add("STATUS", "CANCELLED" if action == "cancel" else "CONFIRMED")
    elif action == "cancel":
        moment = datetime.strptime(occurrence, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        event.add("EXDATE", moment)
    else:
        return None
    if "SEQUENCE" in event:
        sequence = int(event["SEQUENCE"]) + 1
        del event["SEQUENCE"]
    else:
        sequence = 1
    event.add("SEQUENCE", sequence)
    return calendar.to_ical().decode("utf-8")
