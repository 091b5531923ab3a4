"""Who a station is and where its core is: config plus command line."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.config import Config, load_config
from appliance.errors import ConfigError, StationError
from appliance.station.alsa import parse_cards
from appliance.station.options import default_core_uri, resolve

CARDS = parse_cards(
    " 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS\n"
    "                      GN Netcom A/S Jabra EVOLVE 20 MS at usb-1, full speed\n"
)


def config(**overrides: Any) -> Config:
    base: dict[str, Any] = {
        "stations": {
            "desk1": {"password": "pw1", "audio_device": "Jabra*"},
            "desk2": {"password": "pw2", "audio_device": "H340"},
            "desk3": {"password": ""},
        }
    }
    base.update(overrides)
    return load_config(overrides=base, use_secrets=False, use_overlay=False)


def test_by_station_id_with_defaults() -> None:
    opts = resolve(config(), station="desk2")
    assert (opts.station, opts.password, opts.pattern) == ("desk2", "pw2", "H340")
    assert opts.core_uri == "sip:127.0.0.1:5060"  # bind_address 0.0.0.0: the core on this box
    assert (opts.bind, opts.port, opts.gateway) == ("127.0.0.1", 0, False)


def test_by_card_as_udev_starts_it() -> None:
    opts = resolve(config(), card="Headset", cards=CARDS)
    assert (opts.station, opts.card) == ("desk1", "Headset")


def test_a_card_no_station_claims_names_the_key() -> None:
    with pytest.raises(ConfigError, match="audio_device"):
        resolve(config(), card="C920", cards=[])


def test_neither_station_nor_card() -> None:
    with pytest.raises(StationError, match="--station ID, or --card CARD"):
        resolve(config())


def test_unknown_station_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(config(), station="desk9")
    assert "stations.desk9" in str(err.value) and "desk1, desk2, desk3" in str(err.value)


def test_a_station_without_password_refuses_to_start() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(config(), station="desk3")
    assert "stations.desk3.password" in str(err.value) and "secrets file" in str(err.value)


@pytest.mark.parametrize(
    ("sip", "uri"),
    [
        ({"bind_address": "0.0.0.0", "port": 5060}, "sip:127.0.0.1:5060"),
        ({"bind_address": "127.0.0.1", "port": 5070}, "sip:127.0.0.1:5070"),
        ({"bind_address": "0.0.0.0", "public_address": "192.168.1.10", "port": 5060}, "sip:192.168.1.10:5060"),
    ],
)
def test_default_core_uri(sip: dict[str, Any], uri: str) -> None:
    assert default_core_uri(config(sip=sip).sip) == uri


def test_a_front_desk_pc_listens_on_its_network() -> None:
    opts = resolve(config(), station="desk1", core="sip:192.168.1.10:5060", port=5071)
    assert (opts.core_uri, opts.bind, opts.port) == ("sip:192.168.1.10:5060", "0.0.0.0", 5071)
    assert resolve(config(), station="desk1", core="sip:192.168.1.10", bind="192.168.1.20").bind == "192.168.1.20"


@pytest.mark.parametrize(("core", "port"), [("192.168.1.10:5060", 0), ("sip:box:port", 0), ("sip:box", 70000)])
def test_bad_core_or_port(core: str, port: int) -> None:
    with pytest.raises(StationError):
        resolve(config(), station="desk1", core=core, port=port)


def test_the_gateway_is_station_gsm() -> None:
    cfg = config(stations={"gsm": {"password": "pw-gsm"}, "desk1": {"password": "pw1"}})
    opts = resolve(cfg, gateway=True)
    assert (opts.station, opts.password, opts.gateway) == ("gsm", "pw-gsm", True)


def test_the_gateway_without_its_table_says_what_to_add() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(config(), gateway=True)
    assert "stations.gsm.password" in str(err.value)


def test_simulated_boxes_use_no_sound_device() -> None:
    assert resolve(config(simulate=True), station="desk1").simulate


def test_with_the_sip_edge_on_a_station_on_the_box_talks_to_the_core_behind_it() -> None:
    # Found under the booted image: the edge on sip.port answers the heartbeats' MESSAGE with 405.
    cfg = config(edge={"enabled": True, "core_port": 5070})
    opts = resolve(cfg, card="Headset", cards=CARDS)
    assert (opts.core_uri, opts.bind) == ("sip:127.0.0.1:5070", "127.0.0.1")
    assert resolve(cfg, station="desk1", core="sip:192.0.2.7:5060").core_uri == "sip:192.0.2.7:5060"
