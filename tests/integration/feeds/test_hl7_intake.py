"""HL7 messages applied to a real SQLCipher store: idempotent, audited, re-planned, refused cleanly.

Each message goes through the same :class:`Intake` the MLLP listener uses;
the ACK is read back with the ``hl7`` library as a sender would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hl7
import pytest

from appliance.config import Config
from appliance.feeds.intake import Intake, Outcome
from appliance.store.connection import Store
from appliance.store.repos import Repos
from tests.conftest import clinic_config

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"
SIX_LANGUAGES = [
    "s12_pl_cr.hl7",
    "s12_ko_lf.hl7",
    "s12_zh_crlf_noeol.hl7",
    "s12_tr_encoding.hl7",
    "s12_es_latin1.hl7",
    "s12_en_repeats.hl7",
]


@pytest.fixture
def intake(cfg: Config, repos: Repos) -> Intake:
    return Intake(cfg, repos, repos.store.clock)


def send(intake: Intake, name: str) -> Outcome:
    return intake.handle((CORPUS / name).read_bytes())


def ack_of(outcome: Outcome) -> tuple[str, str, str]:
    """(MSA-1, MSA-2, ERR-8) as the sender reads them."""
    msg = hl7.parse(outcome.ack)
    err = [s for s in msg if str(s[0]) == "ERR"]
    return str(msg.segment("MSA")[1]), str(msg.segment("MSA")[2]), str(err[0][8]) if err else ""


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a feed may change, to show that a refused message changed nothing."""
    q = store.query_tuples
    return {
        "patients": q("SELECT id, import_key, display_name, language FROM patients ORDER BY id"),
        "phones": q("SELECT patient_id, e164 FROM patient_phones ORDER BY id"),
        "appointments": q("SELECT id, starts_at, ends_at, status, provider FROM appointments ORDER BY id"),
        "reminders": q("SELECT id, due_at, status FROM reminders ORDER BY id"),
        "audit": q("SELECT count(*) FROM audit_log"),
    }


def appointment(store: Store, filler: str) -> tuple[Any, ...]:
    rows = store.query_tuples(
        "SELECT id, starts_at, status, patient_id, provider, location FROM appointments WHERE filler_id = ?", (filler,)
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_six_languages_book_six_patients_with_reminders_planned(intake: Intake, store: Store) -> None:
    for name in SIX_LANGUAGES:
        outcome = send(intake, name)
        assert ack_of(outcome)[0] == "AA", (name, outcome)
    names = {r[0] for r in store.query_tuples("SELECT display_name FROM patients")}
    assert names == {"Zofia Wiśniewska", "김민지", "王芳", "Şükrü Öztürk", "José Núñez", "Robert Smith"}
    languages = sorted(r[0] for r in store.query_tuples("SELECT language FROM patients"))
    assert languages == ["en", "es", "ko", "pl", "tr", "zh"]
    assert store.query_tuples("SELECT count(*) FROM appointments WHERE source = 'hl7'")[0][0] == 6
    planned = store.query_tuples("SELECT count(DISTINCT appointment_id) FROM reminders WHERE status = 'pending'")
    assert planned[0][0] == 6
    audited = store.query_tuples("SELECT detail FROM audit_log WHERE action = 'create' AND object_type = 'appointment'")
    assert "hl7 SIU^S12 control PL-0001" in {r[0] for r in audited}


def test_a_replayed_control_id_or_a_resent_booking_leaves_one_appointment(intake: Intake, store: Store) -> None:
    first = send(intake, "s12_pl_cr.hl7")
    before = snapshot(store)
    again = send(intake, "s12_pl_cr.hl7")  # the same control ID
    assert ack_of(again)[:2] == ("AA", "PL-0001") and first.status == "applied"
    assert snapshot(store) == before
    assert store.query_tuples("SELECT replays FROM feed_messages WHERE control_id = 'PL-0001'")[0][0] == 1
    resent = (CORPUS / "s12_pl_cr.hl7").read_bytes().replace(b"PL-0001", b"PL-0001-RESENT")
    assert intake.handle(resent).status == "unchanged"
    assert snapshot(store)["appointments"] == before["appointments"]


def test_an_s14_before_its_s12_leaves_one_appointment(intake: Intake, store: Store) -> None:
    assert send(intake, "s14_new_before_s12.hl7").status == "applied"
    assert send(intake, "s12_new_after_s14.hl7").status == "unchanged"  # placer ID only: found by it
    assert store.query_tuples("SELECT count(*) FROM appointments")[0][0] == 1


def test_a_modification_without_a_time_for_an_unknown_visit_is_held_with_its_reason(
    intake: Intake, store: Store
) -> None:
    before = snapshot(store)
    outcome = send(intake, "s14_no_time_unknown.hl7")
    code, control, reason = ack_of(outcome)
    assert (code, control, outcome.status) == ("AA", "EN-0102", "held")
    assert "no start time" in reason or "held for review" in reason
    assert snapshot(store) == before
    held = store.query_tuples("SELECT status, location, reason FROM feed_messages WHERE control_id = 'EN-0102'")
    assert held[0][0] == "held" and held[0][1] == "SCH-11" and held[0][2]


def test_move_cancel_and_status_changes_replan_the_reminders(intake: Intake, store: Store) -> None:
    send(intake, "s12_pl_cr.hl7")
    aid, starts, *_ = appointment(store, "F1001")
    due_before = store.query_tuples("SELECT due_at FROM reminders WHERE appointment_id = ? ORDER BY id", (aid,))
    send(intake, "s13_pl_moved.hl7")
    _, moved, status, *_ = appointment(store, "F1001")
    assert moved == "2030-03-12T13:00:00.000Z" and moved != starts and status == "booked"
    due_after = store.query_tuples(
        "SELECT due_at FROM reminders WHERE appointment_id = ? AND status = 'pending' ORDER BY id", (aid,)
    )
    assert due_after and due_after != due_before
    send(intake, "s14_pl_cancelled_status.hl7")
    assert appointment(store, "F1001")[2] == "cancelled"
    assert not store.query_tuples("SELECT id FROM reminders WHERE appointment_id = ? AND status = 'pending'", (aid,))
    actions = [
        r[0] for r in store.query_tuples("SELECT detail FROM audit_log WHERE object_id = ? ORDER BY id", (str(aid),))
    ]
    assert "hl7 SIU^S13 control PL-0002" in actions and "hl7 SIU^S14 control PL-0003" in actions
    # No worklist entry: the source made these changes itself.
    assert store.query_tuples("SELECT count(*) FROM worklist")[0][0] == 0


def test_cancel_delete_and_no_show_messages(intake: Intake, store: Store) -> None:
    for name in ("s12_zh_crlf_noeol.hl7", "s12_tr_encoding.hl7", "s12_es_latin1.hl7", "s12_ko_lf.hl7"):
        send(intake, name)
    for name in ("s15_zh_cancel.hl7", "s17_tr_delete.hl7", "s26_es_noshow.hl7", "s14_ko_arrived.hl7"):
        assert ack_of(send(intake, name))[0] == "AA"
    assert [appointment(store, f)[2] for f in ("F3001", "F4001", "F5001", "F2001")] == [
        "cancelled",
        "cancelled",
        "no-show",
        "attended",
    ]
    assert store.query_tuples("SELECT count(*) FROM reminders WHERE status = 'pending'")[0][0] == 0


def test_adt_updates_phone_and_language_and_shared_phones_never_merge(intake: Intake, store: Store) -> None:
    send(intake, "s12_pl_cr.hl7")
    send(intake, "adt_a08_pl_phone.hl7")
    row = store.query_tuples("SELECT id, language FROM patients WHERE external_id = 'MRN1001^MEDREC'")[0]
    assert row[1] == "en"
    phones = {r[0] for r in store.query_tuples("SELECT e164 FROM patient_phones WHERE patient_id = ?", (row[0],))}
    assert "+48512999888" in phones and "+48512345678" in phones
    send(intake, "s12_shared_phone_a.hl7")
    send(intake, "s12_shared_phone_b.hl7")
    sharing = store.query_tuples("SELECT DISTINCT patient_id FROM patient_phones WHERE e164 = '+48512000801'")
    assert len(sharing) == 2


BAD = [
    ("bad_msh.hl7", "AR", "", "does not start with an MSH"),
    ("bad_msh_separators.hl7", "AR", "", "five different separators"),
    ("bad_version.hl7", "AR", "BAD-0003", "not supported"),
    ("bad_trigger.hl7", "AR", "BAD-0004", "SIU S16 is not taken"),
    ("bad_no_appointment_id.hl7", "AE", "BAD-0005", "no appointment ID"),
    ("bad_date.hl7", "AE", "BAD-0006", "not an HL7 timestamp"),
    ("bad_offset.hl7", "AE", "BAD-0007", "unknown time zone offset"),
    ("bad_dst_gap.hl7", "AE", "BAD-0008", "daylight-saving"),
    ("bad_status.hl7", "AE", "BAD-0009", "unknown filler status"),
]


@pytest.mark.parametrize(("name", "code", "control", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_changes_nothing_and_the_ack_says_why(
    intake: Intake, store: Store, name: str, code: str, control: str, reason: str
) -> None:
    send(intake, "s12_pl_cr.hl7")
    before = snapshot(store)
    outcome = send(intake, name)
    got = ack_of(outcome)
    assert got[0] == code and got[1] == control and reason in got[2]
    assert snapshot(store) == before
    if control:  # a readable MSH: the refusal is listed with its reason for the status page
        row = store.query_tuples("SELECT status, reason FROM feed_messages WHERE control_id = ?", (control,))
        assert row[0][0] == "rejected" and reason in row[0][1]
    else:
        assert intake.unkeyed and reason in intake.unkeyed[-1][1]


def test_a_rejected_message_is_reprocessed_after_the_mapping_is_fixed(
    intake: Intake, store: Store, cfg: Config, tmp_path: Path
) -> None:
    assert send(intake, "bad_status.hl7").status == "rejected"
    entry = store.query_tuples("SELECT id FROM feed_messages WHERE control_id = 'BAD-0009'")[0][0]
    fixed = clinic_config(tmp_path, feeds={"hl7": {"senders": {"MEDREC": {"statuses": {"Teleported": "cancelled"}}}}})
    intake.reconfigure(fixed)
    outcome = intake.reprocess(entry, "manager")
    assert outcome.code == "AA" and outcome.status == "applied"
    assert appointment(store, "F9005")[2] == "cancelled"
    assert store.query_tuples("SELECT actor FROM audit_log WHERE action = 'feed-reprocess'")[0][0] == "manager"


def test_a_status_the_box_sets_on_a_feed_appointment_goes_to_the_worklist(intake: Intake, repos: Repos) -> None:
    send(intake, "s12_pl_cr.hl7")
    aid = appointment(repos.store, "F1001")[0]
    repos.appointments.set_status(aid, "cancelled", "reminder:sms")  # the patient cancelled by SMS
    items = repos.worklist.items("desk")
    assert [(i.action, i.appointment_id, i.filler_id, i.patient_name) for i in items] == [
        ("cancel", aid, "F1001", "Zofia Wiśniewska")
    ]
    repos.worklist.tick_done(items[0].id, "desk")
    assert repos.worklist.items("desk") == [] and repos.worklist.open_count() == 0
    done = repos.store.query_tuples("SELECT actor FROM audit_log WHERE action = 'worklist-done'")
    assert done == [("desk",)]
