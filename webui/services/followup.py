"""The no-show follow-up texts as the settings page shows them: per language, filled in, with their SMS length.

The preview fills in the clinic's name and a sample visit (tomorrow at
9:30 in the clinic's time zone, written as the patient's language writes
it), plus the reason when ``contact.include_reason`` is on; the length is
what the modem will send (:func:`webui.services.textback.text_row`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.reminders.followup_wording import SMS
from appliance.reminders.messages import reason_part
from appliance.reminders.when import written
from webui.services.textback import TextRow, own_texts, text_row

#: What the preview names as the reason when the clinic lets texts carry it.
SAMPLE_REASON = "check-up"


def sample_visit(cfg: Config, now: datetime) -> datetime:
    tz = ZoneInfo(cfg.clinic.timezone)
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(9, 30), tz)


def rows(cfg: Config, now: datetime, submitted: dict[str, str] | None = None) -> list[TextRow]:
    """One row per clinic language; ``submitted`` (a preview) overrides the saved texts."""
    visit = sample_visit(cfg, now)
    saved = submitted if submitted is not None else cfg.followup.texts
    out = []
    for lang in cfg.clinic.languages:
        day, hour = written(visit, lang, cfg.clinic.timezone, cfg.clinic.country)
        fields = {"clinic": cfg.clinic.name, "date": day, "time": hour}
        shipped = SMS.get(lang, SMS["en"])
        out.append(text_row(lang, saved.get(lang, "").strip(), shipped, fields, reason_part(cfg, lang, SAMPLE_REASON)))
    return out


def texts_from_form(cfg: Config, form: dict[str, str]) -> dict[str, str]:
    """The clinic's own follow-up texts from the form (blank or shipped: the shipped one)."""
    return own_texts(cfg.clinic.languages, form, SMS)
