"""Turning form fields into typed values, with errors a person can act on.

Each parser raises :class:`~appliance.errors.ValidationError` naming the
field, so a bad value never becomes a 500 and the form can be shown again
with what the user typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from appliance.errors import ValidationError
from appliance.store.appointments import AppointmentInput
from webui.i18n import gettext as _

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(_("%(field)s: not a date; write YYYY-MM-DD", field=field)) from None


def parse_time(value: str, field: str) -> time:
    match = _TIME.match(value.strip())
    if not match:
        raise ValidationError(_("%(field)s: not a time; write HH:MM", field=field))
    return time(int(match[1]), int(match[2]))


def parse_int(value: str, field: str, low: int, high: int) -> int:
    text = value.strip()
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise ValidationError(_("%(field)s: write a whole number", field=field))
    number = int(text)
    if not low <= number <= high:
        raise ValidationError(_("%(field)s: must be between %(low)s and %(high)s", field=field, low=low, high=high))
    return number


def appointment_input(form: Any, patient_id: int, timezone: str) -> AppointmentInput:
    """A new appointment from the booking form (date, time, minutes, provider...)."""
    tz = ZoneInfo(timezone)
    day = parse_date(str(form.get("date", "")), _("Date"))
    start = parse_time(str(form.get("time", "")), _("Time"))
    minutes = parse_int(str(form.get("duration_min", "15") or "15"), _("Minutes"), 5, 720)
    return AppointmentInput(
        patient_id=patient_id,
        starts_at=datetime.combine(day, start, tz),
        duration_min=minutes,
        provider=str(form.get("provider", "")),
        location=str(form.get("location", "")),
        reason=str(form.get("reason", "")),
    )
