"""The network's side of SMS: PDUs a modem receives (SMS-DELIVER and
SMS-STATUS-REPORT). The simulator uses them to play the network; tests use
them to build what a real network would send.

Example:
    >>> pdus = encode_deliver("+48601234567", "TAK", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    >>> len(pdus)
    1
"""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.modem.wire.pdu import build_user_data, choose_encoding, payload_parts
from appliance.modem.wire.pdufields import (
    Concat,
    build_udh,
    dcs_for,
    encode_address,
    encode_smsc,
    encode_timestamp,
)

__all__ = ["UTC", "encode_deliver", "encode_status_report"]


def encode_deliver(
    sender: str,
    text: str,
    timestamp: datetime,
    *,
    concat_ref: int = 0,
    smsc: str = "+48790998250",
    encoding: str | None = None,
    tz_quarters: int = 0,
) -> list[tuple[str, int]]:
    """(hex PDU with SMSC prefix, TPDU length) for each part of a delivered SMS."""
    alphabet = encoding or choose_encoding(text)
    payloads = payload_parts(text, alphabet)
    total = len(payloads)
    sca = encode_smsc(smsc)
    out = []
    for seq, part in enumerate(payloads, start=1):
        udh = build_udh(Concat(concat_ref, total, seq)) if total > 1 else b""
        udl, ud = build_user_data(part, alphabet, udh)
        first = 0x04 | (0x40 if udh else 0)  # SMS-DELIVER, no more messages to send
        tpdu = (
            bytes([first])
            + encode_address(sender)
            + bytes([0x00, dcs_for(alphabet)])
            + encode_timestamp(timestamp, tz_quarters)
            + bytes([udl])
            + ud
        )
        out.append(((sca + tpdu).hex().upper(), len(tpdu)))
    return out


def encode_status_report(
    ref: int,
    recipient: str,
    submitted: datetime,
    discharged: datetime,
    status: int = 0x00,
    *,
    smsc: str = "+48790998250",
    with_smsc: bool = True,
) -> tuple[str, int]:
    """(hex PDU, TPDU length) of a delivery report for message ``ref``."""
    tpdu = (
        bytes([0x06, ref & 0xFF])  # SMS-STATUS-REPORT, status report qualifier: SUBMIT
        + encode_address(recipient)
        + encode_timestamp(submitted)
        + encode_timestamp(discharged)
        + bytes([status])
    )
    prefix = encode_smsc(smsc) if with_smsc else b""
    return (prefix + tpdu).hex().upper(), len(tpdu)
