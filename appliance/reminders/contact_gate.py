"""The contact policy as the reminder SMS see it: may this text go to this patient now?

The same rules as every other message (:mod:`appliance.contact.policy`):
opt-out (the patient's or the number's), mobiles only, and the caps per
day and week across all kinds of message. Quiet hours are the reminders'
own calling windows, which the planner and the dispatcher already keep
(a text queued as a window closes is held, not dropped:
:meth:`~appliance.reminders.sms_delivery.TextReminders.hold_outside_windows`),
so the gate does not skip for them.
"""

from __future__ import annotations

from datetime import datetime

from appliance.config import Config
from appliance.contact import Limits, Request, decide, line_type
from appliance.store import contacts
from appliance.store.connection import Connection
from appliance.store.reminders import Due


class ContactGate:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def check(self, conn: Connection, due: Due, number: str, now: datetime) -> str:
        """ "" when the SMS may go, else the reason it is skipped (see :data:`appliance.contact.REASONS`)."""
        cfg = self.cfg
        line = line_type(number, cfg.clinic.country, ambiguous_is_mobile=cfg.contact.text_ambiguous_numbers)
        request = Request(
            "reminder",
            line,
            contacts.opted_out(conn, due.patient_id, number),
            True,  # the calling windows are kept by the dispatcher, which holds rather than skips
            contacts.capped_sends(conn, due.patient_id, number, contacts.week_ago(now)),
        )
        return decide(request, Limits(cfg.contact.per_day, cfg.contact.per_week), now, cfg.clinic.timezone).reason
