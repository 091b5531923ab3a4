"""Waitlist fill end to end through the modem simulator: a patient cancels by SMS, the
waitlisted patient gets the offer as a PDU, answers yes by SMS and is booked; the reminder
for the new visit is planned, the worklist has the entry, everything is audited.

The real chain as the core wires it: the modem service on the simulator (a real pty, AT
commands, PDUs decoded by the simulator), its SMS queue and inbox in a real SQLCipher store,
the waitlist service registered before the reminder service (as ``appliance/app.py`` does),
the reminder service sending the reminder and reading the cancel. Only the modem hardware is
simulated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import SystemClock
from appliance.config import Config
from appliance.modem.sim import ModemSimulator, PtySimulator
from appliance.reminders.service import ReminderService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from appliance.store.waitlist import EntryInput
from appliance.waitlist import WaitlistService, wording
from tests.conftest import clinic_config, repos_with_planner
from tests.integration.modem.conftest import FAST, Rig, wait_until

ALWAYS = {d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
OLGA, BORA, CHEN, STRANGER = "+48601300501", "+48601300502", "+48601300503", "+48601300599"
OPTED_OUT, LANDLINE = "+48601300504", "+48221300505"


@dataclass
class Box:
    cfg: Config
    store: Store
    repos: Repos
    rig: Rig
    reminders: ReminderService
    waitlist: WaitlistService

    def patient(self, name: str, number: str, language: str) -> int:
        return self.repos.patients.create(
            PatientInput(name=name, phones=[number], reminder_channel="sms", language=language), "desk"
        )

    def visit(self, pid: int) -> int:
        """A visit a day ahead (a little less, so its 24-hour reminder is due now)."""
        start = self.store.clock.now().replace(second=0, microsecond=0) + timedelta(hours=24, minutes=-5)
        return self.repos.appointments.create(
            AppointmentInput(patient_id=pid, starts_at=start, provider="Dr Nowak", reason="secret"), "desk"
        )

    def q(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.store.query(sql, params)]

    def pdus_to(self, number: str) -> list[str]:
        """What the network took from the modem for ``number`` (decoded from the PDUs, parts joined)."""
        texts: list[str] = []
        refs: dict[int, int] = {}
        for part in self.rig.modem.sent:
            if part.number != number:
                continue
            if part.concat is None:
                texts.append(part.text)
            elif part.concat[0] in refs:
                texts[refs[part.concat[0]]] += part.text
            else:
                refs[part.concat[0]] = len(texts)
                texts.append(part.text)
        return texts


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    cfg = clinic_config(
        tmp_path,
        simulate=True,
        modem=FAST,
        reminders={"windows": ALWAYS, "offsets_h": [24], "interval_s": 1},
        waitlist={"enabled": True, "batch": 1},
    )
    clock = SystemClock(assume_synced=True)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    repos = repos_with_planner(cfg, store)
    rig = Rig(cfg, PtySimulator(ModemSimulator(pin=cfg.modem.pin)), store, clock).start()
    waitlist = WaitlistService(cfg, clock, rig.bus, store, repos, rig.svc)
    waitlist.start()  # before the reminders, as the core starts them
    reminders = ReminderService.from_core(cfg, clock, rig.bus, store, None, modem=rig.svc)
    reminders.start()
    yield Box(cfg, store, repos, rig, reminders, waitlist)
    reminders.stop()
    waitlist.stop()
    rig.svc.stop()
    store.close()


def cancel_by_sms(box: Box, number: str, visit: int) -> None:
    """The reminder reaches the patient's phone; the patient answers "Nie przyjdę"."""
    box.reminders.wake()
    wait_until(lambda: box.pdus_to(number), 20, "the reminder PDU")
    box.rig.modem.inject_sms(number, "Nie przyjdę")
    wait_until(lambda: box.q("SELECT status FROM appointments WHERE id = ?", (visit,)) == [("cancelled",)], 15,
               "the visit cancelled by the reply")  # fmt: skip


def test_a_cancel_by_sms_is_offered_taken_by_sms_and_booked(box: Box) -> None:
    olga = box.patient("Olga Owner", OLGA, "pl")
    bora = box.patient("Bora Sánchez", BORA, "es")
    box.repos.waitlist.add(EntryInput(bora), "desk")
    visit = box.visit(olga)
    cancel_by_sms(box, OLGA, visit)
    start = box.repos.appointments.get(visit, "t").starts_at

    (offer,) = wait_until(lambda: box.pdus_to(BORA), 20, "the offer PDU to the waitlisted patient")
    assert offer == wording.offer_text(box.cfg, "es", start)
    assert "secret" not in offer and "Nowak" not in offer
    assert box.pdus_to(OLGA)[:1] and not any("libre" in t or "zwolnił" in t for t in box.pdus_to(OLGA))

    box.rig.modem.inject_sms(BORA, "Sí, la quiero")
    booked = wait_until(
        lambda: box.q(
            "SELECT id, starts_at, status FROM appointments WHERE patient_id = ? AND source = 'waitlist'", (bora,)
        ),
        15,
        "the booking",
    )
    ((new_id, starts_at, status),) = booked
    assert status == "booked"
    assert starts_at == box.q("SELECT starts_at FROM appointments WHERE id = ?", (visit,))[0][0]
    assert box.q("SELECT count(*) FROM reminders WHERE appointment_id = ?", (new_id,))[0][0] >= 1
    assert box.q("SELECT action, appointment_id FROM worklist WHERE action = 'book'") == [("book", new_id)]
    wait_until(
        lambda: (
            box.q("SELECT handled, handled_by FROM sms_messages WHERE direction = 'in' AND number = ?", (BORA,))
            == [(1, "waitlist")]
        ),
        10,
        "the yes marked handled by the waitlist",
    )
    wait_until(lambda: len(box.pdus_to(BORA)) == 2, 15, "the booking confirmation PDU")
    assert box.pdus_to(BORA)[1] == wording.answer_text(box.cfg, "booked", "es", start)
    actions = [r[0] for r in box.q("SELECT action FROM audit_log ORDER BY id")]
    for done in ("status:cancelled", "waitlist-add", "waitlist-offered", "waitlist-booked", "waitlist-booked"):
        assert done in actions, done
    assert box.q("SELECT state FROM waitlist_slots") == [("filled",)]
    assert box.q("SELECT state FROM waitlist WHERE patient_id = ?", (bora,)) == [("booked",)]


def test_bad_input_through_the_modem_nothing_double_booked_nothing_lost(box: Box) -> None:
    olga = box.patient("Olga Owner", OLGA, "pl")
    out = box.patient("Opted Out", OPTED_OUT, "en")
    box.repos.patients.set_opt_out(out, True, "desk")
    land = box.patient("Landline", LANDLINE, "pl")
    bora = box.patient("Bora", BORA, "en")
    chen = box.patient("Chen", CHEN, "zh")
    for pid in (out, land, bora, chen):
        box.repos.waitlist.add(EntryInput(pid), "desk")
        time.sleep(0.002)  # joined one after another: offers follow that order
    visit = box.visit(olga)
    cancel_by_sms(box, OLGA, visit)

    wait_until(lambda: box.pdus_to(BORA), 20, "the offer to the first mobile that may be texted")
    states = box.q("SELECT patient_id, state, reason FROM waitlist_offers ORDER BY id")
    assert states[:3] == [(out, "skipped", "opted-out"), (land, "skipped", "landline"), (bora, "offered", "")]
    assert box.pdus_to(OPTED_OUT) == [] and box.pdus_to(LANDLINE) == []

    # A yes from a number that was offered nothing: not a booking, kept for the desk.
    box.rig.modem.inject_sms(STRANGER, "yes")
    wait_until(lambda: box.q("SELECT reply_reason FROM sms_messages WHERE direction = 'in' AND number = ?",
               (STRANGER,)) == [("no-reminder",)], 15, "the stranger's yes read")  # fmt: skip

    # Bora says no: the next patient (Chen) gets the offer; Bora says yes afterwards: expired for her.
    box.rig.modem.inject_sms(BORA, "No thanks")
    wait_until(lambda: box.pdus_to(CHEN), 20, "the offer moving to the next patient")
    box.rig.modem.inject_sms(CHEN, "好的")
    wait_until(lambda: box.q("SELECT state FROM waitlist_slots") == [("filled",)], 15, "the booking")
    box.rig.modem.inject_sms(BORA, "yes")
    wait_until(lambda: len(box.pdus_to(BORA)) == 3, 15, "the answer to the late yes")
    assert box.pdus_to(BORA)[2] == wording.answer_text(box.cfg, "expired", "en")
    booked = box.q("SELECT patient_id FROM appointments WHERE source = 'waitlist'")
    assert booked == [(chen,)]
    entries = dict(box.q("SELECT patient_id, state FROM waitlist"))
    assert entries == {out: "waiting", land: "waiting", bora: "waiting", chen: "booked"}
    assert box.q("SELECT count(*) FROM sms_messages WHERE direction = 'in' AND handled = 0 AND number != ?",
                 (STRANGER,)) == [(0,)]  # fmt: skip
