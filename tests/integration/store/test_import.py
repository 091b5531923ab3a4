"""CSV import: bad rows by line, nothing committed by default, idempotent."""

from __future__ import annotations

import pytest

from appliance.errors import DiskFullError, ImportFileError
from appliance.store.repos import Repos

GOOD = (
    "external_id,family_name,given_name,date_of_birth,phone,language\n"
    "P1,Wiśniewska,Małgorzata,1961-04-12,601 234 567,pl\n"
    "P2,Yılmaz,Ayşe,1975-09-01,+90 532 123 45 67,tr\n"
    "P3,김,민준,1990-01-02,+82 10-1234-5678,ko\n"
    "P4,王,小明,1985-05-05,+86 138 1234 5678,zh\n"
    "P5,García,José,1970-07-07,+34 612 345 678,es\n"
)


def _count(repos: Repos) -> int:
    return int(repos.store.query_one("SELECT count(*) FROM patients")[0])


def test_good_file_with_bom_imports_every_script(repos: Repos) -> None:
    report = repos.importer.patients(("\ufeff" + GOOD).encode("utf-8"), "tech")
    assert (report.inserted, report.errors) == (5, [])
    assert {p.family_name for p in repos.patients.search("小明", "t")} == {"王"}


def test_semicolon_separated_excel_export(repos: Repos) -> None:
    report = repos.importer.patients(GOOD.replace(",", ";").encode("utf-8"), "tech")
    assert report.inserted == 5


def test_reimport_creates_no_duplicates(repos: Repos) -> None:
    repos.importer.patients(GOOD.encode(), "tech")
    again = repos.importer.patients(GOOD.encode(), "tech")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert _count(repos) == 5
    changed = repos.importer.patients(
        GOOD.replace("P5,García,José,1970-07-07", "P5,García,José,1970-07-08").encode(), "tech"
    )
    assert (changed.updated, changed.unchanged) == (1, 4)
    assert _count(repos) == 5


BAD = (
    "external_id,name,date_of_birth,phone\n"
    "A1,Jan Nowak,1980-01-01,601234567\n"
    "A2,,1980-01-01,601234567\n"  # line 3: no name
    "A3,Ewa Nowak,01.02.1980,601234567\n"  # line 4: bad date
    "A4,Adam Nowak,1981-01-01,12\n"  # line 5: bad phone
    "A5,Olga Nowak,1982-01-01\n"  # line 6: missing field
    "A1,Jan Nowak,1980-01-01,601234567\n"  # line 7: duplicate of line 2
    "A6,Piotr Nowak,1983-01-01,603456789\n"
)


def test_bad_rows_are_reported_by_line_and_nothing_is_committed(repos: Repos) -> None:
    repos.importer.patients(GOOD.encode(), "tech")
    with pytest.raises(ImportFileError) as err:
        repos.importer.patients(BAD.encode(), "tech")
    lines = [line for line, _ in err.value.errors]
    assert lines == [3, 4, 5, 6, 7]
    reasons = dict(err.value.errors)
    assert "name: missing" in reasons[3]
    assert "date_of_birth" in reasons[4]
    assert "phone" in reasons[5]
    assert "has 3 fields but the header has 4" in reasons[6]
    assert "line 2" in reasons[7]
    assert "Nowak" not in str(err.value)  # patient data is never echoed
    assert "nothing was imported" in str(err.value)
    assert _count(repos) == 5


def test_skip_bad_commits_the_good_rows(repos: Repos) -> None:
    report = repos.importer.patients(BAD.encode(), "tech", skip_bad=True)
    assert report.inserted == 2 and len(report.errors) == 5
    assert _count(repos) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"name,shoe_size\nJan,44\n", "unknown columns: shoe_size"),
        (b"date_of_birth\n1980-01-01\n", "needs a 'name' column"),
        ("name\nJan\n".encode("utf-16"), "not UTF-8"),
        (b"name\nJan\x00Nowak\n", "NUL byte"),
        (b"name,name\nJan,Jan\n", "appears twice"),
    ],
)
def test_malformed_files_are_refused_clearly(repos: Repos, data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        repos.importer.patients(data, "tech")
    assert _count(repos) == 0


def test_not_utf8_reports_the_line(repos: Repos) -> None:
    data = GOOD.encode() + "P9,Nowak,Zoë,1980-01-01,601234567,pl\n".encode("latin-1")
    with pytest.raises(ImportFileError) as err:
        repos.importer.patients(data, "tech")
    assert err.value.errors[0][0] == 7


def test_full_disk_during_import_changes_nothing(repos: Repos) -> None:
    repos.importer.patients(GOOD.encode(), "tech")
    conn = repos.store.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own "disk full"
    many = "external_id,name,date_of_birth,phone\n" + "".join(
        f"X{i},Person Number{i},1980-01-01,{601000000 + i}\n" for i in range(3000)
    )
    with pytest.raises(DiskFullError, match="disk is full; nothing was written"):
        repos.importer.patients(many.encode(), "tech")
    assert _count(repos) == 5
    assert repos.audit.verify().ok


def test_read_only_database_during_import_changes_nothing(repos: Repos) -> None:
    repos.importer.patients(GOOD.encode(), "tech")
    repos.store.connection().execute("PRAGMA query_only = 1")
    with pytest.raises(DiskFullError, match="read-only"):
        repos.importer.patients(GOOD.replace("P1,", "Q1,").encode(), "tech")
    repos.store.connection().execute("PRAGMA query_only = 0")
    assert _count(repos) == 5


APPTS = (
    "external_id,patient_external_id,start,duration_min,provider,location\n"
    "A1,P1,2026-03-10 09:00,30,Dr. Adams,Room 1\n"
    "A2,P2,2026-03-10T10:00:00+01:00,15,Dr. Park,Room 2\n"
    "A3,P9,2026-03-10 11:00,15,Dr. Park,Room 2\n"
    "A4,P3,next tuesday,15,Dr. Park,Room 2\n"
)


def test_appointment_import_links_patients_and_reports_bad_rows(repos: Repos) -> None:
    repos.importer.patients(GOOD.encode(), "tech")
    report = repos.importer.appointments(APPTS.encode(), "tech", skip_bad=True)
    assert report.inserted == 2
    assert [line for line, _ in report.errors] == [4, 5]
    assert "no patient with that clinic id" in report.errors[0][1]
    first = repos.store.query_one("SELECT starts_at, ends_at FROM appointments WHERE external_id = 'A1'")
    assert tuple(first) == ("2026-03-10T08:00:00.000Z", "2026-03-10T08:30:00.000Z")  # Warsaw is UTC+1 in March


def test_large_file_checked_in_parallel_reports_the_same_lines(repos: Repos) -> None:
    """Above PARALLEL_MIN_ROWS rows are checked by worker processes; the
    report and the result must not differ from the in-process path."""
    from appliance.store.importpool import PARALLEL_MIN_ROWS

    n = PARALLEL_MIN_ROWS + 1000
    bad = {7, 2500, n - 3}
    rows = ["external_id,name,date_of_birth,phone"]
    for i in range(n):
        dob = "not-a-date" if i in bad else "1980-01-01"
        rows.append(f"L{i},Person Number{i},{dob},+48601{i:06d}")
    data = ("\n".join(rows) + "\n").encode()
    with pytest.raises(ImportFileError) as err:
        repos.importer.patients(data, "tech")
    assert [line for line, _ in err.value.errors] == sorted(i + 2 for i in bad)
    assert _count(repos) == 0
    report = repos.importer.patients(data, "tech", skip_bad=True)
    assert report.inserted == n - len(bad)
    assert _count(repos) == n - len(bad)
