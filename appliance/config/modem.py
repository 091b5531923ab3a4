"""Config section for the GSM/LTE modem: which one, how it is driven, SMS policy.

The modem is found by identity (``usb_serial``, ``imei``) rather than by
``/dev/ttyUSBn``, which changes after a USB reset. ``port`` pins a device
path or pyserial URL when a technician wants that instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

SIM_PROFILES = ("ec25", "sim7600", "e173", "le910")


def _pin(value: Any) -> str | None:
    if value and not re.fullmatch(r"\d{4,8}", value):
        return "a SIM PIN is 4 to 8 digits"
    return None


def _imei(value: Any) -> str | None:
    if value and not re.fullmatch(r"\d{15}", value):
        return f"{value!r} is not an IMEI (15 digits; `clinicbox modem status` shows it)"
    return None


def _voice_port(value: Any) -> str | None:
    if value and not re.fullmatch(r"/dev/serial/by-id/[A-Za-z0-9_.:+-]{1,200}", value):
        return (
            f"{value!r} is not a stable serial port name (a /dev/ttyUSBn changes after a USB reset): "
            "use the /dev/serial/by-id/...-ifNN-port0 link (`ls /dev/serial/by-id`)"
        )
    return None


def _smsc(value: Any) -> str | None:
    if value and not re.fullmatch(r"\+?\d{3,20}", value):
        return f"{value!r} is not a service centre number (digits, optional leading +)"
    return None


@dataclass(frozen=True)
class ModemSettings:
    enabled: bool = setting(doc="Use a GSM/LTE modem for fallback calls and SMS.")
    simulate: bool = setting(doc="Use the built-in modem simulator (also chosen by the global simulate = true).")
    simulator_profile: str = setting(
        doc="Modem the simulator imitates: ec25, sim7600, e173 (Huawei) or le910 (no voice path).", choices=SIM_PROFILES
    )
    port: str = setting(doc="Device path or pyserial URL of the AT port; empty = find the modem by usb_serial / imei.")
    usb_serial: str = setting(doc="USB serial number of the modem (from /dev/serial/by-id); empty = any.")
    usb_interface: int = setting(
        doc="USB interface of the AT port (EC25 and SIM7600: 2); -1 = try every interface.", min=-1, max=15
    )
    voice_port: str = setting(
        doc="Serial port of the call's PCM voice (SIMCom, Huawei), a /dev/serial/by-id path; empty = the "
        "modem's voice interface (SIM7600: 4, Huawei: 1) found by USB.",
        check=_voice_port,
    )
    imei: str = setting(doc="IMEI of the modem to use; empty = the first modem found.", check=_imei)
    baudrate: int = setting(doc="Serial speed (USB modems ignore it).", min=1200, max=4000000)
    pin: str = setting(
        doc="SIM PIN (keep it in the secrets file); a rejected PIN is never retried.", secret=True, check=_pin
    )
    smsc: str = setting(doc="SMS service centre number; empty = the one stored on the SIM.", check=_smsc)
    command_timeout_s: float = setting(doc="How long an ordinary AT command may take.", min=0.5, max=60)
    sms_timeout_s: float = setting(doc="How long sending one SMS (AT+CMGS) may take.", min=5, max=300)
    health_interval_s: int = setting(
        doc="Seconds between health checks (AT, SIM, registration, signal).", min=1, max=600
    )
    registration_lost_s: int = setting(
        doc="Start recovery when the modem has been unregistered this long.", min=1, max=3600
    )
    recovery_cooldown_s: int = setting(
        doc="After every recovery step failed, wait this long before starting again.", min=1, max=86400
    )
    usb_reset: bool = setting(doc="Allow the recovery step USB unbind/bind through sysfs (needs root).")
    power_gpio: int = setting(
        doc="BCM pin switching the modem's supply (a relay or MOSFET on its USB power); 0 = not fitted. "
        "When fitted, cutting the power is the last recovery step.",
        min=0,
        max=27,
    )
    power_gpio_active_high: bool = setting(doc="The modem has power while power_gpio is high (false: while low).")
    power_off_s: float = setting(doc="How long the power stays cut in that step.", min=1, max=60)
    reset_wait_s: float = setting(
        doc="After a radio reset, USB reset or power cut, how long the modem may take to answer again.",
        min=1,
        max=300,
    )
    sms_per_minute: int = setting(doc="At most this many SMS (parts) sent per minute.", min=1, max=120)
    sms_max_attempts: int = setting(doc="Failed sends of one SMS before it is marked failed.", min=1, max=20)
    sms_retry_base_s: int = setting(doc="First retry after this many seconds; doubles each time.", min=1, max=3600)
    sms_retry_max_s: int = setting(doc="Longest wait between retries.", min=1, max=86400)
    sms_validity_hours: int = setting(doc="How long the network keeps trying to deliver an SMS.", min=1, max=168)
    delivery_reports: bool = setting(doc="Ask the network for delivery reports.")
    partial_timeout_s: int = setting(
        doc="A multipart SMS still missing parts after this long is stored flagged as partial.", min=1, max=86400
    )
    network_time: bool = setting(doc="Offer the network's time (NITZ / AT+CCLK) to the clock when NTP is missing.")


def modem_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """Cross-section rules for [modem]."""
    m = cfg.modem
    if not m.enabled or m.simulate or cfg.simulate:
        return
    if m.port.startswith("/dev/ttyUSB") or m.port.startswith("/dev/ttyACM"):
        yield (
            "modem.port",
            f"{m.port} changes after a USB reset; use /dev/serial/by-id/... or set modem.usb_serial / modem.imei instead",
        )
