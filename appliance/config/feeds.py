"""Config section for appointment feeds: the HL7 v2 listener and its per-sender mapping.

A sender is known by its sending application (MSH-3). ``[feeds.hl7.senders.<MSH-3>]``
overrides the mapping for that sender; every other sender uses the built-in
defaults, which fit the common practice systems (start in SCH-11.4, else
TQ1-7, else the first AIS/AIG/AIL/AIP; mobile = the PID-13 repetition with
equipment type CP, else the first number; PID-15 as the language).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.config import checks
from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

START_FIELDS = ("SCH-11", "TQ1-7", "AIS-4", "AIG-8", "AIL-6", "AIP-6")
PHONE_FIELDS = ("PID-13", "PID-14")
#: What a filler status (SCH-25) may mean for the appointment.
STATUS_ACTIONS = ("booked", "cancelled", "no-show", "attended", "ignore")


def _networks(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"{item!r} is not an address or network; write it like '192.168.1.20' or '10.0.0.0/24'"
    return None


def _start_fields(value: Any) -> str | None:
    if not value:
        return f"name at least one field, e.g. {list(START_FIELDS[:2])}"
    unknown = [v for v in value if v not in START_FIELDS]
    if unknown:
        return f"unknown field {unknown[0]!r}; use {', '.join(START_FIELDS)}"
    return None


def _phone_fields(value: Any) -> str | None:
    unknown = [v for v in value if v not in PHONE_FIELDS]
    return f"unknown field {unknown[0]!r}; use {', '.join(PHONE_FIELDS)}" if unknown else None


def _statuses(value: Any) -> str | None:
    for code, action in value.items():
        if action not in STATUS_ACTIONS:
            return f"{code}: {action!r} is not one of {', '.join(STATUS_ACTIONS)}"
    return None


def _languages(value: Any) -> str | None:
    for code, lang in value.items():
        if lang not in checks.LANGUAGES:
            return f"{code}: {lang!r} is not one of {', '.join(checks.LANGUAGES)}"
    return None


def _zone(value: Any) -> str | None:
    return checks.timezone(value) if value else None


@dataclass(frozen=True)
class Hl7SenderSettings:
    """How one sender's messages map to appointments (every key optional)."""

    start_fields: list[str] = setting(
        doc="Where the start time lives, in order of preference: the first one present wins.",
        check=_start_fields,
        default_factory=lambda: list(START_FIELDS),
    )
    default_duration_min: int = setting(
        doc="Duration when the message gives neither an end nor a duration.", min=5, max=480, default=15
    )
    timezone: str = setting(
        doc="IANA time zone of times sent without an offset (empty = the clinic's).", check=_zone, default=""
    )
    phone_fields: list[str] = setting(
        doc="Fields holding the patient's numbers (PID-13 home, PID-14 business).",
        check=_phone_fields,
        default_factory=lambda: ["PID-13"],
    )
    mobile_equipment: list[str] = setting(
        doc="Telecom equipment types (XTN-3) that mark the mobile; numbers so marked come first.",
        default_factory=lambda: ["CP", "BP"],
    )
    provider_segment: str = setting(
        doc="Where the provider's name is: AIP (personnel, component 3 of AIP-3) or AIG.",
        choices=("AIP", "AIG", ""),
        default="AIP",
    )
    location_segment: str = setting(
        doc="Where the room is: AIL-3 (location) or PV1-3.", choices=("AIL", "PV1", ""), default="AIL"
    )
    language_field: bool = setting(doc="Take PID-15 as the patient's language.", default=True)
    languages: dict[str, str] = setting(
        doc="Extra PID-15 codes -> language (ISO 639-1/-2 codes are known already).",
        check=_languages,
        default_factory=dict,
    )
    statuses: dict[str, str] = setting(
        doc="Extra filler status (SCH-25) codes -> booked, cancelled, no-show, attended or ignore "
        "(HL7 table 0278 codes and Arrived/Checked out are known already).",
        check=_statuses,
        default_factory=dict,
    )


@dataclass(frozen=True)
class Hl7Settings:
    enabled: bool = setting(doc="Listen for HL7 v2 scheduling messages (SIU, ADT) over MLLP.")
    host: str = setting(doc="Address to listen on (0.0.0.0 = every interface; the LAN address is better).")
    port: int = setting(doc="TCP port (2575 is HL7's registered port).", min=1, max=65535)
    allowed_senders: list[str] = setting(
        doc="Addresses or networks that may send (others are closed at once, unanswered).", check=_networks
    )
    max_message_kb: int = setting(doc="Longest message accepted; longer ones are refused.", min=4, max=4096)
    read_timeout_s: float = setting(
        doc="A frame that does not end within this is dropped (nothing committed).", min=0.5, max=300.0
    )
    receiving_application: str = setting(doc="MSH-3 of the box's acknowledgements.")
    tls_cert_file: str = setting(doc="PEM certificate (chain) for MLLP over TLS; empty = plain TCP.")
    tls_key_file: str = setting(doc="PEM private key of tls_cert_file.")
    senders: dict[str, Hl7SenderSettings] = setting(doc="Mapping overrides by sending application (MSH-3).")


@dataclass(frozen=True)
class CalendarSettings:
    enabled: bool = setting(doc="Pull appointments from a shared CalDAV calendar.")
    url: str = setting(doc="The calendar collection's URL, e.g. https://dav.example.org/clinic/appointments/.")
    username: str = setting(doc="CalDAV user name.")
    password: str = setting(doc="CalDAV password (keep it in the secrets file).", secret=True)
    interval_s: int = setting(doc="Seconds between syncs while the server answers.", min=30, max=86400)
    horizon_days: int = setting(doc="Repeating events are expanded this many days ahead.", min=1, max=366)
    write_back: bool = setting(doc="Write the box's confirmations and cancellations back to the event.")
    kind: str = setting(
        doc="caldav: a CalDAV collection (synced, written back); ics: a read-only calendar published at "
        "an http(s) or webcal URL (fetched whole with a conditional GET, never written).",
        choices=("caldav", "ics"),
        default="caldav",
    )

    def feed_name(self) -> str:
        """The feed's name in the store (ledger, appointments.feed): kind@the URL's last part."""
        return f"{self.kind}@" + self.url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FeedSettings:
    hl7: Hl7Settings = setting(doc="HL7 v2 over MLLP.")
    calendar: CalendarSettings = setting(doc="A shared calendar (CalDAV).")


def feed_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """An enabled listener that allows no one is a listener no one can use."""
    hl7 = cfg.feeds.hl7
    calendar = cfg.feeds.calendar
    if bool(hl7.tls_cert_file) != bool(hl7.tls_key_file):
        yield "feeds.hl7.tls_key_file", "MLLP over TLS needs both tls_cert_file and tls_key_file (or neither)"
    schemes = ("http://", "https://", "webcal://") if calendar.kind == "ics" else ("http://", "https://")
    if calendar.enabled and not calendar.url.startswith(schemes):
        yield "feeds.calendar.url", "the calendar is enabled but its URL is not an http(s) URL"
    if hl7.enabled and not hl7.allowed_senders:
        yield (
            "feeds.hl7.allowed_senders",
            "the listener is enabled but allows no sender; list the practice system's address",
        )
