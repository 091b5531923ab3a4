"""Incoming SMS for staff: the replies the reminder module could not read
and every other text patients send to the clinic's mobile number."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.errors import NotFoundError
from appliance.store.repos import Repos
from appliance.store.sms import SmsRepo

STATUSES = ("new", "handled", "all")


@dataclass(frozen=True)
class Message:
    id: int
    number: str
    patient_id: int | None
    patient_name: str | None
    body: str
    received_at: str
    partial: bool
    handled: bool
    handled_by: str | None
    #: Why the reminders left it for the desk (a code; ``ui_text.reply_reasons`` translates it).
    reason: str | None = None


def messages(repos: Repos, actor: str, status: str, limit: int = 200) -> list[Message]:
    """Incoming SMS, newest first; reading them is audited (they are patient data)."""
    where = {"new": " AND m.handled = 0", "handled": " AND m.handled = 1", "all": ""}[status]
    rows = repos.store.query(
        "SELECT m.id, m.number, m.patient_id, p.display_name, m.body, m.created_at, m.status = 'partial',"
        " m.handled, m.handled_by, m.reply_reason FROM sms_messages m LEFT JOIN patients p ON p.id = m.patient_id"
        f" WHERE m.direction = 'in'{where} ORDER BY m.created_at DESC LIMIT ?",
        (limit,),
    )
    items = [Message(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8], r[9]) for r in rows]
    repos.audit.record(actor, "view", "sms", "", f"{len(items)} incoming messages ({status})")
    return items


def mark_handled(repos: Repos, sms_id: int, actor: str) -> None:
    row = repos.store.query_one("SELECT 1 FROM sms_messages WHERE id = ? AND direction = 'in'", (sms_id,))
    if row is None:
        raise NotFoundError(f"no incoming message {sms_id}")
    SmsRepo(repos.store, repos.store.clock).mark_handled(sms_id, actor)
    repos.audit.record(actor, "sms-handled", "sms", sms_id)


def unhandled_count(repos: Repos) -> int:
    row = repos.store.query_one("SELECT count(*) FROM sms_messages WHERE direction = 'in' AND handled = 0")
    return int(row[0]) if row else 0
