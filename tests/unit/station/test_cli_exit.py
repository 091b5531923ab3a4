"""``clinicbox station --card`` for a sound card no station can use (unclaimed, no
password, cannot record) exits 78, which clinicbox-station@.service does not
restart: no restart loop for a USB sound card that is not a configured headset."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.cli.station import EXIT_NOT_CONFIGURED
from appliance.station.alsa import NotAHeadset, SoundDevice, parse_cards, pick_device

UNIT = Path(__file__).resolve().parents[3] / "systemd/clinicbox-station@.service"
CARDS = (
    " 0 [Audio          ]: USB-Audio - QEMU USB Audio\n                      QEMU QEMU USB Audio at usb-1, full speed\n"
)


def _run(tmp_path: Path, stations: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    asound = tmp_path / "asound"
    asound.mkdir()
    (asound / "cards").write_text(CARDS)
    cfg = tmp_path / "clinicbox.toml"
    secrets = tmp_path / "secrets.toml"
    cfg.write_text(f'config_version = 1\n[paths]\nsecrets_file = "{secrets}"\nstate_dir = "{tmp_path}"\n{stations}')
    code = main(["--config", str(cfg), "station", "--card", "Audio", "--asound-root", str(asound)])
    return code, capsys.readouterr().err


def test_a_card_no_station_claims_exits_78_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, '[stations.desk1]\naudio_device = "Jabra*"\n', capsys)
    assert code == EXIT_NOT_CONFIGURED == 78
    assert "no station claims sound card 'Audio'" in err


def test_a_station_without_its_password_exits_78(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, '[stations.desk1]\naudio_device = "QEMU*"\n', capsys)
    assert code == 78
    assert "stations.desk1.password: not set" in err


def test_the_unit_does_not_restart_on_78() -> None:
    lines = UNIT.read_text().splitlines()
    assert "Restart=on-failure" in lines and "RestartPreventExitStatus=78" in lines


def test_a_card_that_cannot_record_is_not_a_headset() -> None:
    # QEMU's usb-audio, a USB speaker: PJSUA2 lists its devices with no input.
    card = parse_cards(CARDS)[0]
    with pytest.raises(NotAHeadset, match="can both record and play"):
        pick_device([SoundDevice(0, "plughw:CARD=Audio,DEV=0", 0, 1)], card)
