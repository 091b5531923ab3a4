"""Patients answer SMS reminders in their own words, through the simulated modem.

The real chain as the core wires it: the modem service on the simulator
(a real pty, AT commands, PDUs), its SMS queue and inbox in a real
SQLCipher store, the reminder service (``ReminderService.from_core``)
sending the reminders and reading the replies, and the web UI's Text
messages screen on the same store (Flask test client). Only the modem
hardware is simulated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import SystemClock
from appliance.config import Config
from appliance.modem.sim import ModemSimulator, PtySimulator
from appliance.reminders.service import ReminderService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from tests.conftest import clinic_config, repos_with_planner
from tests.integration.modem.conftest import FAST, Rig, wait_until
from tests.integration.reminders.conftest import AROUND_THE_CLOCK
from tests.unit.webui.conftest import login_as
from webui import create_app
from webui.services.reminders import freed_slots

#: (language, mobile number, the patient's reply, the visit's status after it)
ANSWERS = [
    ("en", "601300401", "Yes I'll be there 👍", "confirmed"),
    ("es", "601300402", "No puedo ir, lo siento", "cancelled"),
    ("pl", "601300403", "Nie przyjdę", "cancelled"),
    ("tr", "601300404", "Evet, geleceğim", "confirmed"),
    ("ko", "601300405", "못 가요 ㅠㅠ", "cancelled"),
    ("zh", "601300406", "好的，我会准时到", "confirmed"),
]


@dataclass
class Box:
    cfg: Config
    store: Store
    repos: Repos
    rig: Rig
    service: ReminderService
    app: Flask

    def patient(self, number: str, language: str) -> tuple[int, str]:
        pid = self.repos.patients.create(
            PatientInput(name=f"Patient {number[-3:]}", phones=[number], reminder_channel="sms", language=language),
            "test",
        )
        return pid, self.repos.patients.get(pid, "test").phones[0].e164

    def visit(self, pid: int, minutes_apart: int = 0) -> int:
        """A visit a day ahead (a little less, so its 24-hour reminder is due now)."""
        start = self.store.clock.now() + timedelta(hours=24, minutes=-minutes_apart)
        return self.repos.appointments.create(
            AppointmentInput(
                patient_id=pid, starts_at=start, provider=f"dr {minutes_apart}", reason="secret", location="A"
            ),
            "test",
        )

    def q(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return [tuple(r) for r in self.store.query(sql, params)]

    def reminded(self, count: int) -> None:
        """The reminders went out through the modem (the simulator took them)."""
        self.service.wake()
        wait_until(
            lambda: (
                self.q("SELECT count(*) FROM sms_messages WHERE direction = 'out' AND status IN ('sent', 'delivered')")
                == [(count,)]
            ),
            timeout=20,
            what=f"{count} reminder SMS sent by the modem",
        )

    def incoming(self, number: str, text: str) -> tuple[int, bool, str | None]:
        """The patient's reply arrives at the modem; (sms id, handled, reason) once the reminders saw it."""
        before = self.q("SELECT coalesce(max(id), 0) FROM sms_messages WHERE direction = 'in'")[0][0]
        self.rig.modem.inject_sms(number, text)

        def seen() -> tuple[object, ...] | None:
            rows = self.q(
                "SELECT id, handled, reply_reason FROM sms_messages WHERE direction = 'in' AND id > ?"
                " AND (handled = 1 OR reply_reason IS NOT NULL)",
                (before,),
            )
            return rows[0] if rows else None

        row = wait_until(seen, timeout=10, what=f"the reply {text[:20]!r} to be read")
        return int(row[0]), bool(row[1]), row[2]

    def status(self, aid: int) -> str:
        return str(self.q("SELECT status FROM appointments WHERE id = ?", (aid,))[0][0])


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    cfg = clinic_config(
        tmp_path,
        simulate=True,
        modem=FAST,
        reminders={"windows": AROUND_THE_CLOCK, "offsets_h": [24], "interval_s": 1},
    )
    clock = SystemClock(assume_synced=True)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    repos = repos_with_planner(cfg, store)
    repos.users.add("desk", "front-desk", "test", password="correct horse battery")
    rig = Rig(cfg, PtySimulator(ModemSimulator(pin=cfg.modem.pin)), store, clock).start()
    service = ReminderService.from_core(cfg, clock, rig.bus, store, None, modem=rig.svc)
    service.start()
    app = create_app(cfg, None, store=store, clock=clock, start_live=False)
    app.config["TESTING"] = True
    yield Box(cfg, store, repos, rig, service, app)
    service.stop()
    rig.svc.stop()
    store.close()


def text_messages_screen(box: Box, language: str) -> str:
    client: FlaskClient = box.app.test_client()
    login_as(client, box.app, "desk")
    with client.session_transaction() as session:
        session["lang"] = language
    page = client.get("/messages?status=all")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_reply_in_each_language_confirms_or_cancels_frees_the_slot_and_is_audited(box: Box) -> None:
    visits = {}
    for i, (language, number, _, _) in enumerate(ANSWERS):
        pid, e164 = box.patient(number, language)
        visits[language] = (box.visit(pid, 30 * i), e164)
    box.reminded(len(ANSWERS))

    for language, _, reply, status in ANSWERS:
        aid, e164 = visits[language]
        sms_id, handled, reason = box.incoming(e164, reply)
        assert (handled, reason) == (True, None), f"{language}: {reply!r} left for the desk ({reason})"
        assert box.q("SELECT handled_by FROM sms_messages WHERE id = ?", (sms_id,)) == [("reminders",)]
        assert box.status(aid) == status, f"{language}: {reply!r}"
        outcome = "confirmed" if status == "confirmed" else "cancelled"
        audit = box.q(
            "SELECT actor, action, detail FROM audit_log WHERE action = ? AND detail LIKE ?",
            (f"reminder-{outcome}", f"%appointment {aid},%"),
        )
        assert audit and audit[0][0] == "reminders", f"{language}: no audit entry for {outcome}"
        assert reply not in str(audit)  # ids only, never the patient's words

    freed = {(s.provider, s.by_reminder) for s in freed_slots(box.store, box.store.clock.now())}
    cancelled = {f"dr {30 * i}" for i, a in enumerate(ANSWERS) if a[3] == "cancelled"}
    assert freed == {(provider, True) for provider in cancelled}
    # Each patient got the acknowledgement the reply asked for, in their language.
    acks = box.q("SELECT count(*) FROM sms_messages WHERE direction = 'out' AND reminder_attempt_id IS NULL")
    assert acks == [(len(ANSWERS),)]


def test_unclear_replies_land_on_the_text_messages_screen_with_their_reason(box: Box) -> None:
    pid, e164 = box.patient("601300410", "pl")
    aid = box.visit(pid)
    other_pid, other = box.patient("601300411", "en")
    other_aid = box.visit(other_pid, 60)
    box.reminded(2)

    cases = [
        (e164, "Tak, ale czy mogę o 15?", "question"),
        (e164, "Chcę przełożyć na inny termin", "reschedule"),
        (e164, "Nie, przyjdę", "yes-and-no"),
        (e164, "👍👍", "no-words"),
        (e164, "Ja, ich komme", "unknown-language"),
        (e164, "Tak " + "naprawdę bardzo dziękuję " * 12, "too-long"),
        ("+48601399999", "TAK", "no-reminder"),
    ]
    ids = {}
    for number, text, expected in cases:
        sms_id, handled, reason = box.incoming(number, text)
        assert (handled, reason) == (False, expected), text
        ids[sms_id] = expected
    assert box.status(aid) == "booked"

    # Confirmed, then "no": the desk decides, the confirmation stands.
    assert box.incoming(other, "yes")[1:] == (True, None)
    sms_id, handled, reason = box.incoming(other, "No")
    assert (handled, reason) == (False, "already-answered")
    ids[sms_id] = "already-answered"
    assert box.status(other_aid) == "confirmed"
    assert box.q("SELECT ra.outcome FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
                 " WHERE r.appointment_id = ?", (other_aid,)) == [("confirmed",)]  # fmt: skip

    english = text_messages_screen(box, "en")
    for sms_id, reason in ids.items():
        item = english.split(f'data-sms-id="{sms_id}"', 1)[1].split("</li>", 1)[0]
        assert f'data-testid="sms-reason" data-reason="{reason}"' in item
    assert "Not read automatically: Asks a question" in english
    assert "Not read automatically: Yes and no together" in english
    assert "Not read automatically: The reminder was already answered" in english
    polish = text_messages_screen(box, "pl")
    assert "Nie odczytano automatycznie: Zawiera pytanie" in polish
    assert "Nie odczytano automatycznie: Prosi o zmianę terminu" in polish
