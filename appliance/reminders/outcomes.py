"""What an attempt's outcome does: to the attempt, the reminder, the visit, the audit log.

One transaction per outcome. The attempt row gets its outcome; the
reminder is finished, retried after the back-off (inside its window) or
given up; a confirmation or cancellation changes the appointment's
status through :class:`~appliance.store.appointments.Appointments` (so
its hooks run: the visit's other pending reminders are cancelled, and a
cancelled visit is a freed slot in the web UI); and every outcome is
written to the audit log, with ids only.

Outcomes: ``confirmed``, ``cancelled``, ``desk`` (asked for the front
desk), ``voicemail`` (message left on a machine), ``no-answer``, ``busy``,
``failed``, ``opted-out``, ``sent``, ``delivered``, ``unclear-reply``,
``interrupted`` (the box stopped mid-call: it may have rung, so it is
never redialed at once, but it is retried after the back-off like an
unanswered call, so a crash before the dial loses no reminder).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from appliance.reminders.rules import Policy
from appliance.store import reminders as rows
from appliance.store.appointments import Appointments
from appliance.store.appointments import load as load_appointment
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection
from appliance.store.timefmt import from_db

log = logging.getLogger(__name__)

ACTOR = "reminders"
#: Outcomes after which the reminder may be tried again (inside its window, after the back-off).
RETRYABLE = frozenset({"no-answer", "busy", "failed", "interrupted"})
#: Outcomes that finish a reminder.
FINAL = frozenset({"confirmed", "cancelled", "desk", "voicemail", "sent", "delivered", "opted-out", "unclear-reply"})


class CallOutcome(Protocol):
    """What the switchboard reports about a call (``CallResult``)."""

    call_id: str
    answered: bool
    outcome: str
    seconds: float
    route: str


@dataclass(frozen=True)
class Applied:
    """What applying an outcome did (for the caller's logging and tests)."""

    attempt_id: int
    outcome: str
    reminder_status: str
    appointment_status: str | None


def call_outcome(result: CallOutcome, heard_details: bool = False) -> tuple[str, str]:
    """(attempt outcome, detail) of a finished reminder call."""
    if not result.answered:
        if result.outcome == "busy":
            return "busy", "the line was busy"
        if result.outcome in ("no-answer", "declined"):
            return "no-answer", "declined" if result.outcome == "declined" else "nobody answered"
        return "failed", f"the call failed ({result.outcome})"
    if result.outcome in ("confirmed", "cancelled", "desk", "voicemail"):
        return result.outcome, f"{result.seconds:.0f} s"
    what = "heard the reminder, chose nothing" if heard_details else "answered, pressed no key"
    return "no-answer", what


def next_step(
    policy: Policy, outcome: str, attempts: int, now: datetime, expires: datetime
) -> tuple[str, datetime | None]:
    """The reminder's status after an outcome, and when to try again."""
    if outcome in FINAL:
        return "done", None
    if outcome in RETRYABLE and attempts < policy.max_attempts:
        retry = policy.windows.next_open(now + policy.retry_delay(attempts), expires)
        return ("pending", retry) if retry is not None else ("expired", None)
    return "failed", None


class OutcomeWriter:
    """Applies outcomes inside the caller's transaction."""

    def __init__(self, policy: Policy, audit: AuditLog, appointments: Appointments) -> None:
        self.policy = policy
        self.audit = audit
        self.appointments = appointments

    def apply(
        self,
        conn: Connection,
        attempt_id: int,
        outcome: str,
        detail: str,
        now: datetime,
        *,
        announced_start: datetime | None = None,
        reopen: bool = False,
    ) -> Applied | None:
        """Record ``outcome`` for an attempt; None when it was already finished.

        ``reopen``: a later answer to a finished attempt (an SMS reply after
        "sent"); the reminder is then not retried or re-counted.
        ``announced_start``: the visit time the patient heard; a visit moved
        meanwhile keeps its status (the answer was about the old time).
        """
        attempt = rows.attempt_row(conn, attempt_id)
        if attempt is None:
            return None
        reminder_id, channel = int(attempt[0]), str(attempt[1])
        if not rows.finish_attempt(conn, attempt_id, outcome, detail, now, only_open=not reopen):
            return None
        reminder = rows.reminder_row(conn, reminder_id)
        if reminder is None:
            return None
        appointment_id, status, attempts, expires = int(reminder[0]), str(reminder[1]), int(reminder[2]), reminder[3]
        new_status, retry_at = next_step(self.policy, outcome, attempts, now, from_db(expires) or now)
        if reopen or status == "active":
            rows.set_reminder(conn, reminder_id, new_status if status == "active" else status, outcome, now, retry_at)
        self.audit.append(
            conn,
            ACTOR,
            f"reminder-{outcome}",
            "reminder_attempt",
            attempt_id,
            f"reminder {reminder_id}, appointment {appointment_id}, {channel}",
        )
        appointment_status = self._appointment(conn, appointment_id, outcome, announced_start)
        return Applied(attempt_id, outcome, new_status, appointment_status)

    def _appointment(
        self, conn: Connection, appointment_id: int, outcome: str, announced_start: datetime | None
    ) -> str | None:
        if outcome not in ("confirmed", "cancelled"):
            return None
        appt = load_appointment(conn, appointment_id)
        if announced_start is not None and appt.starts_at != announced_start:
            log.info("appointment %d moved during its reminder; the answer is not applied", appointment_id)
            return appt.status
        allowed = ("booked",) if outcome == "confirmed" else ("booked", "confirmed")
        if appt.status not in allowed:
            return appt.status
        return self.appointments.set_status(appointment_id, outcome, ACTOR, conn=conn).status

    def not_placed(self, conn: Connection, attempt_id: int, reason: str, now: datetime, retry_in_s: float) -> None:
        """The call or SMS was certainly never placed: the reminder goes back to
        pending (the attempt stays in the history as failed, not counted)."""
        attempt = rows.attempt_row(conn, attempt_id)
        if attempt is None:
            return
        rows.finish_attempt(conn, attempt_id, "failed", f"not placed: {reason}", now)
        reminder = rows.reminder_row(conn, int(attempt[0]))
        if reminder is not None and reminder[1] == "active":
            rows.set_reminder(
                conn, int(attempt[0]), "pending", "", now, now + timedelta(seconds=retry_in_s), attempts_delta=-1
            )

    def interrupted(self, conn: Connection, attempt_id: int, detail: str, now: datetime) -> str | None:
        """A call that may have rung (the box stopped between committing and
        the result): the reminder's status after it, None when already finished.

        It is never redialed at once, but the reminder is not dropped either
        (the crash may have come before the dial): it counts as an attempt
        and is tried again after the retry back-off, like an unanswered call,
        while attempts remain and its window is open.
        """
        attempt = rows.attempt_row(conn, attempt_id)
        if attempt is None or not rows.finish_attempt(conn, attempt_id, "interrupted", detail, now):
            return None
        reminder_id = int(attempt[0])
        reminder = rows.reminder_row(conn, reminder_id)
        status = None
        if reminder is not None and reminder[1] == "active":
            attempts, expires = int(reminder[2]), from_db(reminder[3]) or now
            status, retry_at = next_step(self.policy, "interrupted", attempts, now, expires)
            rows.set_reminder(conn, reminder_id, status, "interrupted", now, retry_at)
        self.audit.append(
            conn, ACTOR, "reminder-interrupted", "reminder_attempt", attempt_id, f"reminder {reminder_id}"
        )
        return status
