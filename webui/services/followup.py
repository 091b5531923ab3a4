"""The no-show follow-up texts as the settings page shows them: per language, filled in, with their SMS length.

The preview fills in the clinic's name and a sample visit (tomorrow at
9:30 in the clinic's time zone, written as the patient's language writes
it), plus the reason when ``contact.include_reason`` is on; the length is
what the modem will send (:func:`webui.services.textback.length`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.reminders.followup_wording import SMS
from appliance.reminders.messages import reason_part
from appliance.reminders.when import written
from webui.services.textback import TextRow, length

#: What the preview names as the reason when the clinic lets texts carry it.
SAMPLE_REASON = "check-up"


def sample_visit(cfg: Config, now: datetime) -> datetime:
    tz = ZoneInfo(cfg.clinic.timezone)
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(9, 30), tz)


def rows(cfg: Config, now: datetime, submitted: dict[str, str] | None = None) -> list[TextRow]:
    """One row per clinic language; ``submitted`` (a preview) overrides the saved texts."""
    visit = sample_visit(cfg, now)
    out = []
    for lang in cfg.clinic.languages:
        shipped = SMS.get(lang, SMS["en"])
        own = (submitted if submitted is not None else cfg.followup.texts).get(lang, "").strip()
        template = own or shipped
        day, hour = written(visit, lang, cfg.clinic.timezone, cfg.clinic.country)
        try:
            preview, error = template.format(clinic=cfg.clinic.name, date=day, time=hour), ""
        except (KeyError, IndexError, ValueError) as exc:
            preview, error = template, f"only {{clinic}}, {{date}} and {{time}} may be filled in ({exc})"
        preview += reason_part(cfg, lang, SAMPLE_REASON)
        encoding, parts, problem = length(preview)
        out.append(TextRow(lang, own, shipped, preview, encoding, parts, len(preview), error or problem))
    return out


def texts_from_form(cfg: Config, form: dict[str, str]) -> dict[str, str]:
    """The clinic's own texts from the form: blank or the shipped text means "use the shipped one"."""
    texts = {}
    for lang in cfg.clinic.languages:
        value = str(form.get(f"text.{lang}", "")).strip()
        if value and value != SMS.get(lang, SMS["en"]):
            texts[lang] = value
    return texts
