"""What a feed message means for the store, before the store is touched.

The pure mappers (:mod:`appliance.feeds.hl7map`) turn a message into one
:class:`Change`; :mod:`appliance.feeds.apply` commits it. A message that
cannot be read unambiguously raises :class:`MessageRejected`, which names
the field at fault (``SCH-11``) and the HL7 error code (table 0357) that
goes into the acknowledgement's ERR segment. Its text never holds patient
data: it is shown on the dashboard and sent back to the sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from appliance.errors import ValidationError

#: What a message asks for.
Action = Literal["book", "reschedule", "modify", "cancel", "delete", "no-show", "patient"]
#: HL7 table 0357 codes used in ERR-3.
REQUIRED_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION = "203"
UNKNOWN_KEY = "204"
INTERNAL_ERROR = "207"
ERROR_NAMES = {
    "100": "Segment sequence error",
    REQUIRED_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION: "Unsupported version id",
    UNKNOWN_KEY: "Unknown key identifier",
    INTERNAL_ERROR: "Application internal error",
}


class MessageRejected(ValidationError):
    """The message cannot be applied; nothing is changed.

    Args:
        reason: what is wrong and what the sender should do (no patient data).
        location: the field at fault, ``SEG-n`` or ``SEG-n.c`` (``SCH-11.4``).
        code: the HL7 table 0357 error code.
        ack: ``AR`` (the message as a whole is refused: envelope, type,
            version) or ``AE`` (its content is wrong).
    """

    def __init__(self, reason: str, location: str = "", code: str = DATA_TYPE_ERROR, ack: str = "AE") -> None:
        super().__init__(f"{location}: {reason}" if location else reason)
        self.reason = reason
        self.location = location
        self.code = code
        self.ack = ack
        #: the message's MSH when it could be read (the ACK echoes its control ID and version).
        self.header: Header | None = None


@dataclass(frozen=True)
class Header:
    """The MSH fields an acknowledgement echoes, and the sender's identity."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    control_id: str
    version: str
    message_type: str
    trigger: str
    processing_id: str = "P"

    @property
    def sender(self) -> str:
        """The feed's name for this sender: MSH-3, with MSH-4 when given (``EPIC@MAIN``)."""
        return (
            f"{self.sending_application}@{self.sending_facility}" if self.sending_facility else self.sending_application
        )


@dataclass(frozen=True)
class PatientFacts:
    """A patient as the message tells it. ``mrn`` + ``authority`` (PID-3) is the identity."""

    mrn: str
    authority: str
    family_name: str = ""
    given_name: str = ""
    date_of_birth: str = ""
    phones: tuple[str, ...] = ()
    language: str = ""

    @property
    def external_id(self) -> str:
        """The store's patient number: ``MRN^AUTHORITY`` (or the bare MRN without an authority)."""
        return f"{self.mrn}^{self.authority}" if self.authority else self.mrn


@dataclass(frozen=True)
class AppointmentFacts:
    """An appointment as the message tells it; ``starts_at`` is None when the message has no time."""

    placer_id: str = ""
    filler_id: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    provider: str = ""
    location: str = ""
    #: what SCH-25 (filler status) asks for: "", booked, cancelled, no-show, attended.
    status: str = ""
    #: why the message could not carry a booking (held for review), else "".
    held: str = ""

    @property
    def key(self) -> str:
        return self.filler_id or self.placer_id


@dataclass(frozen=True)
class Change:
    """One message's meaning: what to do, to which patient and appointment."""

    action: Action
    header: Header
    patient: PatientFacts | None = None
    appointment: AppointmentFacts | None = None
    #: the location of a field the change had to do without (held for review).
    warnings: tuple[str, ...] = field(default=())
