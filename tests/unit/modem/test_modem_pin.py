"""SIM PIN tries-left answers, and the record that keeps a PIN from being sent twice."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from appliance.modem.pin import STATE_FILE, PinGuard, not_accepted, refused_before, tries_left

# (answer lines of one of the tries-left commands, tries left)
TRIES = [
    (['+CPINR: "SIM PIN",2,3'], 2),  # 3GPP TS 27.007
    (["+CPINR: SIM PIN,3,3"], 3),
    (['+CPINR: "SIM PUK",10,10'], None),  # PUK, not PIN
    (['+QPINC: "SC",1,10', '+QPINC: "P2",3,10'], 1),  # Quectel
    (['+QPINC: "P2",3,10'], None),
    (["+SPIC: 3,10,3,10"], 3),  # SIMCom
    (["^CPIN: SIM PIN,3,10,3,10,3"], 3),  # Huawei: <code>,<times>,<puk>,<pin>,...
    (["^CPIN: READY,,10,2,10,3"], 2),
    (["+CME ERROR: 4"], None),
    ([], None),
]


@pytest.mark.parametrize(("lines", "left"), TRIES)
def test_tries_left(lines: list[str], left: int | None) -> None:
    assert tries_left(lines) == left


def test_a_recorded_pin_stays_refused_after_a_restart_and_the_file_keeps_no_pin(tmp_path: Path) -> None:
    path = tmp_path / "state" / STATE_FILE
    PinGuard(path).reject("4711", "8948022123456789012")
    again = PinGuard(path)
    assert again.rejected("4711", "8948022123456789012")
    assert not again.rejected("4712", "8948022123456789012")  # a corrected PIN gets its try
    assert not again.rejected("4711", "8948022999999999999")  # so does another SIM
    assert "4711" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_pin_that_unlocked_the_sim_is_forgiven(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE
    guard = PinGuard(path)
    guard.reject("4711")
    guard.forgive("4711")
    assert not PinGuard(path).rejected("4711")
    assert json.loads(path.read_text()) == {"rejected": []}


@pytest.mark.parametrize("content", ["{not json", '{"rejected": "abc"}', "[1, 2]", '{"rejected": [1]}'])
def test_an_unreadable_record_refuses_every_pin(tmp_path: Path, content: str) -> None:
    path = tmp_path / STATE_FILE
    path.write_text(content)
    guard = PinGuard(path)
    assert guard.rejected("4711") and guard.rejected("0000", "8948022123456789012")
    message = refused_before(guard)
    assert "cannot be read" in message and f"Delete {path}" in message
    assert path.read_text() == content  # left for the technician to look at


def test_a_pin_is_not_recorded_where_nothing_can_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    guard = PinGuard(blocker / STATE_FILE)
    with pytest.raises(OSError):
        guard.reject("4711")


def test_messages_say_what_happened_and_what_to_do(tmp_path: Path) -> None:
    guard = PinGuard(tmp_path / STATE_FILE)
    text = not_accepted("AT+CPIN failed: +CME ERROR: 100 (unknown error)", 2, guard)
    assert "+CME ERROR: 100" in text and "2 tries left" in text and "not tried again" in text
    assert "correct modem.pin" in text and f"delete {tmp_path / STATE_FILE}" in text
    assert "1 try left" in not_accepted("x", 1, guard)
    assert "tries left" not in not_accepted("x", None, guard)
    assert "not tried again" in refused_before(guard)
    assert "restart to allow one more try" in refused_before(PinGuard(None))
