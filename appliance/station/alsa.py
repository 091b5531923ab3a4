"""Which sound card belongs to which station. Pure (reads only text it is given).

udev starts ``clinicbox-station@<card id>.service`` when a USB headset
appears; the station then finds the one ``[stations.<id>]`` table whose
``audio_device`` pattern matches that card, and later the PJSUA2 sound
device that sits on that card. The GSM gateway finds the modem's card by
its USB vendor instead.

A pattern is matched case-insensitively against the card's id (``Headset``),
its short name and its long name from ``/proc/asound/cards``. A pattern
with ``*``, ``?`` or ``[`` is a glob that must match a whole name; a plain
pattern matches a card whose id equals it or whose name contains it.

Example:
    >>> cards = parse_cards(" 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20\\n"
    ...                     "                      GN Jabra EVOLVE 20 at usb-1, full speed\\n")
    >>> cards[0].id, cards[0].name
    ('Headset', 'Jabra EVOLVE 20')
    >>> card_matches("jabra", cards[0])
    True
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ConfigError, StationError

ASOUND = Path("/proc/asound")

#: USB vendors of the GSM/LTE modems ClinicBox supports (Quectel, SIMCom, Huawei);
#: the same list as systemd/udev/90-clinicbox.rules.
MODEM_VENDORS = frozenset({"2c7c", "1e0e", "12d1"})


class NotAHeadset(StationError):
    """The sound card cannot both record and play (a USB speaker, a DAC): no
    station can run on it, and starting again will not change that."""


_CARD_LINE = re.compile(r"^\s*(\d+)\s+\[(.+?)\s*\]:\s*(\S+)\s+-\s+(.*)$")


@dataclass(frozen=True)
class AlsaCard:
    index: int
    id: str
    driver: str
    name: str
    long_name: str = ""
    usb_id: str = ""  # "2c7c:0125" for USB cards, else ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.id, self.name, self.long_name) if n)


@dataclass(frozen=True)
class SoundDevice:
    """One PJSUA2 sound device, as ``AudDevManager.enumDev2()`` lists it."""

    index: int
    name: str
    inputs: int
    outputs: int


def parse_cards(text: str) -> list[AlsaCard]:
    """Parse ``/proc/asound/cards`` (two lines per card)."""
    cards: list[AlsaCard] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _CARD_LINE.match(line)
        if not m:
            continue
        long_name = lines[i + 1].strip() if i + 1 < len(lines) and not _CARD_LINE.match(lines[i + 1]) else ""
        cards.append(AlsaCard(int(m.group(1)), m.group(2).strip(), m.group(3), m.group(4).strip(), long_name))
    return cards


def read_cards(root: Path = ASOUND) -> list[AlsaCard]:
    """The machine's sound cards with their USB ids; [] when ALSA is absent."""
    try:
        text = (root / "cards").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    cards = []
    for card in parse_cards(text):
        try:
            usb_id = (root / f"card{card.index}" / "usbid").read_text(encoding="ascii").strip().lower()
        except OSError:
            usb_id = ""
        cards.append(AlsaCard(card.index, card.id, card.driver, card.name, card.long_name, usb_id))
    return cards


def card_present(card_id: str, root: Path = ASOUND) -> bool:
    """Whether the card is still plugged in (``/proc/asound/<id>`` is a symlink per card)."""
    return (root / card_id).exists()


def pattern_matches(pattern: str, name: str) -> bool:
    p, n = pattern.strip().lower(), name.strip().lower()
    if not p or not n:
        return False
    if any(ch in p for ch in "*?["):
        return fnmatch.fnmatchcase(n, p)
    return p in n


def card_matches(pattern: str, card: AlsaCard) -> bool:
    if not pattern.strip():
        return False
    if any(ch in pattern for ch in "*?["):
        return any(pattern_matches(pattern, n) for n in card.names)
    p = pattern.strip().lower()
    return card.id.lower() == p or any(p in n.lower() for n in (card.name, card.long_name) if n)


def station_for_card(card_id: str, patterns: Mapping[str, str], cards: Iterable[AlsaCard]) -> str:
    """The station whose ``audio_device`` pattern matches the card udev named.

    Args:
        card_id: the ALSA card id (the systemd instance name, ``%I``).
        patterns: station id → its ``audio_device`` pattern.
        cards: the machine's cards (to match names too); the card may be
            missing from it (already unplugged): then only its id is matched.

    Raises:
        ConfigError: no station, or more than one, claims this card.
    """
    card = next((c for c in cards if c.id == card_id), AlsaCard(-1, card_id, "", ""))
    hits = sorted(sid for sid, pattern in patterns.items() if card_matches(pattern, card))
    if not hits:
        shown = ", ".join(card.names)
        raise ConfigError(
            [
                f"stations.<id>.audio_device: no station claims sound card {card_id!r} ({shown}); "
                "set audio_device of the headset's station to a pattern of that name"
            ]
        )
    if len(hits) > 1:
        raise ConfigError(
            [
                f"stations.{hit}.audio_device: {patterns[hit]!r} matches sound card {card_id!r}, "
                f"as do the patterns of {', '.join(h for h in hits if h != hit)}; make them distinct"
                for hit in hits[:1]
            ]
        )
    return hits[0]


def modem_card(cards: Iterable[AlsaCard]) -> AlsaCard:
    """The GSM modem's USB sound card (by USB vendor).

    Raises:
        StationError: no modem sound card is present.
    """
    for card in cards:
        if card.usb_id.split(":", 1)[0] in MODEM_VENDORS:
            return card
    raise StationError(
        "no GSM modem sound card found (USB vendors 2c7c, 1e0e, 12d1); "
        'check that the modem\'s USB audio is enabled (Quectel: AT+QCFG="USBCFG"), or pass --card'
    )


#: ALSA device name prefixes in order of preference: plughw converts rates
#: for us; sysdefault and hw are the fallbacks PJSIP lists.
_PREFIXES = ("plughw:", "sysdefault:", "hw:", "front:", "default:")


def pick_device(devices: Iterable[SoundDevice], card: AlsaCard) -> SoundDevice:
    """The PJSUA2 sound device on ``card`` that can both capture and play.

    Raises:
        NotAHeadset: no full-duplex device on that card (listing what exists).
    """
    devices = list(devices)
    duplex = [d for d in devices if d.inputs > 0 and d.outputs > 0]
    tag = f"card={card.id.lower()}"
    on_card = [d for d in duplex if tag in d.name.lower().replace(" ", "")]
    if not on_card:
        on_card = [d for d in duplex if any(n and n.lower() in d.name.lower() for n in (card.name, card.long_name))]
    if not on_card:
        listed = "; ".join(f"{d.name} ({d.inputs} in/{d.outputs} out)" for d in devices) or "none"
        raise NotAHeadset(f"no sound device on card {card.id!r} can both record and play; PJSUA2 lists: {listed}")

    def rank(d: SoundDevice) -> int:
        name = d.name.lower()
        return next((i for i, prefix in enumerate(_PREFIXES) if name.startswith(prefix)), len(_PREFIXES))

    return min(on_card, key=lambda d: (rank(d), d.index))


@dataclass(frozen=True)
class AudioChoice:
    """The device a station will use; ``device`` None = PJSUA2's null device."""

    device: SoundDevice | None
    detail: str  # why, for the log and the heartbeat ("" when a real device works)


NO_DEVICES = "no sound device in this PJSUA2 build"
SIMULATED = "simulated audio (simulate = true): no sound device used"


def choose_audio(
    devices: list[SoundDevice],
    cards: list[AlsaCard],
    *,
    card_id: str = "",
    pattern: str = "",
    gateway: bool = False,
    simulate: bool = False,
) -> AudioChoice:
    """Which sound device a station owns.

    The card udev named wins, then the station's ``audio_device`` pattern,
    then (GSM gateway) the modem's card; a station with neither uses the
    system's default device (a front-desk PC with one headset).

    Raises:
        StationError: the build has sound devices but none fits.
    """
    if simulate:
        return AudioChoice(None, SIMULATED)
    if not devices:
        return AudioChoice(None, NO_DEVICES)
    if card_id:
        card = next((c for c in cards if c.id == card_id), AlsaCard(-1, card_id, "", ""))
        return AudioChoice(pick_device(devices, card), "")
    if pattern:
        matching = [c for c in cards if card_matches(pattern, c)]
        if not matching:
            shown = "; ".join(", ".join(c.names) for c in cards) or "none"
            raise StationError(f"no sound card matches audio_device {pattern!r}; cards present: {shown}")
        return AudioChoice(pick_device(devices, matching[0]), "")
    if gateway:
        return AudioChoice(pick_device(devices, modem_card(cards)), "")
    duplex = [d for d in devices if d.inputs > 0 and d.outputs > 0]
    if not duplex:
        raise StationError("no sound device can both record and play; plug in a headset")
    preferred = [d for d in duplex if d.name.lower() in ("default", "sysdefault", "pulse", "pipewire")]
    return AudioChoice((preferred or duplex)[0], "")
