"""The Waitlist page's data: entries from the form, the offers, and the offer texts per
language with their SMS length (the text-back page's helper, :func:`webui.services.textback.length`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.config import Config
from appliance.store.waitlist import EntryInput
from appliance.waitlist import OFFER, wording
from webui.services.textback import length


@dataclass(frozen=True)
class OfferTextRow:
    language: str
    own: str
    shipped: str
    preview: str
    encoding: str
    parts: int
    chars: int
    error: str = ""


def entry_from_form(form: dict[str, str], patient_id: int) -> EntryInput:
    """The form's fields as an entry (:meth:`EntryInput.validated` judges them)."""
    try:
        duration = int(form.get("duration_min", "15") or 15)
    except ValueError:
        duration = 0  # refused by the validation with the field named
    return EntryInput(
        patient_id=patient_id,
        provider=form.get("provider", ""),
        location=form.get("location", ""),
        earliest=form.get("when", "earliest") == "earliest",
        from_date=form.get("from_date", "") if form.get("when") == "range" else "",
        to_date=form.get("to_date", "") if form.get("when") == "range" else "",
        weekdays="".join(d for d in "0123456" if form.get(f"day{d}")) if form.get("when") == "range" else "",
        from_time=form.get("from_time", "") if form.get("when") == "range" else "",
        to_time=form.get("to_time", "") if form.get("when") == "range" else "",
        duration_min=duration,
        note=form.get("note", ""),
    )


def sample_start(now: datetime) -> datetime:
    """A slot tomorrow at 10:30 UTC-ish: the preview's date and time."""
    return (now + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)


def offer_rows(cfg: Config, now: datetime, submitted: dict[str, str] | None = None) -> list[OfferTextRow]:
    """One row per clinic language; ``submitted`` (a preview) overrides the saved texts."""
    out = []
    start = sample_start(now)
    for lang in cfg.clinic.languages:
        own = (submitted if submitted is not None else cfg.waitlist.offer_texts).get(lang, "")
        shipped = OFFER.get(lang) or OFFER["en"]
        template = own.strip() or shipped
        try:
            preview, error = wording.offer_text(cfg, lang, start, template), ""
        except (KeyError, IndexError, ValueError) as exc:
            preview, error = template, f"only {{clinic}}, {{date}}, {{time}}, {{minutes}} may be filled in ({exc})"
        encoding, parts, problem = length(preview)
        out.append(OfferTextRow(lang, own, shipped, preview, encoding, parts, len(preview), error or problem))
    return out


def texts_from_form(cfg: Config, form: dict[str, str]) -> dict[str, str]:
    """The texts the manager typed; empty ones fall back to the shipped text (not saved)."""
    return {
        lang: form.get(f"text.{lang}", "").strip()
        for lang in cfg.clinic.languages
        if form.get(f"text.{lang}", "").strip()
    }
