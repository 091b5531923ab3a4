"""Committing a :class:`~appliance.feeds.model.Change` to the store, inside the caller's transaction.

A refusal (:class:`MessageRejected`) propagates out of the caller's
transaction, which rolls back: the store is left as it was. Patients are
found by MRN^authority only; appointments by the feed's filler ID, else
its placer ID. Status changes go through
:meth:`~appliance.store.appointments.Appointments.set_status` and time
changes through the appointment hooks, so the reminder planner re-plans or
cancels that visit's reminders in the same transaction; every change is
audited with the feed's name and the message's control ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.errors import ValidationError
from appliance.feeds.model import REQUIRED_MISSING, Change, MessageRejected, PatientFacts
from appliance.store import appointments as appts
from appliance.store import patients as pats
from appliance.store.appointments import AppointmentInput
from appliance.store.connection import Connection
from appliance.store.patient_input import PatientInput
from appliance.store.phones import normalize
from appliance.store.repos import Repos

#: SCH-25 statuses that end the visit's reminders (a cancelled or no-show visit is not reinstated by them).
_CLOSING = ("cancelled", "no-show", "attended")


@dataclass
class Applied:
    """What one message did: ``status`` is the ledger's (applied, unchanged, held, ignored)."""

    status: str
    appointment_id: int | None = None
    patient_id: int | None = None
    #: (location, reason) of something the message lacked: held, ignored, or a dropped phone number.
    note: tuple[str, str] | None = None


class ChangeWriter:
    """Applies changes for one process; ``source`` names the feed kind (``hl7``)."""

    def __init__(self, repos: Repos, source: str = "hl7") -> None:
        self.repos = repos
        self.source = source

    def apply(self, conn: Connection, change: Change, now: str) -> Applied:
        """Apply ``change``; the caller commits.

        Raises:
            MessageRejected: a detail the store refuses (nothing written).
        """
        head = change.header
        actor = f"feed:{head.sender}"
        detail = f"{self.source} {head.message_type}^{head.trigger} control {head.control_id}"
        patient_input, note = (None, None) if change.patient is None else self._patient_input(change.patient)
        facts = change.appointment
        if facts is None:  # ADT: the patient only
            assert patient_input is not None and change.patient is not None
            pid, status = pats.merge_from_feed(conn, patient_input, now, language_given=bool(change.patient.language))
            if status != "unchanged":
                self.repos.audit.append(conn, actor, f"feed-patient-{status}", "patient", pid, detail)
            return Applied("applied" if status != "unchanged" else "unchanged", None, pid, note)
        found = appts.find_feed(conn, head.sender, facts.placer_id, facts.filler_id)
        if change.action in ("cancel", "delete", "no-show"):
            if found is None:
                return Applied("ignored", None, None, ("SCH-2", "no such appointment on the box; nothing to change"))
            done = self._set_status(conn, found, facts.status, actor, detail)
            return Applied("applied" if done else "unchanged", found.id, found.patient_id, note)
        if found is None and facts.starts_at is None:
            return Applied(
                "held", None, None, ("SCH-11", facts.held or "a new appointment without a start time: held for review")
            )
        assert patient_input is not None and change.patient is not None
        pid, pstatus = pats.merge_from_feed(conn, patient_input, now, language_given=bool(change.patient.language))
        if pstatus != "unchanged":
            self.repos.audit.append(conn, actor, f"feed-patient-{pstatus}", "patient", pid, detail)
        starts = facts.starts_at or (found.starts_at if found else None)
        ends = facts.ends_at or (found.ends_at if found else None)
        assert starts is not None
        data = self._appointment_input(pid, starts, ends, facts.provider, facts.location)
        if found is None:
            aid = appts.insert_feed(conn, head.sender, facts.placer_id, facts.filler_id, data, now)
            self.repos.audit.append(conn, actor, "create", "appointment", aid, detail)
            self.repos.appointments.run_hooks(conn, aid, "feed-booked")
            changed = True
        else:
            aid = found.id
            result = appts.update_feed(conn, found, facts.placer_id, facts.filler_id, data, now)
            changed = result != "unchanged"
            if changed:
                self.repos.audit.append(
                    conn, actor, "reschedule" if result == "moved" else "update", "appointment", aid, detail
                )
                self.repos.appointments.run_hooks(conn, aid, "feed-" + result)
            rebooked = found.status in ("cancelled", "no-show") and change.action in ("book", "reschedule")
            if rebooked and facts.status not in _CLOSING:  # the source books it again
                changed |= self._set_status(conn, appts.load(conn, aid), "booked", actor, detail)
        if facts.status in _CLOSING:
            changed |= self._set_status(conn, appts.load(conn, aid), facts.status, actor, detail)
        return Applied("applied" if changed or pstatus != "unchanged" else "unchanged", aid, pid, note)

    def _set_status(self, conn: Connection, appt: appts.Appointment, status: str, actor: str, detail: str) -> bool:
        if appt.status == status:
            return False
        self.repos.appointments.set_status(appt.id, status, actor, conn=conn)
        self.repos.audit.append(conn, actor, f"feed-{status}", "appointment", appt.id, detail)
        return True

    def _patient_input(self, facts: PatientFacts) -> tuple[PatientInput, tuple[str, str] | None]:
        region = self.repos.cfg.clinic.country
        phones, dropped = [], 0
        for raw in facts.phones:
            try:
                phones.append(normalize(raw, region))
            except ValidationError:
                dropped += 1
        note = ("PID-13", f"{dropped} phone number(s) not usable; left out") if dropped else None
        data = PatientInput(
            family_name=facts.family_name,
            given_name=facts.given_name,
            name="" if (facts.family_name or facts.given_name) else f"Patient {facts.mrn}",
            date_of_birth=facts.date_of_birth,
            phones=phones,
            language=facts.language,
            external_id=facts.external_id,
        )
        try:
            return data.validated(region, self.repos.cfg.clinic.default_language), note
        except ValidationError as exc:
            raise MessageRejected(f"the patient's details are refused: {exc}", "PID", REQUIRED_MISSING) from None

    def _appointment_input(
        self, pid: int, starts: datetime, ends: datetime | None, provider: str, location: str
    ) -> AppointmentInput:
        try:
            return AppointmentInput(
                patient_id=pid, starts_at=starts, ends_at=ends, provider=provider, location=location, source=self.source
            ).validated()
        except ValidationError as exc:
            raise MessageRejected(f"the appointment is refused: {exc}", "SCH-11") from None
