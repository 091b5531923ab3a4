"""A patient as a person or an import gives it, checked and normalised before it is stored.

:func:`patient_from_row` reads one import file row; the importer and the
parallel row checker (:mod:`appliance.store.importpool`) both use it.

Names in any script, E.164 phone numbers (the clinic's country for local
numbers), one of the six languages, a reminder channel, consent flags.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

from appliance.config.checks import LANGUAGES
from appliance.errors import ValidationError
from appliance.store.names import display_name, fold
from appliance.store.phones import normalize

CHANNELS = ("voice", "sms", "both", "none")
_TRUE = {"1", "yes", "y", "true", "tak", "sí", "si", "evet", "예", "是"}
_FALSE = {"0", "no", "n", "false", "nie", "hayır", "hayir", "아니오", "否"}
_CONTROL = re.compile("[\x00-\x1f\x7f]")
PHONE_KINDS = ("mobile", "home", "work", "other")


@dataclass(slots=True)
class PatientInput:
    """What a person or an import gives us; :meth:`validated` checks and normalises."""

    family_name: str = ""
    given_name: str = ""
    name: str = ""  # a single full name, when family/given are not separate
    date_of_birth: str = ""
    phones: list[str] = field(default_factory=list)
    language: str = ""
    reminder_channel: str = "sms"
    consent_reminders: bool = True
    consent_recording: bool = True
    notes: str = ""
    external_id: str = ""
    #: ``fold(name)``, filled in by :meth:`validated` (search and identity use it).
    name_search: str = ""

    def validated(self, region: str, default_language: str) -> PatientInput:
        """Return a normalised copy.

        Raises:
            ValidationError: with every problem, field by field (values not echoed).
        """
        problems = []
        family, given, full = self.family_name.strip(), self.given_name.strip(), self.name.strip()
        if not (family or given or full):
            problems.append("name: missing (give family_name/given_name or name)")
        for label, value in (("family_name", family), ("given_name", given), ("name", full)):
            if len(value) > 200:
                problems.append(f"{label}: longer than 200 characters")
            if _CONTROL.search(value):
                problems.append(f"{label}: contains control characters")
        dob = self.date_of_birth.strip()
        if dob:
            try:
                born = date.fromisoformat(dob)
            except ValueError:
                problems.append("date_of_birth: not a date; write YYYY-MM-DD")
            else:
                if born > date.today() or born.year < 1890:
                    problems.append("date_of_birth: outside the plausible range")
                dob = born.isoformat()
        phones = []
        for i, raw in enumerate(p for p in self.phones if p and p.strip()):
            try:
                number = normalize(raw, region)
            except ValidationError as exc:
                problems.append(f"phone {i + 1}: {exc}")
            else:
                if number not in phones:
                    phones.append(number)
        language = (self.language or default_language).strip().lower()
        if language not in LANGUAGES:
            problems.append(f"language: must be one of {', '.join(LANGUAGES)}")
        channel = (self.reminder_channel or "sms").strip().lower()
        if channel not in CHANNELS:
            problems.append(f"reminder_channel: must be one of {', '.join(CHANNELS)}")
        if channel in ("voice", "sms", "both") and not phones:
            channel = "none"
        if len(self.notes) > 4000:
            problems.append("notes: longer than 4000 characters")
        if len(self.external_id) > 64:
            problems.append("external_id: longer than 64 characters")
        if problems:
            raise ValidationError("; ".join(problems))
        shown = full or display_name(family, given)
        return PatientInput(
            family_name=family,
            given_name=given,
            name=shown,
            name_search=fold(shown),
            date_of_birth=dob,
            phones=phones,
            language=language,
            reminder_channel=channel,
            consent_reminders=bool(self.consent_reminders),
            consent_recording=bool(self.consent_recording),
            notes=self.notes.strip(),
            external_id=self.external_id.strip(),
        )

    def import_key(self) -> str:
        """Identity for idempotent imports: the clinic's id, else name + birth date."""
        if self.external_id:
            return f"ext:{self.external_id}"
        basis = f"{self.name_search or fold(self.name)}|{self.date_of_birth}"
        return "nd:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _bool(value: str, name: str, default: bool) -> bool:
    if not value:
        return default
    v = value.strip().casefold()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValidationError(f"{name}: write yes or no")


def patient_from_row(row: dict[str, str], region: str, language: str) -> PatientInput:
    """One CSV row as a checked patient (raises ValidationError with the reasons)."""
    phones = [p for chunk in row.get("phone", "").replace("|", ";").split(";") for p in [chunk.strip()] if p]
    return PatientInput(
        family_name=row.get("family_name", ""),
        given_name=row.get("given_name", ""),
        name=row.get("name", ""),
        date_of_birth=row.get("date_of_birth", ""),
        phones=phones,
        language=row.get("language", ""),
        reminder_channel=row.get("reminder_channel", "") or "sms",
        consent_reminders=_bool(row.get("consent_reminders", ""), "consent_reminders", True),
        notes=row.get("notes", ""),
        external_id=row.get("external_id", ""),
    ).validated(region, language)
