"""One message in, one acknowledgement out: read, map, commit, then answer.

:class:`Intake` is what the MLLP listener (and the feed page's
"re-process") calls with a message's bytes. Reading and mapping (pure)
run on the caller's thread; the store is written by one writer thread
that takes every message waiting at that moment into one transaction,
each message in its own savepoint (a refused one undoes only its own
writes), and commits them together: one disk flush for the batch instead
of one per message, and no two connections' threads fighting for the
write lock. The ACKs are built and handed back only after that commit; a
message that cannot be read or applied is refused with the reason and
the field and changes nothing. The ledger (:mod:`appliance.store.feeds`)
answers a replayed control ID as before without applying it again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from dataclasses import dataclass, field

from appliance.clock import Clock
from appliance.config import Config
from appliance.config.feeds import Hl7SenderSettings
from appliance.feeds import ack, hl7read
from appliance.feeds.apply import Applied, ChangeWriter
from appliance.feeds.hl7map import to_change
from appliance.feeds.model import INTERNAL_ERROR, Change, Header, MessageRejected
from appliance.store import feeds as ledger
from appliance.store.connection import Connection
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)
_DEFAULT_MAPPING = Hl7SenderSettings()
#: Most messages committed together (each still has its own savepoint and ACK).
MAX_BATCH = 64


@dataclass(frozen=True)
class Outcome:
    """What became of one message: the ACK to send and how it was filed."""

    ack: str
    code: str
    status: str
    reason: str = ""
    location: str = ""


class _Reply:
    """One outcome handed from the writer thread to the waiting caller.

    A bare lock, taken at birth and released by :meth:`set`: the caller's
    :meth:`wait` is one blocking acquire in C, where a ``Future`` takes a
    Condition, a fresh waiter lock and a notify_all for every message.
    """

    __slots__ = ("_lock", "outcome")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.outcome: Outcome | None = None

    def set(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self._lock.release()

    def wait(self) -> Outcome:
        self._lock.acquire()
        assert self.outcome is not None
        return self.outcome


@dataclass
class _Job:
    head: Header | None
    raw: str
    stamp: str
    change: Change | None = None
    refusal: MessageRejected | None = None
    reprocess: bool = False
    done: _Reply = field(default_factory=_Reply)


class Intake:
    """Reads, applies and acknowledges HL7 messages for one process (thread-safe)."""

    def __init__(self, cfg: Config, repos: Repos, clock: Clock) -> None:
        self.cfg = cfg
        self.repos = repos
        self.clock = clock
        self.writer = ChangeWriter(repos)
        #: refusals without a control ID (nothing to key a ledger row on): (time, reason).
        self.unkeyed: deque[tuple[str, str]] = deque(maxlen=20)
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg

    def mapping(self, head: Header) -> Hl7SenderSettings:
        return self.cfg.feeds.hl7.senders.get(head.sending_application, _DEFAULT_MAPPING)

    # -- the caller's side: read and map, then wait for the commit ------------------------------
    def handle(self, data: bytes, *, reprocess: bool = False) -> Outcome:
        """Apply one message (the frame's payload) and return its acknowledgement.

        ``reprocess``: a manager re-runs a stored message after fixing the
        mapping; the ledger's earlier answer does not short-circuit it.
        """
        try:
            text = hl7read.decode(data)
        except MessageRejected as exc:
            return self._submit(_Job(None, "", self._stamp(), refusal=exc))
        return self.handle_text(text, reprocess=reprocess)

    def handle_text(self, text: str, *, reprocess: bool = False) -> Outcome:
        """:meth:`handle` for a message already decoded (a stored one being re-processed)."""
        stamp = self._stamp()
        raw = hl7read.normalise(text)
        try:
            msg = hl7read.parse(text)
            head = hl7read.header(msg)
        except MessageRejected as exc:
            return self._submit(_Job(exc.header, raw, stamp, refusal=exc))
        try:
            change = to_change(msg, head, self.mapping(head), self.cfg.clinic.timezone)
        except MessageRejected as exc:
            return self._submit(_Job(head, raw, stamp, refusal=exc))
        return self._submit(_Job(head, raw, stamp, change=change, reprocess=reprocess))

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
        return self._submit(_Job(head, "", self._stamp(), refusal=refusal)).ack

    def reprocess(self, entry_id: int, actor: str) -> Outcome:
        """Run a stored (rejected or held) message again, e.g. after fixing the mapping; audited."""
        with self.repos.store.transaction() as conn:
            entry, raw = ledger.raw_message(conn, entry_id)
            self.repos.audit.append(conn, actor, "feed-reprocess", "feed-message", entry_id, entry.message_type)
        return self.handle_text(raw, reprocess=True)

    def _stamp(self) -> str:
        return to_db(self.clock.now())

    def _submit(self, job: _Job) -> Outcome:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._write_loop, name="hl7-writer", daemon=True)
                self._thread.start()
        self._jobs.put(job)
        return job.done.wait()

    # -- the writer thread: batches of messages, one commit, then the ACKs ----------------------
    def _write_loop(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        outcomes: list[Outcome] = []
        try:
            with self.repos.store.transaction() as conn:
                outcomes = [self._one(conn, job) for job in batch]
        except Exception:  # the commit failed: nothing of the batch is stored
            log.exception("feed: a batch of %d messages could not be stored", len(batch))
            failure = MessageRejected("the box could not store the message; send it again", "", INTERNAL_ERROR)
            outcomes = [self._refusal(job.head, failure) for job in batch]
        for job, outcome in zip(batch, outcomes, strict=True):
            job.done.set(outcome)

    def _one(self, conn: Connection, job: _Job) -> Outcome:
        head = job.head
        if job.refusal is not None or job.change is None or head is None:
            refusal = job.refusal or MessageRejected("unreadable message", "MSH", INTERNAL_ERROR, "AR")
            self._record_refusal(conn, job, refusal)
            return self._refusal(head, refusal)
        if not job.reprocess:
            seen = ledger.find(conn, head.sender, head.control_id)
            if seen is not None and seen.status in ledger.SETTLED:
                ledger.count_replay(conn, seen.id)
                log.info("feed %s: control ID %s replayed; answered as before", head.sender, head.control_id)
                note = (seen.location, seen.reason) if seen.reason else None
                return self._answer(head, Applied(seen.status, seen.appointment_id, None, note))
        kind = f"{head.message_type}^{head.trigger}"
        try:
            with ledger.savepoint(conn):
                applied = self.writer.apply(conn, job.change, job.stamp)
                location, reason = applied.note or ("", "")
                ledger.record(
                    conn,
                    feed=head.sender,
                    control_id=head.control_id,
                    received_at=job.stamp,
                    message_type=kind,
                    status=applied.status,
                    ack_code="AA",
                    raw=job.raw,
                    reason=reason,
                    location=location,
                    appointment_id=applied.appointment_id,
                    patient_id=applied.patient_id,
                )
        except MessageRejected as exc:  # its writes are undone; the refusal is recorded
            self._record_refusal(conn, job, exc)
            return self._refusal(head, exc)
        except Exception:
            log.exception("feed %s: control ID %s could not be applied", head.sender, head.control_id)
            failure = MessageRejected("the box could not store the message; send it again", "", INTERNAL_ERROR)
            return self._refusal(head, failure)
        log.info("feed %s: %s control ID %s %s", head.sender, kind, head.control_id, applied.status)
        return self._answer(head, applied)

    def _record_refusal(self, conn: Connection, job: _Job, exc: MessageRejected) -> None:
        head = job.head
        where = f"{exc.location}: {exc.reason}" if exc.location else exc.reason
        log.warning("feed %s: message refused (%s) %s", head.sender if head else "?", exc.ack, where)
        if head is None:
            self.unkeyed.append((job.stamp, where))
            return
        ledger.record(
            conn,
            feed=head.sender,
            control_id=head.control_id,
            received_at=job.stamp,
            message_type=f"{head.message_type}^{head.trigger}",
            status="rejected",
            ack_code=exc.ack,
            raw=job.raw,
            reason=exc.reason,
            location=exc.location,
        )

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

    def _refusal(self, head: Header | None, exc: MessageRejected) -> Outcome:
        text = ack.build(
            head,
            exc.ack,
            application=self.cfg.feeds.hl7.receiving_application,
            now=self.clock.now(),
            error=(exc.location, exc.code, exc.reason),
        )
        return Outcome(text, exc.ack, "rejected", exc.reason, exc.location)
