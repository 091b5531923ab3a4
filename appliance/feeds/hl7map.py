"""The pure mapping from a parsed HL7 v2 message to a :class:`~appliance.feeds.model.Change`.

One function, :func:`to_change`, table-tested in ``tests/unit/feeds``: SIU
S12 (book), S13 (reschedule), S14 (modify), S15 (cancel), S17 (delete),
S26 (no-show), and ADT A04/A08/A28/A31 (the patient's phone and
language). The per-sender mapping (:class:`Hl7SenderSettings`) says where
the start time, the mobile number, the provider and the room live, and
which time zone holds times sent without an offset.

Accept what is unambiguous, refuse what is not: a missing appointment ID,
a date that is not a date, an unknown filler status or a local time that a
daylight-saving change makes ambiguous raise :class:`MessageRejected`
naming the field. A booking message without a start time is not refused:
it is held for review with its reason (``AppointmentFacts.held``).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

import hl7

from appliance.config.feeds import Hl7SenderSettings
from appliance.feeds import hl7read
from appliance.feeds.hl7read import first, repetitions, value
from appliance.feeds.model import (
    REQUIRED_MISSING,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_MESSAGE_TYPE,
    Action,
    AppointmentFacts,
    Change,
    Header,
    MessageRejected,
    PatientFacts,
)

SIU_ACTIONS: dict[str, Action] = {
    "S12": "book",
    "S13": "reschedule",
    "S14": "modify",
    "S15": "cancel",
    "S17": "delete",
    "S26": "no-show",
}
ADT_TRIGGERS = ("A04", "A08", "A28", "A31")
#: HL7 table 0278 (filler status) and what practice systems add, folded (lower case, no spaces or dashes).
STATUSES = {
    "pending": "ignore",
    "waitlist": "ignore",
    "blocked": "ignore",
    "booked": "booked",
    "overbook": "booked",
    "confirmed": "ignore",
    "started": "attended",
    "complete": "attended",
    "completed": "attended",
    "arrived": "attended",
    "checkedin": "attended",
    "checkedout": "attended",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "dc": "cancelled",
    "discontinued": "cancelled",
    "deleted": "cancelled",
    "noshow": "no-show",
}
#: PID-15 codes: ISO 639-1, 639-2/B and /T, and the English names, folded.
LANGUAGES = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "es": "es",
    "spa": "es",
    "spanish": "es",
    "español": "es",
    "pl": "pl",
    "pol": "pl",
    "polish": "pl",
    "polski": "pl",
    "tr": "tr",
    "tur": "tr",
    "turkish": "tr",
    "türkçe": "tr",
    "ko": "ko",
    "kor": "ko",
    "korean": "ko",
    "zh": "zh",
    "zho": "zh",
    "chi": "zh",
    "chinese": "zh",
    "cmn": "zh",
    "yue": "zh",
}
_UNITS = {"s": 1 / 60, "sec": 1 / 60, "m": 1, "min": 1, "mn": 1, "h": 60, "hr": 60, "hour": 60, "hours": 60}
#: start field -> (segment, start field, (end field or 0), duration field, units field).
_START = {
    "SCH-11": ("SCH", 11, 0, 9, 10),
    "TQ1-7": ("TQ1", 7, 8, 0, 0),
    "AIS-4": ("AIS", 4, 0, 7, 8),
    "AIG-8": ("AIG", 8, 0, 11, 12),
    "AIL-6": ("AIL", 6, 0, 9, 10),
    "AIP-6": ("AIP", 6, 0, 9, 10),
}


def _fold(text: str) -> str:
    return "".join(c for c in text.casefold() if c not in " -_")


def to_change(msg: hl7.Message, head: Header, mapping: Hl7SenderSettings, clinic_zone: str) -> Change:
    """What ``msg`` asks of the store.

    Raises:
        MessageRejected: an unsupported type or trigger (AR), or content
            that cannot be read unambiguously (AE), naming the field.
    """
    zone = zoneinfo.ZoneInfo(mapping.timezone or clinic_zone)
    if head.message_type == "ADT":
        if head.trigger not in ADT_TRIGGERS:
            raise MessageRejected(
                f"ADT {head.trigger} is not taken; send A04, A08, A28 or A31", "MSH-9.2", UNSUPPORTED_EVENT, "AR"
            )
        return Change("patient", head, patient=_patient(msg, mapping, required=True))
    if head.message_type != "SIU":
        raise MessageRejected(
            f"message type {head.message_type} is not taken; send SIU or ADT", "MSH-9.1", UNSUPPORTED_MESSAGE_TYPE, "AR"
        )
    action = SIU_ACTIONS.get(head.trigger)
    if action is None:
        raise MessageRejected(
            f"SIU {head.trigger} is not taken; send S12, S13, S14, S15, S17 or S26", "MSH-9.2", UNSUPPORTED_EVENT, "AR"
        )
    sch = first(msg, "SCH")
    if sch is None:
        raise MessageRejected("no SCH segment", "SCH", REQUIRED_MISSING)
    placer, filler = value(msg, sch, 1), value(msg, sch, 2)
    if not (placer or filler):
        raise MessageRejected("no appointment ID (placer SCH-1 or filler SCH-2)", "SCH-2", REQUIRED_MISSING)
    status = _status(msg, sch, mapping)
    if action in ("cancel", "delete"):
        status = "cancelled"
    elif action == "no-show":
        status = "no-show"
    patient = _patient(msg, mapping, required=action in ("book", "reschedule", "modify"))
    starts, ends, where = _times(msg, mapping, zone)
    held = ""
    if starts is None and action in ("book", "reschedule"):
        held = f"no start time in {', '.join(mapping.start_fields)}"
    facts = AppointmentFacts(
        placer_id=placer,
        filler_id=filler,
        starts_at=starts,
        ends_at=ends,
        provider=_provider(msg, mapping),
        location=_location(msg, mapping),
        status=status,
        held=held,
    )
    return Change(action, head, patient=patient, appointment=facts, warnings=(where,) if where else ())


def _status(msg: hl7.Message, sch: Any, mapping: Hl7SenderSettings) -> str:
    code = value(msg, sch, 25) or value(msg, sch, 25, 1, 2)
    if not code:
        return ""
    extra = {_fold(k): v for k, v in mapping.statuses.items()}
    action = extra.get(_fold(code)) or STATUSES.get(_fold(code))
    if action is None:
        raise MessageRejected(
            "unknown filler status; map it in feeds.hl7.senders.<MSH-3>.statuses and re-process",
            "SCH-25",
            TABLE_VALUE_NOT_FOUND,
        )
    return "" if action == "ignore" else action


def _times(
    msg: hl7.Message, mapping: Hl7SenderSettings, zone: zoneinfo.ZoneInfo
) -> tuple[datetime | None, datetime | None, str]:
    """Start and end from the first start field present; ("", ...) says which field was used."""
    for name in mapping.start_fields:
        seg_name, start_field, end_field, dur_field, unit_field = _START[name]
        seg = first(msg, seg_name)
        comp = 4 if name == "SCH-11" else 1
        raw = value(msg, seg, start_field, 1, comp)
        if not raw:
            continue
        starts = hl7read.timestamp(raw, zone, f"{name}.{comp}" if comp > 1 else name)
        ends = None
        end_raw = value(msg, seg, 11, 1, 5) if name == "SCH-11" else value(msg, seg, end_field) if end_field else ""
        if end_raw:
            ends = hl7read.timestamp(end_raw, zone, "SCH-11.5" if name == "SCH-11" else f"{seg_name}-{end_field}")
        else:
            minutes = _duration(msg, seg, dur_field, unit_field, seg_name)
            if minutes is None and seg_name != "SCH":
                minutes = _duration(msg, first(msg, "SCH"), 9, 10, "SCH")
            ends = starts + timedelta(minutes=minutes or mapping.default_duration_min)
        if ends <= starts:
            raise MessageRejected("the appointment ends before it starts", f"{seg_name}-{end_field or dur_field}")
        return starts, ends, ""
    return None, None, ""


def _duration(msg: hl7.Message, seg: Any, dur_field: int, unit_field: int, seg_name: str) -> float | None:
    if seg is None or not dur_field:
        return None
    raw = value(msg, seg, dur_field)
    if not raw:
        return None
    try:
        amount = float(raw)
    except ValueError:
        raise MessageRejected("the duration is not a number", f"{seg_name}-{dur_field}") from None
    unit = _fold(value(msg, seg, unit_field) or value(msg, seg, unit_field, 1, 2) or "min")
    factor = _UNITS.get(unit.rstrip("s") if unit not in _UNITS else unit)
    if factor is None:
        raise MessageRejected("unknown duration unit; use MIN, S or H", f"{seg_name}-{unit_field}")
    minutes = amount * factor
    if not 0 < minutes <= 12 * 60:
        raise MessageRejected("the duration must be more than 0 and at most 12 hours", f"{seg_name}-{dur_field}")
    return minutes


def _patient(msg: hl7.Message, mapping: Hl7SenderSettings, *, required: bool) -> PatientFacts | None:
    pid = first(msg, "PID")
    if pid is None:
        if required:
            raise MessageRejected("no PID segment", "PID", REQUIRED_MISSING)
        return None
    rep = 1
    for i in range(1, repetitions(pid, 3) + 1):
        if value(msg, pid, 3, i, 5).upper() == "MR":
            rep = i
            break
    mrn = value(msg, pid, 3, rep, 1)
    if not mrn:
        if required:
            raise MessageRejected("no patient ID (PID-3)", "PID-3", REQUIRED_MISSING)
        return None
    authority = value(msg, pid, 3, rep, 4, 1) or value(msg, pid, 3, rep, 4, 2)
    if len(mrn) + len(authority) > 63:
        raise MessageRejected("the patient ID with its authority is longer than 63 characters", "PID-3")
    name_rep = 1
    for i in range(1, repetitions(pid, 5) + 1):
        if value(msg, pid, 5, i, 7).upper() == "L":
            name_rep = i
            break
    dob = value(msg, pid, 7)
    if dob:
        born = hl7read.timestamp(dob, zoneinfo.ZoneInfo("UTC"), "PID-7", need_time=False)
        dob = born.date().isoformat()
    return PatientFacts(
        mrn=mrn,
        authority=authority,
        family_name=value(msg, pid, 5, name_rep, 1),
        given_name=value(msg, pid, 5, name_rep, 2),
        date_of_birth=dob,
        phones=tuple(_phones(msg, pid, mapping)),
        language=_language(msg, pid, mapping),
    )


def _phones(msg: hl7.Message, pid: Any, mapping: Hl7SenderSettings) -> list[str]:
    marked: list[str] = []
    rest: list[str] = []
    mobile = {m.upper() for m in mapping.mobile_equipment}
    for name in mapping.phone_fields:
        field = 13 if name == "PID-13" else 14
        for rep in range(1, repetitions(pid, field) + 1):
            use, kind = value(msg, pid, field, rep, 2).upper(), value(msg, pid, field, rep, 3).upper()
            if use == "NET" or kind in ("INTERNET", "X.400", "FX"):
                continue
            number = value(msg, pid, field, rep, 12)
            if not number and value(msg, pid, field, rep, 7):
                country = value(msg, pid, field, rep, 5).lstrip("+")
                local = value(msg, pid, field, rep, 6) + value(msg, pid, field, rep, 7)
                number = f"+{country}{local}" if country else local
            number = number or value(msg, pid, field, rep, 1)
            if number and number not in marked + rest:
                (marked if kind in mobile else rest).append(number)
    return marked + rest


def _language(msg: hl7.Message, pid: Any, mapping: Hl7SenderSettings) -> str:
    if not mapping.language_field:
        return ""
    extra = {_fold(k): v for k, v in mapping.languages.items()}
    for comp in (1, 2):
        code = _fold(value(msg, pid, 15, 1, comp))
        if not code:
            continue
        for candidate in (code, code.split("_")[0][:2] if len(code) > 3 and code[2] in "-_" else code):
            found = extra.get(candidate) or LANGUAGES.get(candidate)
            if found:
                return found
    return ""


def _provider(msg: hl7.Message, mapping: Hl7SenderSettings) -> str:
    if mapping.provider_segment == "AIP":
        seg = first(msg, "AIP")
        family, given = value(msg, seg, 3, 1, 2), value(msg, seg, 3, 1, 3)
        name = " ".join(p for p in (given, family) if p)
        return (name or value(msg, seg, 3, 1, 1))[:100]
    if mapping.provider_segment == "AIG":
        seg = first(msg, "AIG")
        return (value(msg, seg, 3, 1, 2) or value(msg, seg, 3, 1, 1))[:100]
    return ""


def _location(msg: hl7.Message, mapping: Hl7SenderSettings) -> str:
    if not mapping.location_segment:
        return ""
    seg, field = (first(msg, "AIL"), 3) if mapping.location_segment == "AIL" else (first(msg, "PV1"), 3)
    parts = [value(msg, seg, field, 1, c) for c in (1, 2)]
    return " ".join(p for p in parts if p)[:100]
