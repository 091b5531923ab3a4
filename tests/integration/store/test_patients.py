"""Patients: search in six scripts, audit of every read, export, erase, caller ID."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.clock import FakeClock
from appliance.errors import NotFoundError, ValidationError
from appliance.store import callerid, calls
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos

PEOPLE = [
    ("Wiśniewska", "Małgorzata", "pl", "601234567"),
    ("Kowalski", "Łukasz", "pl", "602345678"),
    ("Yılmaz", "Ayşe", "tr", "+905321234567"),
    ("García", "José", "es", "+34612345678"),
    ("김", "민준", "ko", "+821012345678"),
    ("王", "小明", "zh", "+8613812345678"),
    ("Smith", "Mary", "en", "+12125550123"),
]


@pytest.fixture
def people(repos: Repos) -> dict[str, int]:
    ids = {}
    for i, (family, given, lang, phone) in enumerate(PEOPLE):
        ids[family] = repos.patients.create(
            PatientInput(
                family_name=family,
                given_name=given,
                date_of_birth=f"19{60 + i}-0{1 + i}-1{i}",
                phones=[phone],
                language=lang,
            ),
            "alice",
        )
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wisniewska", "Wiśniewska"),  # accents folded
        ("Łukasz", "Kowalski"),
        ("lukasz", "Kowalski"),  # ł folded to l
        ("yilmaz", "Yılmaz"),  # dotless ı folded to i
        ("AYŞE", "Yılmaz"),
        ("jose garc", "García"),
        ("민준", "김"),  # Hangul, under three characters: LIKE path
        ("김민준", "김"),  # family name first, no space
        ("小明", "王"),  # Chinese
        ("+48 601 234 567", "Wiśniewska"),
        ("601234567", "Wiśniewska"),  # national format
        ("1961-02-11", "Kowalski"),  # date of birth
    ],
)
def test_search_finds_patients_in_every_script(repos: Repos, people: dict[str, int], query: str, expected: str) -> None:
    found = repos.patients.search(query, "alice")
    assert [p.family_name for p in found] == [expected]


def test_every_read_is_audited_without_patient_data(repos: Repos, people: dict[str, int]) -> None:
    pid = people["Wiśniewska"]
    repos.patients.get(pid, "alice")
    repos.patients.search("wiśniewska", "bob")
    repos.patients.export(pid, "carol")
    entries = repos.audit.search(limit=50)
    kinds = {(e.actor, e.action) for e in entries}
    assert {("alice", "view"), ("bob", "search"), ("carol", "export")} <= kinds
    for e in entries:
        assert "Wiśniewska" not in e.detail and "wisniewska" not in e.detail and "601" not in e.detail
    assert repos.audit.verify().ok


def test_phone_numbers_are_stored_as_e164(repos: Repos, people: dict[str, int]) -> None:
    patient = repos.patients.get(people["Kowalski"], "alice")
    assert patient.phones[0].e164 == "+48602345678"


def test_invalid_input_is_refused_with_every_reason(repos: Repos) -> None:
    with pytest.raises(ValidationError) as err:
        repos.patients.create(
            PatientInput(family_name="", given_name="", date_of_birth="31/12/1980", phones=["12"], language="xx"),
            "alice",
        )
    text = str(err.value)
    assert "name: missing" in text and "date_of_birth" in text and "phone 1" in text and "language" in text
    assert repos.patients.count() == 0


def test_duplicate_patient_is_refused(repos: Repos, people: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        repos.patients.create(
            PatientInput(family_name="Kowalski", given_name="Łukasz", date_of_birth="1961-02-11"), "alice"
        )


def test_export_and_erase(repos: Repos, people: dict[str, int], clock: FakeClock) -> None:
    pid = people["Smith"]
    repos.appointments.create(
        AppointmentInput(patient_id=pid, starts_at=clock.now() + timedelta(days=1), provider="Dr. Adams"), "alice"
    )
    with repos.store.transaction() as conn:
        calls.insert(
            conn,
            uuid="c1",
            direction="inbound",
            started_at="2026-03-01T10:00:00.000Z",
            caller="+12125550123",
            patient_id=pid,
        )
    exported = repos.patients.export(pid, "alice")
    assert exported["patient"]["display_name"] == "Mary Smith"
    assert len(exported["appointments"]) == 1 and len(exported["calls"]) == 1
    repos.patients.erase(pid, "manager")
    with pytest.raises(NotFoundError):
        repos.patients.get(pid, "alice")
    row = repos.store.query_one("SELECT caller, patient_id FROM calls WHERE uuid = 'c1'")
    assert tuple(row) == ("erased", None)
    assert repos.store.query_one("SELECT count(*) FROM appointments")[0] == 0
    assert [e.action for e in repos.audit.search(object_id=str(pid))][0] == "erase"


def test_caller_id_lookup_shows_next_visit_and_last_contacts(
    repos: Repos, people: dict[str, int], clock: FakeClock
) -> None:
    pid = people["Wiśniewska"]
    soon = clock.now() + timedelta(days=2)
    later = clock.now() + timedelta(days=9)
    repos.appointments.create(AppointmentInput(patient_id=pid, starts_at=later, provider="Dr. Park"), "alice")
    repos.appointments.create(AppointmentInput(patient_id=pid, starts_at=soon, provider="Dr. Adams"), "alice")
    with repos.store.transaction() as conn:
        calls.insert(
            conn,
            uuid="old",
            direction="inbound",
            started_at="2026-02-20T10:00:00.000Z",
            caller="+48601234567",
            patient_id=pid,
        )
        calls.update(conn, "old", disposition="answered")
    match = callerid.lookup(repos.store.connection(), "+48601234567", clock.now())
    assert len(match.patients) == 1
    card = match.patients[0]
    assert card.display_name == "Małgorzata Wiśniewska"
    assert card.next_visit is not None and card.next_visit.provider == "Dr. Adams"
    assert card.last_contacts[0].outcome == "answered"
    assert match.language == "pl"
    nobody = callerid.lookup(repos.store.connection(), "+48999999999", datetime(2026, 3, 2, tzinfo=UTC))
    assert nobody.patients == ()
