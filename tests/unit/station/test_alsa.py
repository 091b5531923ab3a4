"""Which sound card belongs to which station, and which PJSUA2 device to open."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import ConfigError, StationError
from appliance.station.alsa import (
    NO_DEVICES,
    SIMULATED,
    AlsaCard,
    SoundDevice,
    card_matches,
    card_present,
    choose_audio,
    modem_card,
    parse_cards,
    pick_device,
    read_cards,
    station_for_card,
)

# A Raspberry Pi with two USB headsets and a Quectel EC25's audio.
PROC_CARDS = """\
 0 [vc4hdmi        ]: vc4-hdmi - vc4-hdmi
                      vc4-hdmi
 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS
                      GN Netcom A/S Jabra EVOLVE 20 MS at usb-0000:01:00.0-1.3, full speed
 2 [H340           ]: USB-Audio - Logitech USB Headset H340
                      Logitech Logitech USB Headset H340 at usb-0000:01:00.0-1.4, full speed
 3 [Android        ]: USB-Audio - Android
                      Quectel, Incorporated Android at usb-0000:01:00.0-1.2, high speed
"""


def test_parse_cards_reads_ids_and_names() -> None:
    cards = parse_cards(PROC_CARDS)
    assert [(c.index, c.id, c.driver, c.name) for c in cards] == [
        (0, "vc4hdmi", "vc4-hdmi", "vc4-hdmi"),
        (1, "Headset", "USB-Audio", "Jabra EVOLVE 20 MS"),
        (2, "H340", "USB-Audio", "Logitech USB Headset H340"),
        (3, "Android", "USB-Audio", "Android"),
    ]
    assert cards[1].long_name.startswith("GN Netcom A/S Jabra")


def test_parse_cards_of_a_machine_without_sound() -> None:
    assert parse_cards("--- no soundcards ---\n") == []


def _asound(root: Path) -> Path:
    root.mkdir()
    (root / "cards").write_text(PROC_CARDS)
    for index, card_id, usb in ((1, "Headset", "0b0e:0300"), (2, "H340", "046d:0a38"), (3, "Android", "2c7c:0125")):
        (root / f"card{index}").mkdir()
        (root / f"card{index}" / "usbid").write_text(usb + "\n")
        (root / card_id).symlink_to(f"card{index}")
    return root


def test_read_cards_adds_usb_ids_and_presence(tmp_path: Path) -> None:
    root = _asound(tmp_path / "asound")
    cards = read_cards(root)
    assert {c.id: c.usb_id for c in cards} == {
        "vc4hdmi": "",
        "Headset": "0b0e:0300",
        "H340": "046d:0a38",
        "Android": "2c7c:0125",
    }
    assert card_present("H340", root)
    (root / "H340").unlink()  # unplugged
    assert not card_present("H340", root)


def test_read_cards_without_alsa_is_empty(tmp_path: Path) -> None:
    assert read_cards(tmp_path / "missing") == []


CARDS = parse_cards(PROC_CARDS)
JABRA, LOGI = CARDS[1], CARDS[2]


@pytest.mark.parametrize(
    ("pattern", "card", "hit"),
    [
        ("Headset", JABRA, True),  # the card id
        ("headset", JABRA, True),  # case does not matter
        ("jabra", JABRA, True),  # part of the name
        ("Jabra*", JABRA, True),  # a glob must match a whole name
        ("*EVOLVE*", JABRA, True),
        ("Jab*20", JABRA, False),
        ("H340", LOGI, True),
        ("Headset", LOGI, True),  # "Logitech USB Headset H340" contains it
        ("Jabra", LOGI, False),
        ("", JABRA, False),  # no pattern claims nothing
        ("   ", JABRA, False),
    ],
)
def test_card_matches(pattern: str, card: AlsaCard, hit: bool) -> None:
    assert card_matches(pattern, card) is hit


def test_station_for_card_picks_the_one_station_claiming_it() -> None:
    patterns = {"desk1": "Jabra*", "desk2": "H340", "desk3": ""}
    assert station_for_card("Headset", patterns, CARDS) == "desk1"
    assert station_for_card("H340", patterns, CARDS) == "desk2"


def test_station_for_a_card_already_gone_matches_its_id() -> None:
    assert station_for_card("H340", {"desk2": "H340"}, []) == "desk2"


def test_no_station_claims_the_card() -> None:
    with pytest.raises(ConfigError) as err:
        station_for_card("H340", {"desk1": "Jabra*"}, CARDS)
    assert "audio_device" in str(err.value) and "H340" in str(err.value)


def test_two_stations_claiming_one_card_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        station_for_card("H340", {"desk1": "Headset", "desk2": "H340"}, CARDS)
    assert "stations.desk1.audio_device" in str(err.value) and "desk2" in str(err.value)


def test_modem_card_by_usb_vendor(tmp_path: Path) -> None:
    cards = read_cards(_asound(tmp_path / "asound"))
    assert modem_card(cards).id == "Android"
    with pytest.raises(StationError, match="no GSM modem sound card"):
        modem_card([c for c in cards if c.id != "Android"])


# What PJSUA2 lists on a machine with ALSA (names from pjmedia's alsa_dev.c).
DEVICES = [
    SoundDevice(0, "default", 2, 2),
    SoundDevice(1, "sysdefault:CARD=Headset", 1, 2),
    SoundDevice(2, "front:CARD=Headset,DEV=0", 0, 2),
    SoundDevice(3, "plughw:CARD=Headset,DEV=0", 1, 2),
    SoundDevice(4, "hw:CARD=H340,DEV=0", 1, 2),
    SoundDevice(5, "USB Audio Device: Logitech USB Headset H340 (hw:2,0)", 1, 1),
]


@pytest.mark.parametrize(
    ("card", "index"),
    [
        (JABRA, 3),  # plughw preferred over sysdefault; front: cannot record
        (LOGI, 4),
        (AlsaCard(9, "Other", "USB-Audio", "Logitech USB Headset H340"), 5),  # by name when the id is unknown
    ],
)
def test_pick_device(card: AlsaCard, index: int) -> None:
    assert pick_device(DEVICES, card).index == index


def test_pick_device_without_a_duplex_device_lists_what_exists() -> None:
    with pytest.raises(StationError) as err:
        pick_device([SoundDevice(0, "front:CARD=Headset,DEV=0", 0, 2)], JABRA)
    assert "front:CARD=Headset" in str(err.value)


def test_choose_audio() -> None:
    none = choose_audio([], CARDS, card_id="Headset")
    assert none.device is None and none.detail == NO_DEVICES
    simulated = choose_audio(DEVICES, CARDS, card_id="Headset", simulate=True)
    assert simulated.device is None and simulated.detail == SIMULATED
    assert choose_audio(DEVICES, CARDS, card_id="H340").device == DEVICES[4]
    assert choose_audio(DEVICES, CARDS, pattern="jabra").device == DEVICES[3]
    assert choose_audio(DEVICES, CARDS).device == DEVICES[0]  # a PC with one headset: the default device
    with pytest.raises(StationError, match="no sound card matches"):
        choose_audio(DEVICES, CARDS, pattern="Sennheiser*")


def test_the_gateway_owns_the_modems_card(tmp_path: Path) -> None:
    cards = read_cards(_asound(tmp_path / "asound"))
    devices = [*DEVICES, SoundDevice(6, "plughw:CARD=Android,DEV=0", 1, 1)]
    assert choose_audio(devices, cards, gateway=True).device == devices[6]
    with pytest.raises(StationError, match="no GSM modem sound card"):
        choose_audio(devices, [c for c in cards if c.id != "Android"], gateway=True)
