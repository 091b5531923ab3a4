"""Replies to a no-show follow-up SMS: the modem's ``on_incoming`` hook, after the reminders' own.

A message from a number that got a follow-up in the last
``followup.reply_h`` hours is its answer, whatever it says ("yes", "next
Tuesday?", "no thanks"): it goes to the front desk's worklist with what the
patient wrote and how the reminders' reader took it (a yes, a no, or
unclear), is audited, and is claimed (the worklist holds it). A message that
is only STOP, START or HELP is left to the contact keywords
(:mod:`appliance.textback.inbox`), which opt the patient out or in.

Runs on the modem's worker thread: one short transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import keyword
from appliance.privacy import mask_phone
from appliance.reminders.replies import CANCEL, CONFIRM, read_reply
from appliance.reminders.replies_lexicon import preload
from appliance.store import followups, worklist
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.sms import set_reply_reason
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)

HANDLED_BY = "followup"
REPLY_REASON = "followup-reply"  # one of appliance.reminders.replies.REASONS
#: How the reply reads, for the desk.
READS = {CONFIRM: "wants a new appointment", CANCEL: "does not want a new appointment"}
#: The patient's words kept on the worklist (an SMS is at most a few parts).
MAX_WORDS = 480


class IncomingMessage(Protocol):
    sms_id: int
    number: str
    text: str


class FollowUpReplies:
    """``modem.on_incoming(FollowUpReplies(...))``; returns ``"followup"`` when it took the message."""

    def __init__(self, cfg: Config, clock: Clock, store: Store, audit: AuditLog) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.audit = audit

    def __call__(self, message: IncomingMessage) -> str | None:
        if self.store.locked or keyword(message.text) is not None:
            return None
        now = self.clock.now()
        since = now - timedelta(hours=self.cfg.followup.reply_h)
        with self.store.transaction() as conn:
            target = followups.for_reply(conn, message.number, since)
            if target is None:
                return None
            preload()
            reading = read_reply(message.text, target.language)
            reads = READS.get(str(reading.meaning), "unclear: read it")
            words = " ".join(message.text.split())[:MAX_WORDS]
            detail = f'SMS reply to the no-show follow-up ({reads}): "{words}"'
            followups.answered(conn, target.id, now, detail)
            set_reply_reason(conn, message.sms_id, REPLY_REASON)
            item = worklist.add(conn, to_db(now), target.appointment_id, "rebook", detail)
            self.audit.append(
                conn, HANDLED_BY, "followup-answer", "worklist", item,
                f"appointment {target.appointment_id}: SMS {message.sms_id}",
            )  # fmt: skip
        log.info("reply to a no-show follow-up from %s: on the worklist (%s)", mask_phone(message.number), reads)
        return HANDLED_BY
