"""`clinicbox provision check` and `sign` read the patient CSV with the box's importer rules.

Before, only the file's presence was checked, so a bundle passed on the
technician's laptop and was refused on the box. Bad rows are named by line
number and reason, never by their content (patient data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import ProvisioningError
from provisioning.bundle import SIG_NAME
from provisioning.plan import csv_problems
from provisioning.run import check_bundle, sign_bundle
from provisioning.signing import load_trusted_keys
from tests.unit.provisioning.kit import Box, sign, write_bundle

CSV_TOML = '[bundle]\nformat = 1\ndescription = "patients"\n[files]\npatients_csv = "patients.csv"\n'
PL_TOML = CSV_TOML + '[config.clinic]\ncountry = "PL"\ntimezone = "Europe/Warsaw"\n'
HEADER = b"external_id;family_name;given_name;date_of_birth;phone;language\n"
GOOD = HEADER + b"P1;Kowalska;Anna;1980-04-12;601234567;pl\nP2;Nowak;Jan;1975-11-02;+48602345678;pl\n"
BAD_DATE = GOOD + b"P3;Wrong;Date;1975-13-45;+48602345679;pl\n"


def stick(box: Box, tmp_path: Path, toml: str, csv: bytes, *, signed: bool = True) -> Path:
    root = write_bundle(tmp_path / "stick", {"provision.toml": toml.encode(), "patients.csv": csv})
    if signed:
        sign(root, box.key)
    return tmp_path / "stick"


def check(box: Box, path: Path, *, against: bool) -> list[str]:
    trusted = load_trusted_keys(box.root / "image-keys", box.root / "local-keys")
    return check_bundle(path, trusted, box.config if against else None).changes


def test_a_bad_row_is_refused_on_the_laptop_as_on_the_box(box: Box, tmp_path: Path) -> None:
    with pytest.raises(ProvisioningError) as caught:
        check(box, stick(box, tmp_path, CSV_TOML, BAD_DATE), against=True)
    reason = str(caught.value)
    assert "files.patients_csv patients.csv: 1 bad rows" in reason
    assert "line 4: date_of_birth: not a date" in reason and "nothing was changed" in reason
    for patient_data in ("Wrong", "1975-13-45", "602345679"):
        assert patient_data not in reason


def test_a_bundle_that_sets_the_country_is_checked_row_by_row_without_the_boxs_file(box: Box, tmp_path: Path) -> None:
    with pytest.raises(ProvisioningError, match="line 4: date_of_birth"):
        check(box, stick(box, tmp_path, PL_TOML, BAD_DATE), against=False)


def test_a_good_file_passes_and_says_how_many_rows(box: Box, tmp_path: Path) -> None:
    # 601234567 is a national Polish number: valid only because the box is in Poland.
    changes = check(box, stick(box, tmp_path, CSV_TOML, GOOD), against=True)
    assert "patients: patients.csv has 2 rows, every one valid for this box" in changes


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        (HEADER + b"P1;Kowalska;Anna;1980-04-12\n", "line 2: has 4 fields but the header has 6"),
        (b"family_name;shoe_size\nKowalska;38\n", "line 1: unknown columns: shoe_size"),
        (b"\xff\xfef\x00a\x00m\x00", "line 1: not UTF-8 text"),
        (b"", "line 1: the file is empty"),
    ],
    ids=["field-count", "unknown-column", "utf16", "empty"],
)
def test_a_malformed_file_is_refused_even_when_the_country_is_unknown(
    box: Box, tmp_path: Path, csv: bytes, expected: str
) -> None:
    with pytest.raises(ProvisioningError, match=expected):
        check(box, stick(box, tmp_path, CSV_TOML, csv), against=False)


def test_duplicate_patients_are_named_by_both_lines(box: Box, tmp_path: Path) -> None:
    twice = GOOD + b"P1;Kowalska;Anna;1980-04-12;601234567;pl\n"
    with pytest.raises(ProvisioningError, match="line 4: the same patient as line 2"):
        check(box, stick(box, tmp_path, CSV_TOML, twice), against=True)


def test_sign_refuses_a_malformed_file_and_keeps_no_signature(box: Box, tmp_path: Path) -> None:
    path = stick(box, tmp_path, PL_TOML, BAD_DATE, signed=False)
    with pytest.raises(ProvisioningError, match="line 4"):
        sign_bundle(path, box.key_path)
    assert not (path / "clinicbox-provision" / SIG_NAME).exists()


def test_every_bad_row_is_listed_with_its_line() -> None:
    rows, errors = csv_problems(
        HEADER + b"P1;;;1980-04-12;+48601234567;pl\nP2;Nowak;Jan;1975-11-02;+48602345678;pl\nP3;X;Y;2999-01-01;;pl\n",
        "PL",
        "pl",
    )
    assert rows == 3
    assert [line for line, _ in errors] == [2, 4]
    assert "name: missing" in errors[0][1] and "date_of_birth: outside the plausible range" in errors[1][1]
    assert csv_problems(BAD_DATE, None, "en") == (3, [])  # structure only: rows need the box's country
