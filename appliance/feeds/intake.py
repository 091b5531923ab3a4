"""One message in, one acknowledgement out: read, map, commit, then answer.

:class:`Intake` is what the MLLP listener (and the status page's
"re-process") calls with a message's bytes. The ACK is built only after
the transaction that applied the message has committed; a message that
cannot be read or applied is refused with the reason and the field, and
the transaction is rolled back so nothing changes. The ledger
(:mod:`appliance.store.feeds`) answers a replayed control ID as before
without applying it again.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

from appliance.clock import Clock
from appliance.config import Config
from appliance.config.feeds import Hl7SenderSettings
from appliance.feeds import ack, hl7read
from appliance.feeds.apply import Applied, ChangeWriter
from appliance.feeds.hl7map import to_change
from appliance.feeds.model import INTERNAL_ERROR, Header, MessageRejected
from appliance.store import feeds as ledger
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)
_DEFAULT_MAPPING = Hl7SenderSettings()


@dataclass(frozen=True)
class Outcome:
    """What became of one message: the ACK to send and how it was filed."""

    ack: str
    code: str
    status: str
    reason: str = ""
    location: str = ""


class Intake:
    """Reads, applies and acknowledges HL7 messages for one process (thread-safe)."""

    def __init__(self, cfg: Config, repos: Repos, clock: Clock) -> None:
        self.cfg = cfg
        self.repos = repos
        self.clock = clock
        self.writer = ChangeWriter(repos)
        #: refusals without a control ID (nothing to key a ledger row on): (time, reason).
        self.unkeyed: deque[tuple[str, str]] = deque(maxlen=20)
        self._lock = threading.Lock()

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg

    def mapping(self, head: Header) -> Hl7SenderSettings:
        return self.cfg.feeds.hl7.senders.get(head.sending_application, _DEFAULT_MAPPING)

    def handle(self, data: bytes, *, reprocess: bool = False) -> Outcome:
        """Apply one message (the frame's payload) and return its acknowledgement.

        ``reprocess``: a manager re-runs a stored message after fixing the
        mapping; the ledger's earlier answer does not short-circuit it.
        """
        try:
            text = hl7read.decode(data)
        except MessageRejected as exc:
            return self._refused(exc, None, "", to_db(self.clock.now()))
        return self.handle_text(text, reprocess=reprocess)

    def handle_text(self, text: str, *, reprocess: bool = False) -> Outcome:
        """:meth:`handle` for a message already decoded (a stored one being re-processed)."""
        stamp = to_db(self.clock.now())
        try:
            msg = hl7read.parse(text)
            head = hl7read.header(msg)
        except MessageRejected as exc:
            return self._refused(exc, exc.header, hl7read.normalise(text), stamp)
        raw = hl7read.normalise(text)
        try:
            change = to_change(msg, head, self.mapping(head), self.cfg.clinic.timezone)
        except MessageRejected as exc:
            return self._refused(exc, head, raw, stamp)
        kind = f"{head.message_type}^{head.trigger}"
        try:
            with self.repos.store.transaction() as conn:
                seen = None if reprocess else ledger.find(conn, head.sender, head.control_id)
                if seen is not None and seen.status in ledger.SETTLED:
                    ledger.count_replay(conn, seen.id)
                    note = (seen.location, seen.reason) if seen.reason else None
                    log.info("feed %s: control ID %s replayed; answered as before", head.sender, head.control_id)
                    return self._answer(head, Applied(seen.status, seen.appointment_id, None, note))
                applied = self.writer.apply(conn, change, stamp)
                location, reason = applied.note or ("", "")
                ledger.record(
                    conn,
                    feed=head.sender,
                    control_id=head.control_id,
                    received_at=stamp,
                    message_type=kind,
                    status=applied.status,
                    ack_code="AA",
                    raw=raw,
                    reason=reason,
                    location=location,
                    appointment_id=applied.appointment_id,
                    patient_id=applied.patient_id,
                )
        except MessageRejected as exc:  # rolled back: nothing changed
            return self._refused(exc, head, raw, stamp)
        except Exception:
            log.exception("feed %s: control ID %s could not be applied", head.sender, head.control_id)
            failure = MessageRejected("the box could not store the message; send it again", "", INTERNAL_ERROR)
            return self._refused(failure, head, raw, stamp, record=False)
        log.info("feed %s: %s control ID %s %s", head.sender, kind, head.control_id, applied.status)
        return self._answer(head, applied)

    def _answer(self, head: Header, applied: Applied) -> Outcome:
        location, reason = applied.note or ("", "")
        text = ack.build(
            head,
            "AA",
            application=self.cfg.feeds.hl7.receiving_application,
            now=self.clock.now(),
            error=(location, "207" if applied.status == "held" else "204", reason) if reason else None,
            severity="W",
        )
        return Outcome(text, "AA", applied.status, reason, location)

    def _refused(
        self, exc: MessageRejected, head: Header | None, raw: str, stamp: str, *, record: bool = True
    ) -> Outcome:
        text = ack.build(
            head,
            exc.ack,
            application=self.cfg.feeds.hl7.receiving_application,
            now=self.clock.now(),
            error=(exc.location, exc.code, exc.reason),
        )
        if head is None:
            self.unkeyed.append((stamp, f"{exc.location}: {exc.reason}" if exc.location else exc.reason))
        elif record:
            try:
                with self.repos.store.transaction() as conn:
                    ledger.record(
                        conn,
                        feed=head.sender,
                        control_id=head.control_id,
                        received_at=stamp,
                        message_type=f"{head.message_type}^{head.trigger}",
                        status="rejected",
                        ack_code=exc.ack,
                        raw=raw,
                        reason=exc.reason,
                        location=exc.location,
                    )
            except Exception:
                log.exception("feed %s: the refusal of control ID %s was not recorded", head.sender, head.control_id)
        log.warning(
            "feed %s: message refused (%s) at %s: %s",
            head.sender if head else "?",
            exc.ack,
            exc.location or "-",
            exc.reason,
        )
        return Outcome(text, exc.ack, "rejected", exc.reason, exc.location)

    def oversize(self, start: bytes, limit: int) -> str:
        """The AR for a frame larger than ``limit`` bytes, echoing its control ID when its MSH is readable."""
        head = None
        try:
            first_segment = hl7read.normalise(start.decode("utf-8", "replace")).split("\r")[0]
            head = hl7read.header(hl7read.parse(first_segment))
        except MessageRejected as exc:
            head = exc.header
        reason = f"the message is larger than {limit // 1024} KB (feeds.hl7.max_message_kb); nothing was applied"
        refusal = MessageRejected(reason, "", INTERNAL_ERROR, "AR")
        return self._refused(refusal, head, "", to_db(self.clock.now())).ack

    def reprocess(self, entry_id: int, actor: str) -> Outcome:
        """Run a stored (rejected or held) message again, e.g. after fixing the mapping; audited."""
        with self.repos.store.transaction() as conn:
            entry, raw = ledger.raw_message(conn, entry_id)
            self.repos.audit.append(conn, actor, "feed-reprocess", "feed-message", entry_id, entry.message_type)
        return self.handle_text(raw, reprocess=True)
