"""How a GSM call's voice reaches the gateway: the route names, the serial PCM
format, and the INVITE header the core uses to tell the gateway (pure).

The core owns the modem's AT port and so knows the voice path it set up
(:mod:`appliance.modem.voicepath`); the gateway owns the audio. On each
INVITE to the gateway the core names the route in :data:`VOICE_HEADER`:

* ``uac``: the modem's USB sound card carries the voice (Quectel EC2x/EG25);
  the gateway uses its sound device, as a headset station does;
* ``serial-pcm /dev/ttyUSB4``: raw PCM (8 kHz, 16-bit little-endian mono,
  320-byte frames every 20 ms) on that serial port (SIMCom SIM7600, Huawei
  E1750/E173/E3531 sticks); the gateway bridges it to the call;
* ``none``: the modem offers no voice path (the core does not place calls).

The gateway opens only a serial device path this module accepts: a header
never makes it open an arbitrary file.

Example:
    >>> parse_header("serial-pcm /dev/ttyUSB4")
    VoiceRoute(route='serial-pcm', port='/dev/ttyUSB4')
    >>> format_header(VoiceRoute("uac"))
    'uac'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The INVITE header naming the voice route (core → gateway).
VOICE_HEADER = "X-ClinicBox-Voice"

UAC = "uac"
SERIAL_PCM = "serial-pcm"
NONE = "none"
ROUTES = (UAC, SERIAL_PCM, NONE)

#: The serial PCM format both families use: 8 kHz, 16-bit LE, mono, 20 ms frames.
PCM_RATE = 8000
PCM_FRAME_MS = 20
PCM_FRAME_BYTES = PCM_RATE * 2 * PCM_FRAME_MS // 1000  # 320

#: Serial devices a voice port may be: USB serial ports (and their stable
#: by-id links) on a box; ptys where the simulator stands in for the modem.
_DEVICE = re.compile(r"^/dev/(ttyUSB\d{1,3}|ttyACM\d{1,3}|serial/by-id/[A-Za-z0-9_.:+-]{1,200})$")
_PTY = re.compile(r"^/dev/pts/\d{1,5}$")


@dataclass(frozen=True)
class VoiceRoute:
    route: str = ""  # uac, serial-pcm, none; "" = not known (the core named none)
    port: str = ""  # the serial device for serial-pcm


def format_header(route: VoiceRoute) -> str:
    return f"{route.route} {route.port}".strip()


def parse_header(value: str) -> VoiceRoute:
    """The route a header names; unknown text reads as "not known" (``route=""``)."""
    parts = value.strip().split()
    if not parts or parts[0] not in ROUTES:
        return VoiceRoute()
    if parts[0] == SERIAL_PCM:
        return VoiceRoute(SERIAL_PCM, parts[1] if len(parts) == 2 else "")
    return VoiceRoute(parts[0])


def acceptable_port(path: str, *, allow_pty: bool) -> bool:
    """Whether the gateway may open ``path`` as a voice port.

    Args:
        allow_pty: a simulated box (``simulate = true``), where the modem
            simulator's voice port is a pty.
    """
    if ".." in path:
        return False
    return bool(_DEVICE.match(path) or (allow_pty and _PTY.match(path)))
