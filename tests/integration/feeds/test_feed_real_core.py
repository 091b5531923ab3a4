"""The proof on the real core: the demo clinic's ``python -m appliance run`` with its HL7 listener,
Debian's ``mllp_send`` as the practice system, the core's own SQLCipher store read back.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hl7
import pytest

from tests.integration.reminders.realcore import ReminderBox, reminder_overlay
from tests.integration.switchboard.box import Box, deep_update

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"
SB, EB, CR = b"\x0b", b"\x1c", b"\r"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    b = Box(tmp_path / "clinic")
    yield b
    b.stop()


def send(box: Box, path: Path, *, loose: bool = True) -> list[tuple[str, str, str]]:
    """(MSA-1, MSA-2, ERR-8) of each ACK ``mllp_send`` printed."""
    args = ["mllp_send", *(["--loose"] if loose else []), "-f", str(path), "-p", str(box.hl7_port), "127.0.0.1"]
    out = subprocess.run(args, capture_output=True, timeout=30, check=True).stdout
    acks = []
    for frame in out.split(EB):
        frame = frame.strip(b"\r\n\x0b")
        if frame:
            msg = hl7.parse(frame.decode("utf-8"))
            err = [s for s in msg if str(s[0]) == "ERR"]
            acks.append((str(msg.segment("MSA")[1]), str(msg.segment("MSA")[2]), str(err[0][8]) if err else ""))
    return acks


def framed(tmp: Path, *names: str) -> Path:
    path = tmp / "framed.hl7"
    path.write_bytes(b"".join(SB + (CORPUS / n).read_bytes() + EB + CR for n in names))
    return path


def test_the_demo_cores_listener_books_acks_replays_refuses_and_cancels(box: Box, tmp_path: Path) -> None:
    status = box.control.call("feeds.status")
    assert status["listening"] is True and status["address"] == f"127.0.0.1:{box.hl7_port}"
    for name in ("s12_pl_cr.hl7", "s12_ko_lf.hl7", "s12_zh_crlf_noeol.hl7", "s12_en_repeats.hl7"):
        assert send(box, CORPUS / name)[0][0] == "AA", name
    assert [a[:2] for a in send(box, framed(tmp_path, "s12_es_latin1.hl7", "s12_tr_encoding.hl7"), loose=False)] == [
        ("AA", "ES-0001"),
        ("AA", "TR-0001"),
    ]
    fed = box.query("SELECT id, feed, status FROM appointments WHERE source = 'hl7' ORDER BY filler_id")
    assert len(fed) == 6 and {f[1] for f in fed} == {"MEDREC@MAIN"}
    planned = box.query(
        "SELECT count(DISTINCT r.appointment_id) FROM reminders r JOIN appointments a ON a.id = r.appointment_id"
        " WHERE a.source = 'hl7' AND r.status = 'pending'"
    )
    assert planned == [(6,)]
    # A replay of the same control ID changes nothing; the ACK is the same.
    assert send(box, CORPUS / "s12_pl_cr.hl7")[0][:2] == ("AA", "PL-0001")
    assert len(box.query("SELECT id FROM appointments WHERE source = 'hl7'")) == 6
    # A broken date: AE naming why, nothing changed, listed on the status with its reason.
    code, control, reason = send(box, CORPUS / "bad_date.hl7")[0]
    assert (code, control) == ("AE", "BAD-0006") and "timestamp" in reason
    assert box.query("SELECT count(*) FROM appointments WHERE filler_id = 'F9002'") == [(0,)]
    status = box.control.call("feeds.status")
    assert status["last_24h"]["applied"] == 6
    assert [(p["control_id"], p["location"]) for p in status["needs_attention"]] == [("BAD-0006", "SCH-11.4")]
    # The source cancels: the visit and its reminders are cancelled in the core's store.
    assert send(box, CORPUS / "s15_zh_cancel.hl7")[0][0] == "AA"
    (aid, state) = box.query("SELECT id, status FROM appointments WHERE filler_id = 'F3001'")[0]
    assert state == "cancelled"
    assert box.query("SELECT count(*) FROM reminders WHERE appointment_id = ? AND status = 'pending'", (aid,)) == [(0,)]
    # No patient data in the core's log: names, numbers, birth dates stay in the store.
    log = box.log.read_text(encoding="utf-8", errors="replace")
    for secret in ("Wiśniewska", "김민지", "王芳", "Öztürk", "Núñez", "+48512345678", "19800214", "MRN1001"):
        assert secret not in log, secret
    assert "PL-0001" in log  # control IDs are logged: they are how a technician finds a message


def test_a_fed_visit_is_texted_by_the_real_core_through_the_simulated_modem(tmp_path: Path) -> None:
    """Practice system -> mllp_send -> the core's listener -> reminder planned -> the real dispatcher
    -> an SMS through the core's simulated modem (the demo's; no hardware here)."""
    overlay = deep_update(reminder_overlay(max_attempts=1), {"modem": {"enabled": True, "simulate": True}})
    box = ReminderBox(tmp_path / "clinic", overlay)
    try:
        visit = datetime.now(UTC) + timedelta(hours=24, seconds=8)  # the 24 h reminder is due in 8 s
        message = tmp_path / "s12.hl7"
        message.write_text(
            "\r".join(
                [
                    "MSH|^~\\&|MEDREC|MAIN|CLINICBOX|CLINIC|20261206090000||SIU^S12|RT-0001|P|2.5.1",
                    f"SCH|P-RT1|F-RT1|||||||15|MIN|^^15^{visit:%Y%m%d%H%M%S}+0000",
                    "PID|1||MRN-RT1^^^MEDREC^MR||Nowak^Jan||19800101|M|||||^PRN^CP^^^^^^^^^+12125550177||||en",
                ]
            ),
            encoding="utf-8",
        )
        assert send(box, message)[0][:2] == ("AA", "RT-0001")
        sms = box.rows(
            "SELECT s.number, s.status FROM sms_messages s JOIN reminder_attempts t ON t.id = s.reminder_attempt_id"
            " WHERE s.direction = 'out' AND s.status IN ('sent', 'delivered')",
            timeout=60,
        )
    finally:
        code = box.stop()
    assert code == 0, box.tail(40)
    assert sms and sms[0][0] == "+12125550177", box.tail(60)
