"""The no-show follow-up end to end on real components, only the modem hardware simulated.

The practice system's S12 and S26 arrive through the real MLLP listener
(Debian's ``mllp_send``), are committed to a real SQLCipher store, the
real reminder service (its APScheduler and dispatcher, as the core runs
them) sends the follow-up through the modem service to the simulator on a
real pty, which decodes the PDU; the patient's reply comes back through
the simulator as a network SMS and lands on the front desk's worklist.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import hl7
import pytest

from appliance.clock import SystemClock
from appliance.config import Config
from appliance.feeds.service import FeedService
from appliance.modem.sim import ModemSimulator, PtySimulator
from appliance.reminders.followup_wording import SMS
from appliance.reminders.service import ReminderService
from appliance.reminders.when import written
from appliance.store import Store
from appliance.store.repos import Repos
from tests.conftest import clinic_config, free_port, repos_with_planner
from tests.integration.modem.conftest import FAST, Rig, wait_until

WARSAW = ZoneInfo("Europe/Warsaw")
MLLP_SEND = "/usr/bin/mllp_send"
ANY_TIME = {d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
MOBILE = "+48601200377"
PID = "PID|1||MRN77^^^MEDREC^MR||Nowak^Jan||19800101|M|||||^PRN^CP^^^^^^^^^{phone}||{lang}"


def siu(trigger: str, control: str, filler: str, starts: datetime, phone: str = MOBILE, lang: str = "eng") -> str:
    when = f"^^20^{starts.astimezone(WARSAW):%Y%m%d%H%M}"
    return "\r".join(
        [
            f"MSH|^~\\&|MEDREC|MAIN|CLINICBOX|CLINIC|20260302090000||SIU^{trigger}|{control}|P|2.5",
            f"SCH|P-{filler}|{filler}|||||||20|MIN|{when}",
            PID.format(phone=phone, lang=lang),
        ]
    )


@dataclass
class Box:
    cfg: Config
    store: Store
    repos: Repos
    rig: Rig
    reminders: ReminderService
    feed: FeedService
    tmp: Path

    def send(self, *messages: str) -> list[tuple[str, str]]:
        """Each message through ``mllp_send``; (MSA-1, MSA-2) of each ACK."""
        path = self.tmp / f"batch-{len(list(self.tmp.glob('batch-*')))}.hl7"
        path.write_text("\n".join(messages), encoding="utf-8")
        port = self.feed.listener.port  # type: ignore[union-attr]
        done = subprocess.run(
            [MLLP_SEND, "--loose", "-f", str(path), "-p", str(port), "127.0.0.1"],
            capture_output=True,
            timeout=30,
            check=True,
        )
        frames = [f.strip(b"\r\n\x0b") for f in done.stdout.split(b"\x1c") if f.strip(b"\r\n\x0b")]
        acks = [hl7.parse(f.decode("utf-8")) for f in frames]
        return [(str(a.segment("MSA")[1]), str(a.segment("MSA")[2])) for a in acks]

    def q(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return [tuple(r) for r in self.store.query(sql, params)]

    def sent_to(self, number: str) -> list[str]:
        """What the simulated network received for ``number`` (decoded from the PDUs)."""
        return [s.text for s in self.rig.modem.sent if s.number == number]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    cfg = clinic_config(
        tmp_path,
        simulate=True,
        modem=FAST,
        reminders={"windows": ANY_TIME, "offsets_h": [24], "interval_s": 1},
        followup={"delay_min": 0},
        feeds={"hl7": {"enabled": True, "port": free_port(socket.SOCK_STREAM), "allowed_senders": ["127.0.0.1"]}},
    )
    clock = SystemClock(assume_synced=True)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    repos = repos_with_planner(cfg, store)
    rig = Rig(cfg, PtySimulator(ModemSimulator(pin=cfg.modem.pin)), store, clock).start()
    reminders = ReminderService.from_core(cfg, clock, rig.bus, store, None, modem=rig.svc)
    reminders.start()
    feed = FeedService(cfg, repos, clock)
    feed.start()
    yield Box(cfg, store, repos, rig, reminders, feed, tmp_path)
    feed.stop()
    reminders.stop()
    rig.svc.stop()
    store.close()


def test_an_s26_through_mllp_sends_one_follow_up_pdu_and_the_reply_lands_on_the_worklist(box: Box) -> None:
    started = datetime.now(WARSAW).replace(second=0, microsecond=0) - timedelta(hours=2)
    assert box.send(siu("S12", "C-1", "F77", started)) == [("AA", "C-1")]
    assert box.send(siu("S26", "C-2", "F77", started)) == [("AA", "C-2")]
    acked = time.monotonic()
    ((aid, status),) = box.q("SELECT id, status FROM appointments")
    assert status == "no-show"
    (body,) = wait_until(lambda: box.sent_to(MOBILE), 20, "the follow-up's PDU at the simulator")
    print(f"follow-up PDU at the modem simulator {time.monotonic() - acked:.1f} s after the S26's ACK")
    day, hour = written(started, "en", box.cfg.clinic.timezone, box.cfg.clinic.country)
    assert body == SMS["en"].format(clinic="Test Clinic", date=day, time=hour)

    # The practice system sends the S26 again (a replay, then a new control ID): still one text.
    assert box.send(siu("S26", "C-2", "F77", started), siu("S26", "C-3", "F77", started)) == [
        ("AA", "C-2"),
        ("AA", "C-3"),
    ]
    box.reminders.wake()

    box.rig.modem.inject_sms(MOBILE, "Yes please")  # the patient answers, as the network delivers it
    replied = time.monotonic()
    (item,) = wait_until(
        lambda: box.q("SELECT appointment_id, action, detail, done_at FROM worklist WHERE action = 'rebook'"),
        20,
        "the reply on the worklist",
    )
    print(f"reply on the worklist {time.monotonic() - replied:.1f} s after the network delivered it")
    assert item[:2] == (aid, "rebook") and item[3] is None
    assert '"Yes please"' in str(item[2])
    wait_until(  # the modem marks the message handled once the hook returns
        lambda: box.q("SELECT handled, handled_by FROM sms_messages WHERE direction = 'in'") == [(1, "followup")],
        5,
        "the reply marked handled by the follow-up",
    )
    assert box.q("SELECT action FROM audit_log WHERE action LIKE 'followup-%' ORDER BY id") == [
        ("followup-sent",),
        ("followup-answer",),
    ]
    wait_until(
        lambda: (
            box.q("SELECT kind, outcome FROM contact_log WHERE appointment_id = ?", (aid,))
            in ([("followup", "queued")], [("followup", "sent")], [("followup", "delivered")])
        ),
        5,
        "the visit's trace",
    )
    assert len(box.sent_to(MOBILE)) == 1


def test_an_s26_for_a_visit_the_box_does_not_know_changes_nothing_and_sends_nothing(box: Box) -> None:
    started = datetime.now(WARSAW) - timedelta(hours=2)
    acks = box.send(siu("S26", "C-9", "F-UNKNOWN", started))
    assert acks == [("AA", "C-9")]  # received (HL7 ACKs mean no more), filed as ignored with the reason
    (ledger,) = box.q("SELECT status, reason FROM feed_messages WHERE control_id = 'C-9'")
    assert ledger[0] == "ignored" and "no such appointment" in str(ledger[1])
    assert box.q("SELECT count(*) FROM appointments") == [(0,)]
    assert box.q("SELECT count(*) FROM followups") == [(0,)]
    box.reminders.wake()
    time.sleep(3)  # three dispatcher ticks (interval_s = 1)
    assert box.rig.modem.sent == []


def test_an_s26_for_a_visit_still_to_come_sends_no_follow_up(box: Box) -> None:
    later = datetime.now(WARSAW).replace(second=0, microsecond=0) + timedelta(hours=30)
    assert box.send(siu("S12", "C-1", "F88", later), siu("S26", "C-2", "F88", later)) == [
        ("AA", "C-1"),
        ("AA", "C-2"),
    ]
    assert box.q("SELECT status FROM appointments") == [("no-show",)]  # the source's truth
    assert box.q("SELECT state, detail FROM followups") == [("skipped", "visit-not-over")]
    box.reminders.wake()
    time.sleep(3)
    assert box.sent_to(MOBILE) == []
