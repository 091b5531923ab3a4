"""A real third-party AT client, gammu (Debian package `gammu`), sends and reads SMS
through the simulator on a pty: the simulator speaks AT like a real modem, and our
PDU codec agrees with gammu's independent one in both directions."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator
from appliance.modem.wire.pdu import clean_text
from tests.integration.modem.conftest import wait_until

GAMMU = shutil.which("gammu")


@pytest.fixture
def gammu_rc(tmp_path: Path) -> Iterator[tuple[Path, ModemSimulator]]:
    assert GAMMU, "gammu is not installed: apt-get install gammu (it is in the Makefile's TEST_APT)"
    sim = PtySimulator(ModemSimulator(profile="sim7600"), link=tmp_path / "modem")
    sim.start()
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {tmp_path / 'modem'}\nconnection = at19200\n")
    wait_until(lambda: sim.modem.state.reg_stat == 1, what="registration")
    try:
        yield rc, sim.modem
    finally:
        sim.stop()


def gammu(rc: Path, *args: str) -> str:
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [GAMMU or "gammu", "-c", str(rc), *args], capture_output=True, text=True, timeout=90, env=env
    )
    assert result.returncode == 0, f"gammu {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


LONG_PL = "Przypomnienie: wizyta jutro o 10:30. Zażółć gęślą jaźń. " * 4


def test_gammu_identifies_sends_and_reads_through_the_simulator(
    gammu_rc: tuple[Path, ModemSimulator], tmp_path: Path
) -> None:
    """One gammu session (its start-up takes seconds): identify, send GSM 7-bit and a
    Unicode multipart SMS, then read what the network delivered."""
    rc, modem = gammu_rc
    modem.inject_sms("+821012345678", "내일 오전 10시 예약 확인합니다")
    modem.inject_sms("+905321234567", "Randevumu onaylıyorum, teşekkürler Şükrü")
    modem.inject_sms("+48601234567", "TAK")
    batch = tmp_path / "batch"
    batch.write_text(
        "identify\n"
        'sendsms TEXT +48601234567 -text "Hello from gammu {ok}"\n'
        f'sendsms TEXT +48601234567 -unicode -len {len(LONG_PL)} -text "{LONG_PL}"\n'
        "getallsms\n",
        encoding="utf-8",
    )
    out = gammu(rc, "batch", str(batch))
    # identify: the simulator answers gammu's own start-up sequence like a SIM7600
    assert "SIMCOM INCORPORATED" in out and "866758041234567" in out and "260021234567890" in out
    # sendsms: gammu's PDUs, decoded by our codec
    sent = modem.sent
    assert sent[0].text == "Hello from gammu {ok}" and sent[0].encoding == "gsm7"
    parts = sorted(sent[1:], key=lambda p: p.concat[2] if p.concat else 0)
    assert len(parts) >= 2 and all(p.encoding == "ucs2" and p.concat for p in parts)
    assert len({p.concat[0] for p in parts if p.concat}) == 1
    assert clean_text("".join(p.text for p in parts)) == LONG_PL
    assert "OK, message reference=0" in out
    # getallsms: our PDUs, decoded by gammu
    assert "내일 오전 10시 예약 확인합니다" in out
    assert "Randevumu onaylıyorum, teşekkürler Şükrü" in out
    assert '"+905321234567"' in out and '"+821012345678"' in out
    assert "3 SMS parts in 3 SMS sequences" in out


def test_gammu_links_the_parts_of_a_multipart_message(gammu_rc: tuple[Path, ModemSimulator]) -> None:
    """gammu reads our concatenation headers and joins the parts back into the text."""
    rc, modem = gammu_rc
    modem.inject_sms("+48601234567", LONG_PL, order=[4, 2, 1, 3])
    out = gammu(rc, "geteachsms")
    assert "4 SMS parts in 1 SMS sequences" in out
    assert "Concatenated (linked) message, ID (8 bit) 40, 4 parts" in out
    assert LONG_PL in out
