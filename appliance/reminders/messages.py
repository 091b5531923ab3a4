"""Filling in a reminder for one visit: the prompts of the call, the SMS text.

Only the clinic's name, the visit's day and time, (optionally) the
provider's name and the clinic's number go into a reminder; the reason
for the visit only when the clinic turned on ``contact.include_reason``.

Example:
    >>> sms_text(cfg, "reminder", starts_at, "es")                     # doctest: +SKIP
    'Clínica Sol: le recordamos su cita el mar 3 de marzo a las 9:30. Responda 1 o SÍ ...'
"""

from __future__ import annotations

from datetime import datetime

from appliance.config import Config
from appliance.ivr.prompts import PromptRef
from appliance.reminders.when import spoken, written
from appliance.reminders.wording import REASON_TEXTS, SMS_TEXTS
from appliance.store.phones import display


def language_of(cfg: Config, language: str) -> str:
    """The patient's language if the clinic offers it, else the clinic's default."""
    return language if language in cfg.clinic.languages else cfg.clinic.default_language


def voice_refs(cfg: Config, starts_at: datetime, language: str, provider: str) -> tuple[PromptRef, PromptRef | None]:
    """The visit's "when" prompt and, if the clinic wants it, the provider's."""
    day, hour = spoken(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    when = PromptRef.of("reminder_when", date=day, time=hour)
    named = PromptRef.of("reminder_provider", provider=provider) if cfg.reminders.speak_provider and provider else None
    return when, named


def sms_text(cfg: Config, kind: str, starts_at: datetime, language: str, reason: str = "") -> str:
    """One of the SMS in :data:`~appliance.reminders.wording.SMS_TEXTS`, filled in (``reason``:
    the visit's, named only with ``contact.include_reason``)."""
    day, hour = written(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    phone = display(cfg.clinic.phone_number, cfg.clinic.country) if cfg.clinic.phone_number else ""
    call = SMS_TEXTS["call"][language].format(phone=phone) if phone else ""
    call = reason_part(cfg, language, reason) + call
    return SMS_TEXTS[kind][language].format(clinic=cfg.clinic.name, date=day, time=hour, call=call)


def reason_part(cfg: Config, language: str, reason: str) -> str:
    """ " Visit: <reason>." when the clinic turned on ``contact.include_reason`` and there is one, else ""."""
    reason = " ".join(reason.split())
    if not cfg.contact.include_reason or not reason:
        return ""
    return REASON_TEXTS.get(language, REASON_TEXTS["en"]).format(reason=reason)
