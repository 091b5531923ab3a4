"""Config sections for the contact policy and the missed-call text-back.

``[contact]`` holds the limits every message to a patient obeys (see
:mod:`appliance.contact.policy`); quiet hours are the hours outside
``[reminders.windows]``, the one "when may we contact a patient" table.
``[textback]`` says who gets a text after a missed call, and what it reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

#: Missed calls that may get a text-back (the callback list's sources).
MISSED_SOURCES = ("abandoned", "busy", "overflow", "after-hours")


def _sources(value: Any) -> str | None:
    unknown = sorted(set(value) - set(MISSED_SOURCES))
    if unknown:
        return f"unknown kind of missed call {unknown[0]!r}; use {', '.join(MISSED_SOURCES)}"
    return None


@dataclass(frozen=True)
class ContactSettings:
    per_day: int = setting(
        doc="At most this many messages to one patient (or number) a day, all kinds together (TCPA: 1).",
        min=1,
        max=20,
    )
    per_week: int = setting(doc="At most this many in 7 days, all kinds together (TCPA: 3).", min=1, max=50)
    text_ambiguous_numbers: bool = setting(
        doc="Text numbers whose plan cannot tell mobile from landline (US, Canada); false = never."
    )
    include_reason: bool = setting(
        doc="Texts name the reason for the visit (off: only the clinic's name and the time, as GDPR and "
        "HIPAA's minimum-necessary rule expect; on: reminders and follow-ups add the reason)."
    )


@dataclass(frozen=True)
class TextbackSettings:
    enabled: bool = setting(doc="Send one SMS to callers the clinic missed (needs the modem).")
    sources: list[str] = setting(
        doc="Which missed calls get a text: abandoned, busy, overflow, after-hours.", check=_sources
    )
    period_h: int = setting(doc="At most one text-back per number in this many hours.", min=1, max=24 * 30)
    stale_min: int = setting(
        doc="A text-back still waiting for the contact window after this many minutes is dropped.",
        min=1,
        max=24 * 60,
    )
    texts: dict[str, str] = setting(
        doc="The text per language; {clinic} is the clinic's name. Unset languages use the shipped text."
    )


def contact_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    if cfg.contact.per_week < cfg.contact.per_day:
        yield "contact.per_week", f"{cfg.contact.per_week} is fewer than contact.per_day ({cfg.contact.per_day})"
    for lang, text in cfg.textback.texts.items():
        if lang not in cfg.clinic.languages:
            yield f"textback.texts.{lang}", f"{lang} is not one of clinic.languages"
        elif not text.strip():
            yield f"textback.texts.{lang}", "empty; remove it to use the shipped text"
        elif len(text) > 600:
            yield f"textback.texts.{lang}", "longer than 600 characters; keep it to one or two SMS"
        else:
            try:
                text.format(clinic="")
            except (KeyError, IndexError, ValueError) as exc:
                yield f"textback.texts.{lang}", f"only {{clinic}} may be filled in ({exc})"
