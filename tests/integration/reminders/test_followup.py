"""No-show follow-ups through the real reminder dispatcher, on a real SQLCipher store.

The world of ``conftest.py``: a fake clock, the real ``ReminderService``
(its dispatcher ticked step by step), the real SMS queue, and the shipped
fake switchboard standing in for the phone line. A visit is booked, its
time passes, the desk (or the feed) marks it a no-show; the follow-up goes
once, by the patient's channel, and the answer reaches the worklist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.errors import ValidationError
from appliance.modem.smsservice import IncomingSms
from appliance.reminders.followup_replies import FollowUpReplies
from appliance.reminders.followup_wording import SMS
from appliance.reminders.when import written
from appliance.store.sms import SmsRepo
from tests.integration.reminders.conftest import Behaviour, World, build_world

MOBILE = "601200301"
LANDLINE = "221200302"


def missed_visit(w: World, number: str, channel: str = "sms", language: str = "en", **kw: Any) -> tuple[int, int]:
    """A patient whose 15-minute visit started an hour ago; (patient, appointment)."""
    pid = w.patient(number, channel=channel, language=language, **kw)
    aid = w.visit(pid, 2.0)
    w.clock.advance(3 * 3600)  # the visit's time passes (no reminder: offsets are 24 h ahead)
    return pid, aid


def texts(w: World) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in w.q("SELECT number, body FROM sms_messages WHERE direction = 'out'")]


def trace(w: World, aid: int) -> list[tuple[str, str, str]]:
    return [
        (str(r[0]), str(r[1]), str(r[2]))
        for r in w.q("SELECT kind, outcome, reason FROM contact_log WHERE appointment_id = ? ORDER BY id", (aid,))
    ]


def worklist(w: World) -> list[tuple[int, str, str]]:
    return [(int(r[0]), str(r[1]), str(r[2])) for r in w.q("SELECT appointment_id, action, detail FROM worklist")]


def reply(w: World, number: str, text: str) -> str | None:
    sms_id, _ = SmsRepo(w.store, w.clock).insert_incoming(number, text, 1, "gsm7", "received", w.clock.now(), None)
    hook = FollowUpReplies(w.cfg, w.clock, w.store, w.repos.audit)
    return hook(IncomingSms(sms_id, number, text, w.clock.now(), False, None))


@pytest.fixture
def sms_world(tmp_path: Path) -> Any:
    w = build_world(tmp_path, modem=True, followup={"delay_min": 30})
    yield w
    w.store.close()


def test_a_no_show_gets_one_text_in_their_language_after_the_delay_and_marking_twice_sends_one(
    sms_world: World,
) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE, language="es")
    w.repos.appointments.set_status(aid, "no-show", "desk")
    assert trace(w, aid) == [("followup", "waiting", "planned")]
    w.dispatcher.tick()  # it ended 45 minutes ago: the 30-minute delay is over
    assert len(texts(w)) == 1
    number, body = texts(w)[0]
    assert number == w.numbers[pid]
    starts = w.repos.appointments.get(aid, "t").starts_at
    day, hour = written(starts, "es", w.cfg.clinic.timezone, w.cfg.clinic.country)
    assert body == SMS["es"].format(clinic="Test Clinic", date=day, time=hour)
    assert "secret" not in body  # the reason for the visit stays out (contact.include_reason = false)
    assert trace(w, aid) == [("followup", "queued", "")]
    # Marked again (booked by mistake, then no-show again): still one follow-up.
    w.repos.appointments.set_status(aid, "booked", "desk")
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(600)
    assert len(texts(w)) == 1
    assert w.q("SELECT count(*) FROM followups") == [(1,)]
    actions = [r[0] for r in w.q("SELECT action FROM audit_log WHERE actor = 'followup'")]
    assert actions == ["followup-sent"]


def test_the_delay_after_the_visits_end_is_kept(sms_world: World) -> None:
    w = sms_world
    pid = w.patient(MOBILE, channel="sms", language="en")
    aid = w.visit(pid, 0.25)  # starts in 15 min, 15 min long: ends in 30 min
    w.clock.advance(20 * 60)  # it started; the patient is not here
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(30 * 60)  # 10 min after its end + 20 min: the 30-minute delay is not over
    assert texts(w) == []
    w.run(15 * 60)
    assert len(texts(w)) == 1


def test_the_reply_lands_on_the_worklist_with_what_the_patient_said_and_is_audited(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE)
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(600)
    assert reply(w, w.numbers[pid], "Yes") == "followup"
    assert worklist(w) == [(aid, "rebook", 'SMS reply to the no-show follow-up (wants a new appointment): "Yes"')]
    assert reply(w, w.numbers[pid], "Can I come Tuesday afternoon?") == "followup"
    assert worklist(w)[1][2].startswith("SMS reply to the no-show follow-up (unclear: read it)")
    audit = w.q("SELECT action, object_type FROM audit_log WHERE action = 'followup-answer'")
    assert audit == [("followup-answer", "worklist"), ("followup-answer", "worklist")]
    # STOP is not the follow-up's: the contact keywords take it (opt-out, confirmation).
    assert reply(w, w.numbers[pid], "STOP") is None
    # A number that got no follow-up is not claimed.
    assert reply(w, "+48601999999", "yes") is None
    # After followup.reply_h the number's texts are ordinary messages again.
    w.clock.advance(73 * 3600)
    assert reply(w, w.numbers[pid], "yes") is None
    assert len(worklist(w)) == 2


def test_a_voice_patient_is_called_and_key_1_puts_a_rebook_on_the_worklist(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE, channel="voice", language="pl")
    w.answers(pid, Behaviour("answer", 2.0, "1", 3.0))
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(1200)
    assert texts(w) == []
    assert [n for _, n, _ in w.switchboard.placed] == [w.numbers[pid]]
    assert worklist(w) == [(aid, "rebook", "pressed 1 on the follow-up call: please call to book a new time")]
    assert trace(w, aid) == [("followup", "delivered", "call")]
    assert w.q("SELECT state FROM followups") == [("sent",)]
    w.run(3600)
    assert len(w.switchboard.placed) == 1


def test_a_landline_is_called_never_texted(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, LANDLINE, channel="sms")
    w.answers(pid, Behaviour("answer", 2.0, "2", 3.0))
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(1200)
    assert texts(w) == []
    assert worklist(w) == [(aid, "rebook", "pressed 2 on the follow-up call: does not want a new appointment")]
    assert trace(w, aid) == [("followup", "delivered", "call")]


def test_an_unanswered_call_is_not_redialled(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE, channel="voice")
    w.answers(pid, Behaviour("no-answer"), Behaviour("answer", 2.0, "1", 3.0))
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(3 * 3600)
    assert trace(w, aid) == [("followup", "failed", "no-answer")]
    assert worklist(w) == []


def test_an_opted_out_patient_gets_nothing_and_the_trace_says_why(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE)
    w.repos.patients.set_opt_out(pid, True, "desk", via="phone")
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(3600)
    assert texts(w) == []
    assert trace(w, aid) == [("followup", "skipped", "opted-out")]
    assert w.q("SELECT state, detail FROM followups") == [("skipped", "opted-out")]


def test_a_patient_without_a_phone_is_skipped_saying_so(sms_world: World) -> None:
    w = sms_world
    from appliance.store.patient_input import PatientInput

    pid = w.repos.patients.create(PatientInput(name="No Phone", phones=[], reminder_channel="sms"), "t")
    aid = w.visit(pid, 2.0)
    w.clock.advance(3 * 3600)
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(3600)
    assert texts(w) == []
    assert trace(w, aid) == [("followup", "skipped", "no-phone")]


def test_a_visit_still_to_come_cannot_be_marked_a_no_show_on_the_box(sms_world: World) -> None:
    w = sms_world
    pid = w.patient(MOBILE, channel="sms")
    aid = w.visit(pid, 3.0)
    with pytest.raises(ValidationError, match="has not started yet"):
        w.repos.appointments.set_status(aid, "no-show", "desk")
    assert w.status(aid) == "booked"
    assert w.q("SELECT count(*) FROM followups") == [(0,)]


def test_the_daily_cap_counts_the_follow_up_with_the_reminders(tmp_path: Path) -> None:
    w = build_world(tmp_path, modem=True, followup={"delay_min": 0})
    try:
        pid, aid = missed_visit(w, MOBILE)
        from appliance.store import contacts

        with w.store.transaction() as conn:  # a text-back went to the patient today already
            contacts.record(conn, w.clock.now(), "textback", w.numbers[pid], "sent", patient_id=pid)
        w.repos.appointments.set_status(aid, "no-show", "desk")
        w.run(600)
        assert texts(w) == []
        assert trace(w, aid) == [("followup", "skipped", "cap-day")]
    finally:
        w.store.close()


def test_turned_off_nothing_goes_and_old_no_shows_are_not_sent_when_turned_on(tmp_path: Path) -> None:
    w = build_world(tmp_path, modem=True, followup={"enabled": False, "stale_h": 6})
    try:
        _pid, aid = missed_visit(w, MOBILE)
        w.repos.appointments.set_status(aid, "no-show", "desk")
        w.run(3600)
        assert texts(w) == []
        w.clock.advance(20 * 3600)  # the next morning, inside the calling window
        w.service.dispatcher.reconfigure(
            build_world(tmp_path / "on", modem=True, followup={"enabled": True, "stale_h": 6}).cfg
        )
        w.run(600)
        assert texts(w) == []
        assert trace(w, aid) == [("followup", "skipped", "too-late")]
    finally:
        w.store.close()


def test_with_the_reason_switch_on_reminders_and_follow_ups_name_the_reason(tmp_path: Path) -> None:
    w = build_world(tmp_path, modem=True, contact={"include_reason": True}, followup={"delay_min": 0})
    try:
        pid = w.patient(MOBILE, channel="sms", language="en")
        ahead = w.visit(pid, 23.5)  # its 24-hour reminder is due now
        w.run(60)
        reminder = [b for _, b in texts(w)]
        assert len(reminder) == 1 and "Visit: secret." in reminder[0]
        w.clock.advance(25 * 3600)
        w.repos.appointments.set_status(ahead, "no-show", "desk")
        w.run(600)
        bodies = [b for _, b in texts(w)]
        assert len(bodies) == 2 and bodies[1].endswith("Visit: secret.")
    finally:
        w.store.close()


def test_with_the_reason_switch_off_no_text_names_it(sms_world: World) -> None:
    w = sms_world
    pid = w.patient(MOBILE, channel="sms", language="en")
    aid = w.visit(pid, 23.5)
    w.run(60)
    w.clock.advance(25 * 3600)
    w.repos.appointments.set_status(aid, "no-show", "desk")
    w.run(3600)
    bodies = [b for _, b in texts(w)]
    assert len(bodies) == 2
    assert all("secret" not in b and "Visit:" not in b for b in bodies)


def test_a_follow_up_left_sending_by_a_crash_is_settled_from_the_modems_queue(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE)
    w.repos.appointments.set_status(aid, "no-show", "desk")
    from appliance.store import followups

    with w.store.transaction() as conn:  # the box died between the claim and the modem's queue
        followups.claim(conn, 1, "sms", w.numbers[pid], "en", w.clock.now())
    w.service.dispatcher.recover()
    w.run(3600)
    assert texts(w) == []  # never sent twice: with no queued SMS it fails, saying why
    assert w.q("SELECT state, detail FROM followups") == [("failed", "the box restarted first")]


def test_a_follow_up_the_modem_took_before_a_crash_is_kept_and_not_sent_again(sms_world: World) -> None:
    w = sms_world
    pid, aid = missed_visit(w, MOBILE)
    w.repos.appointments.set_status(aid, "no-show", "desk")
    from appliance.store import followups

    with w.store.transaction() as conn:
        followups.claim(conn, 1, "sms", w.numbers[pid], "en", w.clock.now())
    assert w.sms is not None
    w.sms.send_sms(w.numbers[pid], "the follow-up", patient_id=pid)  # queued; then the box died
    w.service.dispatcher.recover()
    w.run(3600)
    assert len(texts(w)) == 1
    assert w.q("SELECT state FROM followups") == [("sent",)]
    assert trace(w, aid) == [("followup", "queued", "")]


def test_a_follow_up_calls_timers_never_collide_with_a_reminder_calls() -> None:
    from appliance.ivr.prompts import PromptRef
    from appliance.reminders.dialogue import ReminderScript
    from appliance.reminders.followup import FollowUpScript

    reminder = ReminderScript(1, "en", when=PromptRef("reminder_when"), machine=PromptRef("reminder_machine"))
    followup = FollowUpScript(1, "en", when=PromptRef("followup_when"), machine=PromptRef("reminder_machine"))
    reminder.call_id = followup.call_id = "c"
    for script in (reminder, followup):
        script.start()
        script.on_prompt_done(1)  # the greeting ends: the script waits for a key on a timer
    assert reminder._timer is not None and followup._timer is not None
    assert reminder._timer.startswith("rem:") and followup._timer.startswith("rem:")
    assert reminder._timer != followup._timer
