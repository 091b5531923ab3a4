"""The report is written as root onto a stick anyone can prepare: links planted on it must not redirect it.

An ext4 stick can hold symlinks. A stick that plants one where the box
writes its report (the temporary name, the final name, or the report
folder itself) must not make the box overwrite a file of its own, such as
``/etc/clinicbox/store.key``; the stand-in here is a file outside the stick.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.errors import ProvisioningError
from provisioning.report import build_report, write_report

SERIAL = "10000000abcdef01"
WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
REPORT_NAME = f"clinicbox-report-{SERIAL}-20250304-050607.json"
SECRET = b"the box's store key, must survive\n"


def a_report() -> dict[str, object]:
    return build_report(ok=False, reason="unsigned bundle", serial=SERIAL, started_at=WHEN, finished_at=WHEN)


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    path = tmp_path / "stick"
    path.mkdir()
    return path


@pytest.fixture
def box_file(tmp_path: Path) -> Path:
    """A file of the box's, outside the stick, that a planted link points at."""
    etc = tmp_path / "etc-clinicbox"
    etc.mkdir()
    key = etc / "store.key"
    key.write_bytes(SECRET)
    return key


def test_the_report_is_written_onto_the_stick(stick: Path) -> None:
    path = write_report(stick, a_report(), WHEN)
    assert path == stick / REPORT_NAME
    assert path.is_file() and not path.is_symlink()
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["result"] == "refused" and report["reason"] == "unsigned bundle"
    assert report["box"]["serial"] == SERIAL
    assert sorted(p.name for p in stick.iterdir()) == [REPORT_NAME], "a temporary file was left behind"


def test_a_link_at_the_old_temporary_name_is_not_followed(stick: Path, box_file: Path) -> None:
    (stick / f".{REPORT_NAME}.tmp").symlink_to(box_file)
    path = write_report(stick, a_report(), WHEN)
    assert box_file.read_bytes() == SECRET
    assert path.is_file() and not path.is_symlink()
    assert json.loads(path.read_text(encoding="utf-8"))["box"]["serial"] == SERIAL
    assert (stick / f".{REPORT_NAME}.tmp").is_symlink(), "the planted link is left alone, not written through"


def test_a_link_at_the_report_name_is_refused_and_nothing_is_written(stick: Path, box_file: Path) -> None:
    (stick / REPORT_NAME).symlink_to(box_file)
    with pytest.raises(ProvisioningError, match="symlink") as err:
        write_report(stick, a_report(), WHEN)
    assert REPORT_NAME in str(err.value)
    assert box_file.read_bytes() == SECRET
    assert os.readlink(stick / REPORT_NAME) == str(box_file)
    assert sorted(p.name for p in stick.iterdir()) == [REPORT_NAME]


def test_a_folder_at_the_report_name_is_refused(stick: Path) -> None:
    (stick / REPORT_NAME).mkdir()
    with pytest.raises(ProvisioningError, match="not a regular file"):
        write_report(stick, a_report(), WHEN)
    assert list((stick / REPORT_NAME).iterdir()) == []
    assert sorted(p.name for p in stick.iterdir()) == [REPORT_NAME]


def test_a_symlinked_report_folder_is_refused(tmp_path: Path, box_file: Path) -> None:
    linked = tmp_path / "stick"
    linked.symlink_to(box_file.parent)
    with pytest.raises(ProvisioningError, match="symlink"):
        write_report(linked, a_report(), WHEN)
    assert sorted(p.name for p in box_file.parent.iterdir()) == ["store.key"]
    assert box_file.read_bytes() == SECRET
