"""Patients for the web UI: search, the record page, forms, export, erase.

Reads go through :class:`appliance.store.patients.Patients`, which audits
them (view, search, export, erase). Form input becomes a
:class:`PatientInput`; its validation message names each bad field, and
:func:`field_errors` splits it so the form shows each error beside its
field while keeping everything the user typed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from appliance.store import contacts as contact_rows
from appliance.store.appointments import Appointment
from appliance.store.patient_input import PatientInput
from appliance.store.patients import Patient
from appliance.store.repos import Repos

log = logging.getLogger(__name__)

FIELDS = ("family_name", "given_name", "name", "date_of_birth", "phones", "language", "reminder_channel", "notes")


@dataclass(frozen=True)
class Contact:
    at: str
    direction: str
    purpose: str
    disposition: str | None
    queue: str | None
    agent: str | None
    note: str


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    appointments: list[Appointment]
    contacts: list[Contact]
    consent: list[contact_rows.ConsentEvent] = field(default_factory=list)
    texts: dict[int, list[contact_rows.TraceRow]] = field(default_factory=dict)


def record(repos: Repos, patient_id: int, actor: str) -> PatientRecord:
    """Everything the record page shows (one audited ``view``)."""
    patient = repos.patients.get(patient_id, actor)
    conn = repos.store.connection()
    appointments = repos.appointments.for_patient(conn, patient_id)
    contacts = [
        Contact(*row)
        for row in conn.execute(
            "SELECT started_at, direction, purpose, disposition, queue, agent, note FROM calls"
            " WHERE patient_id = ? ORDER BY started_at DESC LIMIT 20",
            (patient_id,),
        )
    ]
    consent = contact_rows.history(conn, patient_id)
    texts = {a.id: contact_rows.for_appointment(conn, a.id) for a in appointments}
    return PatientRecord(patient, appointments, contacts, consent, texts)


def form_input(form: Any) -> PatientInput:
    """A :class:`PatientInput` from a submitted form (nothing validated yet)."""
    phones = [line.strip() for line in str(form.get("phones", "")).replace(",", "\n").splitlines() if line.strip()]
    return PatientInput(
        family_name=str(form.get("family_name", "")),
        given_name=str(form.get("given_name", "")),
        date_of_birth=str(form.get("date_of_birth", "")),
        phones=phones,
        language=str(form.get("language", "")),
        reminder_channel=str(form.get("reminder_channel", "sms")),
        consent_reminders=form.get("consent_reminders") == "on",
        consent_recording=form.get("consent_recording") == "on",
        notes=str(form.get("notes", "")),
        external_id=str(form.get("external_id", "")),
    )


def form_values(patient: Patient | None) -> dict[str, Any]:
    if patient is None:
        return {"consent_reminders": True, "consent_recording": True, "reminder_channel": "sms", "phones": ""}
    return {
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth or "",
        "phones": "\n".join(p.e164 for p in patient.phones),
        "language": patient.language,
        "reminder_channel": patient.reminder_channel,
        "consent_reminders": patient.consent_reminders,
        "consent_recording": patient.consent_recording,
        "notes": patient.notes,
        "external_id": patient.external_id or "",
    }


def field_errors(message: str) -> dict[str, str]:
    """``"name: missing; phone 1: not valid"`` -> {field: message}."""
    errors: dict[str, str] = {}
    for part in message.split("; "):
        key, _, text = part.partition(": ")
        if not text:
            errors.setdefault("_", part)
            continue
        if key.startswith("phone"):
            key = "phones"
        elif key == "name":
            key = "family_name"
        errors[key] = f"{errors[key]}; {text}" if key in errors else text
    return errors


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


def export_csv(data: dict[str, Any]) -> str:
    """One row per value: section, record number, field, value (complete and
    readable in any spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "record", "field", "value"])
    patient = dict(data["patient"])
    phones = patient.pop("phones", [])
    for key, value in patient.items():
        writer.writerow(["patient", 1, key, _cell(value)])
    for i, phone in enumerate(phones, 1):
        for key, value in phone.items():
            writer.writerow(["phones", i, key, _cell(value)])
    for section, rows in data.items():
        if section == "patient":
            continue
        for i, row in enumerate(rows, 1):
            for key, value in row.items():
                writer.writerow([section, i, key, _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    """Spreadsheet-safe text: a leading = + - @ would run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def erase(repos: Repos, patient_id: int, actor: str) -> int:
    """Erase one patient and their media files; returns how many files went."""
    media = repos.patients.erase(patient_id, actor)
    removed = 0
    for name in media:
        try:
            repos.media.delete(name)
            removed += 1
        except Exception:  # a damaged media name must not stop the erase; logged for a technician
            log.exception("could not delete a media file of erased patient %s", patient_id)
    return removed
