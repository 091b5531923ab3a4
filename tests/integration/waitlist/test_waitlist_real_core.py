"""Waitlist fill on the real core (``python -m appliance run``: the production wiring of
``appliance/app.py``, its reminder dispatcher, its modem service on the shipped
simulator, the SQLCipher store): Olga's reminder SMS goes out, she answers "No", the
freed slot is offered to Wanda (on the waitlist) as a PDU, Wanda's "Yes" by SMS books
it: a new visit with its reminder planned, a Worklist item, audited. Proves the core
builds the waitlist before the reminders (the yes is read as the offer's), holds the
slot in the reminders' own transaction, and wakes on the reply.
"""

from __future__ import annotations

from pathlib import Path

from appliance.config import load_config
from appliance.store.patient_input import PatientInput
from appliance.store.timefmt import from_db
from appliance.store.waitlist import EntryInput
from appliance.waitlist import wording
from tests.conftest import repos_with_planner
from tests.integration.modemsim import sent_to, sim, wait_for
from tests.integration.reminders.realcore import ReminderBox, reminder_overlay
from tests.integration.switchboard.box import deep_update

OLGA, WANDA = "+12125550191", "+12125550192"


def prepare(box: ReminderBox) -> None:
    """Olga's visit (reminded by SMS at once), and Wanda waiting for any slot."""
    box.book([OLGA], channel="sms")
    from appliance.clock import SystemClock
    from appliance.store import Store

    cfg = load_config(box.config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
    try:
        repos = repos_with_planner(cfg, store)
        wanda = repos.patients.create(
            PatientInput(name="Wanda Waitlist", phones=[WANDA], reminder_channel="sms", language="en"), "test"
        )
        repos.waitlist.add(EntryInput(wanda), "test")
    finally:
        store.close()


def test_a_no_to_a_reminder_is_offered_and_a_yes_books_it_on_the_real_core(tmp_path: Path) -> None:
    overlay = deep_update(reminder_overlay(), {"modem": {"enabled": True}, "waitlist": {"enabled": True}})
    b = ReminderBox(tmp_path / "clinic", overlay, stations={}, prepare=prepare)
    try:
        cfg = load_config(b.config)
        (visit, start_db), *_ = b.query("SELECT id, starts_at FROM appointments")
        start = from_db(start_db)
        texts = wait_for("the reminder SMS to Olga", lambda: sent_to(b, OLGA), 60, b)
        assert len(texts) == 1, f"Olga got {len(texts)} texts: {texts}\n{b.tail()}"
        (reminder,) = texts
        assert "private" not in reminder  # the visit's reason stays out of texts (contact.include_reason off)
        assert sim(b, cmd="sms", **{"from": OLGA, "text": "No"})["ok"]
        wait_for(
            "Olga's visit cancelled",
            lambda: b.query("SELECT status FROM appointments WHERE id = ?", (visit,)) == [("cancelled",)],
            20,
            b,
        )
        (offer,) = wait_for("the offer to Wanda", lambda: sent_to(b, WANDA), 30, b)
        assert offer == wording.offer_text(cfg, "en", start)
        assert sim(b, cmd="sms", **{"from": WANDA, "text": "Yes please"})["ok"]
        booked = wait_for(
            "Wanda's booking",
            lambda: b.query(
                "SELECT a.id, a.starts_at FROM appointments a JOIN patient_phones ph ON ph.patient_id = a.patient_id"
                " WHERE ph.e164 = ? AND a.source = 'waitlist'",
                (WANDA,),
            ),
            20,
            b,
        )
        assert len(booked) == 1 and from_db(booked[0][1]) == start  # Olga's slot, booked once
        new_visit = booked[0][0]
        assert b.query("SELECT action FROM worklist WHERE appointment_id = ?", (new_visit,)) == [("book",)]
        assert b.query("SELECT count(*) FROM reminders WHERE appointment_id = ?", (new_visit,))[0][0] >= 1
        audited = b.query("SELECT object_type, object_id FROM audit_log WHERE action = 'waitlist-booked'")
        assert sorted(t for t, _ in audited) == ["appointment", "waitlist-offer"]  # the visit and the offer, once each
        assert (("appointment", str(new_visit))) in audited
        wait_for("the booking's answer to Wanda", lambda: len(sent_to(b, WANDA)) == 2, 20, b)
        assert sent_to(b, WANDA)[1] == wording.answer_text(cfg, "booked", "en", start)
        assert OLGA not in offer and "Olga" not in offer  # an offer never names whose slot it was
    finally:
        code = b.stop()
    assert code == 0, b.tail()
