"""The SMS service: a persistent send queue, delivery reports, incoming messages.

``send_sms`` stores the message and returns at once; the modem worker
sends what is due, within ``sms_per_minute``, retrying failures with
backoff. Each part's ``+CMGS`` reference is stored the moment the modem
gives it, so a retry never re-sends a part the network already took. A
part whose answer never came is *unconfirmed* and never re-sent by
itself: a late ``+CMGS`` or a delivery report to that number confirms it
(see :mod:`appliance.store.sms`).
Delivery reports (``+CDS``) find their message by that reference and the
recipient. Incoming messages are reassembled, stored, then offered to the
``on_incoming`` hooks (the reminders module claims reply words); what no
hook claims stays for staff to read. A message leaves the SIM only after
it is in the database.

Example:
    >>> sms_id = service.send_sms("+48601234567", "Wizyta jutro o 10:00. Odpisz TAK")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from appliance.clock import Clock
from appliance.config.modem import ModemSettings
from appliance.errors import ModemCommandError, ModemError, SmsUnconfirmedError, ValidationError
from appliance.events import EventBus, SmsNotifier
from appliance.modem.smspolicy import RateLimiter, retry_delay
from appliance.modem.wire import at
from appliance.modem.wire.concat import DUPLICATE, UPDATE, IncomingPart, Outcome, Reassembler
from appliance.modem.wire.pdu import (
    EncodingError,
    PduError,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    SubmitPdu,
    decode_pdu,
    encode_sms,
)
from appliance.privacy import mask_phone
from appliance.store.phones import normalize_caller
from appliance.store.sms import SmsRecord, SmsRepo
from appliance.store.timefmt import from_db

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^\+?\d{3,20}$")
#: How far the box's clock and the SMS centre's may disagree.
_CLOCK_SKEW = timedelta(minutes=10)


def recipient(number: str, region: str) -> str:
    """The number to send to: E.164 when it parses, else the digits as given.

    Raises:
        ValidationError: not a phone number.
    """
    cleaned = re.sub(r"[\s().\-/]", "", number or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _NUMBER.match(cleaned):
        raise ValidationError("not a phone number: use digits with an optional leading + (e.g. +48601234567)")
    return normalize_caller(cleaned, region) or cleaned


@dataclass(frozen=True)
class IncomingSms:
    """What an ``on_incoming`` hook receives."""

    sms_id: int
    number: str
    text: str
    sent_at: datetime
    partial: bool
    patient_id: int | None


#: A hook returns a truthy value to claim the message (a str names who handled it).
IncomingHook = Callable[[IncomingSms], "str | bool | None"]


class SmsPort(Protocol):
    """What the SMS service needs from the modem."""

    def send_pdu(self, part: SubmitPdu) -> int: ...

    def delete_stored(self, index: int, storage: str = "") -> None: ...


class SmsService:
    """See the module docstring. Runs on the modem worker thread, except
    :meth:`send_sms` and :meth:`on_incoming`, which any thread may call."""

    def __init__(
        self,
        repo: SmsRepo,
        settings: ModemSettings,
        clock: Clock,
        bus: EventBus,
        *,
        region: str = "US",
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.clock = clock
        self.bus = bus
        self.notify = SmsNotifier(bus.emit)
        self.region = region
        self.wake = wake
        self.limiter = RateLimiter(settings.sms_per_minute)
        self.reassembler = Reassembler(settings.partial_timeout_s)
        self._hooks: list[IncomingHook] = []
        self._partials: dict[Any, int] = {}
        # After an unconfirmed send the modem may still be busy with it and its
        # late +CMGS would answer the next AT+CMGS: nothing is sent until then.
        self._hold_until = 0.0

    # -- any thread ----------------------------------------------------------------
    def send_sms(
        self, number: str, text: str, reminder_attempt_id: int | None = None, patient_id: int | None = None
    ) -> int:
        """Queue an SMS; returns its id in ``sms_messages``.

        Raises:
            ValidationError: not a phone number, empty text, or a text too
                long for 255 joined SMS.
        """
        target = recipient(number, self.region)
        try:
            encoded = encode_sms(target, text)
        except (EncodingError, PduError) as exc:
            raise ValidationError(f"the SMS cannot be sent: {exc}") from exc
        sms_id = self.repo.enqueue(
            target,
            text,
            len(encoded.parts),
            encoded.encoding,
            reminder_attempt_id=reminder_attempt_id,
            patient_id=patient_id,
        )
        log.info("SMS %d to %s queued (%d parts, %s)", sms_id, mask_phone(target), len(encoded.parts), encoded.encoding)
        self.wake()
        return sms_id

    def on_incoming(self, hook: IncomingHook) -> None:
        """Register ``hook(sms) -> str | bool | None``; truthy claims the message."""
        self._hooks.append(hook)

    # -- worker thread: sending --------------------------------------------------------
    def send_due(self, port: SmsPort) -> int:
        """Send what is due; returns how many parts left.

        Raises:
            ModemError: the modem timed out or vanished (the health check
                takes over); the message keeps its state and is retried.
        """
        sent = 0
        if self.clock.monotonic() < self._hold_until:
            return 0
        for record in self.repo.due():
            count, done = self._send_one(record, port)
            sent += count
            if not done:
                break
        return sent

    def seconds_until_due(self, limit: float) -> float:
        """How long the worker may wait before the next queued SMS is due."""
        wait = limit
        held = self._hold_until - self.clock.monotonic()
        if held > 0:
            return max(0.1, min(limit, held))
        due = from_db(self.repo.next_due_at())
        if due is not None:
            wait = min(wait, (due - self.clock.now()).total_seconds())
        return max(0.1, wait)

    def _send_one(self, record: SmsRecord, port: SmsPort) -> tuple[int, bool]:
        encoded = encode_sms(
            record.number,
            record.body,
            concat_ref=record.id & 0xFF,
            status_report=self.settings.delivery_reports,
            validity=self.settings.sms_validity_hours,
            encoding=record.encoding,
        )
        sent = 0
        for index in record.unsent_parts:
            now = self.clock.monotonic()
            if self.limiter.available(now) == 0:
                wait = self.limiter.wait(now)
                self.repo.defer(record.id, self.clock.now() + timedelta(seconds=wait))
                return sent, False
            try:
                ref = port.send_pdu(encoded.parts[index])
            except ModemCommandError as exc:
                permanent = exc.kind == "CMS" and exc.code in at.PERMANENT_CMS
                self._failed(record, str(exc), permanent)
                return sent, True
            except SmsUnconfirmedError as exc:
                self.limiter.take(self.clock.monotonic())
                self._hold_until = self.clock.monotonic() + self.settings.sms_timeout_s
                self.repo.mark_unconfirmed(record.id, index, str(exc))
                log.warning(
                    "SMS %d part %d: the modem never confirmed it; it is not sent again automatically",
                    record.id,
                    index + 1,
                )
                raise
            except ModemError as exc:
                self._failed(record, str(exc), False)
                raise
            self.limiter.take(self.clock.monotonic())
            self.repo.record_part(record.id, index, ref)
            sent += 1
        status = self.repo.mark_sent(record.id)
        log.info("SMS %d %s to %s", record.id, status, mask_phone(record.number))
        self.notify.status(sms_id=record.id, status=status)
        return sent, True

    def late_reference(self, ref: int) -> None:
        """A ``+CMGS`` that came after its command timed out confirms that part."""
        self._hold_until = 0.0  # the modem finished that send: the queue may go on
        self.wake()
        window = timedelta(seconds=max(600.0, 5 * self.settings.sms_timeout_s))
        found = self.repo.confirm_late(ref, window)
        if found is None:
            log.info("a late +CMGS (reference %d) matches no unconfirmed SMS part", ref)
            return
        sms_id, part, status = found
        log.info("SMS %d part %d: the modem confirmed it late (reference %d)", sms_id, part + 1, ref)
        if status == "sent":
            self.notify.status(sms_id=sms_id, status="sent")

    def _failed(self, record: SmsRecord, error: str, permanent: bool) -> None:
        attempts = record.attempts + 1
        if permanent or attempts >= self.settings.sms_max_attempts:
            self.repo.mark_failed(record.id, attempts, error)
            log.warning("SMS %d to %s failed for good: %s", record.id, mask_phone(record.number), error)
            self.notify.status(sms_id=record.id, status="failed")
            return
        delay = retry_delay(attempts, self.settings.sms_retry_base_s, self.settings.sms_retry_max_s)
        self.repo.schedule_retry(record.id, attempts, self.clock.now() + timedelta(seconds=delay), error)
        log.warning("SMS %d attempt %d failed (%s); retry in %d s", record.id, attempts, error, delay)

    # -- worker thread: receiving ------------------------------------------------------
    def accept_pdu(
        self, pdu: str, length: int | None, port: SmsPort, index: int | None = None, storage: str = ""
    ) -> None:
        """A PDU from ``+CMT``, ``+CDS`` or the modem's storage (``index`` = its
        slot in ``storage``; "" = the storage AT+CPMS reads by default)."""
        handles = ((storage, index),) if index is not None else ()
        try:
            decoded = decode_pdu(pdu, length)
        except PduError as exc:
            log.warning("undecodable SMS kept for staff: %s", exc)
            sms_id, _ = self.repo.insert_incoming(
                "", f"[undecodable SMS: {exc}] {pdu}", 1, "", "received", self.clock.now(), None
            )
            self._delete(handles, port)
            self.notify.received(sms_id=sms_id, partial=False)
            return
        if isinstance(decoded, StatusReport):
            self.accept_report(decoded)
            self._delete(handles, port)
        elif isinstance(decoded, SmsDeliver):
            part = IncomingPart(
                decoded.sender, decoded.concat, decoded.text, decoded.encoding, decoded.timestamp, handles
            )
            self._store(self.reassembler.add(part, self.clock.monotonic()), port)
        elif isinstance(decoded, SmsSubmit):
            log.debug("SIM slot %s holds an outgoing message; left alone", index)

    def expire(self, port: SmsPort) -> None:
        """Store multipart messages whose missing parts never came."""
        self._store(self.reassembler.expire(self.clock.monotonic()), port)

    def accept_report(self, report: StatusReport) -> None:
        found = self.repo.find_by_ref(report.ref, report.recipient)
        if found is None and self.repo.find_by_ref(report.ref, report.recipient, settled=True) is not None:
            log.info("a repeated delivery report for reference %d; already recorded", report.ref)
            return
        if found is None:
            # The network took a part whose +CMGS never reached the box: this report names
            # it, if that part reached the modem before the network stamped the message.
            found = self.repo.find_unconfirmed(report.recipient, before=report.sc_timestamp + _CLOCK_SKEW)
            if found is not None:
                self.repo.confirm(found[0], found[1], report.ref)
        if found is None:
            log.info("delivery report for reference %d matches no sent SMS", report.ref)
            return
        sms_id, part = found
        status = self.repo.record_delivery(sms_id, part, report.outcome, f"network status 0x{report.status:02X}")
        log.info("SMS %d part %d: %s (0x%02X)", sms_id, part + 1, report.outcome, report.status)
        if status in ("delivered", "failed"):
            self.notify.status(sms_id=sms_id, status=status)

    def _store(self, outcomes: list[Outcome], port: SmsPort) -> None:
        for o in outcomes:
            if o.kind == DUPLICATE:
                self._delete(o.handles, port)
                continue
            number = normalize_caller(o.sender, self.region) or o.sender
            status = "partial" if o.missing else "received"
            if o.kind == UPDATE and o.key in self._partials:
                sms_id = self._partials[o.key]
                self.repo.update_incoming(sms_id, o.text, status)
            else:
                sms_id, created = self.repo.insert_incoming(
                    number, o.text, o.parts_total, o.encoding, status, o.timestamp, self.repo.patient_for_number(number)
                )
                if not created:
                    self._delete(o.handles, port)
                    continue
            if o.missing:
                self._partials[o.key] = sms_id
            else:
                self._partials.pop(o.key, None)
            self._delete(o.handles, port)
            log.info("SMS %d from %s stored (%s)", sms_id, mask_phone(number), status)
            self.notify.received(sms_id=sms_id, partial=bool(o.missing))
            if not o.missing:
                patient = self.repo.get(sms_id).patient_id
                self._offer(IncomingSms(sms_id, number, o.text, o.timestamp, False, patient))

    def _offer(self, sms: IncomingSms) -> None:
        for hook in list(self._hooks):
            try:
                claimed = hook(sms)
            except Exception:
                log.exception("an on_incoming hook failed on SMS %d", sms.sms_id)
                continue
            if claimed:
                self.repo.mark_handled(sms.sms_id, claimed if isinstance(claimed, str) else "system")
                return

    @staticmethod
    def _delete(handles: tuple[Any, ...], port: SmsPort) -> None:
        for storage, index in handles:
            try:
                port.delete_stored(int(index), storage)
            except ModemError as exc:
                log.warning("SMS in slot %s %s is stored but could not be deleted (%s)", storage, index, exc)
