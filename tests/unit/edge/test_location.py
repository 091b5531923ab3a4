"""The edge's saved registrations (db_text tables) and the wait for the previous edge."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from appliance.edge import location
from appliance.edge.process import wait_for_old_edge
from appliance.errors import EdgeError

ROW = (
    "1:uloc-1:desk1::sip\\:desk1@192.0.2.40\\:5060:::1796559220:-1.00:cid:1837:1796559100:0:0:phone:"
    "udp\\:127.0.0.1\\:5060:5087::0:0:-1:0:0\n"
)


def test_first_start_writes_an_empty_location_table_and_the_schema_version(tmp_path: Path) -> None:
    where = location.ensure_tables(tmp_path)
    assert (where / "location").read_text() == location.LOCATION_HEADER + "\n"
    assert "0:location:9" in (where / "version").read_text()
    assert stat.S_IMODE(where.stat().st_mode) == 0o700  # contacts name the phones' addresses
    assert stat.S_IMODE((where / "location").stat().st_mode) == 0o600
    assert stat.S_IMODE((where / "version").stat().st_mode) == 0o600


def test_saved_registrations_survive_the_next_start(tmp_path: Path) -> None:
    where = location.ensure_tables(tmp_path)
    saved = location.LOCATION_HEADER.rstrip() + "\n" + ROW  # as Kamailio writes it back (no trailing space)
    (where / "location").write_text(saved)
    location.ensure_tables(tmp_path)
    assert (where / "location").read_text() == saved


def test_a_table_of_other_columns_is_set_aside_not_loaded(tmp_path: Path) -> None:
    where = location.folder(tmp_path)
    where.mkdir()
    (where / "location").write_text("username(str) contact(str) expires(int)\ndesk1:sip\\:x:0\n")
    location.ensure_tables(tmp_path)
    assert (where / "location").read_text() == location.LOCATION_HEADER + "\n"
    assert "desk1" in (where / "location.unreadable").read_text()  # kept for whoever wants to look


def _fake_kamailio(tmp_path: Path) -> subprocess.Popen[bytes]:
    program = tmp_path / "kamailio"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    return subprocess.Popen([str(program), "30"], start_new_session=True)  # leads its group, as the edge does


def test_a_new_edge_waits_until_the_previous_one_is_gone(tmp_path: Path) -> None:
    old = _fake_kamailio(tmp_path)
    try:
        (tmp_path / "kamailio.pid").write_text(f"{old.pid}\n")
        with pytest.raises(EdgeError, match=f"pid {old.pid}"):
            wait_for_old_edge(tmp_path, timeout=0.3)
        started = time.monotonic()
        os.kill(old.pid, 15)
        old.wait()
        wait_for_old_edge(tmp_path, timeout=5)
        assert time.monotonic() - started < 2
    finally:
        old.kill()
        old.wait()


def test_a_stale_pid_file_naming_another_program_does_not_hold_the_edge(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        (tmp_path / "kamailio.pid").write_text(f"{other.pid}\n")
        started = time.monotonic()
        wait_for_old_edge(tmp_path, timeout=5)
        assert time.monotonic() - started < 1
    finally:
        other.kill()
        other.wait()


def test_a_row_cut_off_by_a_power_cut_is_dropped_and_the_whole_ones_kept(tmp_path: Path) -> None:
    where = location.ensure_tables(tmp_path)
    whole = location.LOCATION_HEADER.rstrip() + "\n" + ROW
    (where / "location").write_text(whole + ROW[:40])  # Kamailio was rewriting the file when the power went
    location.ensure_tables(tmp_path)
    assert (where / "location").read_text() == whole
    (where / "location").write_text(whole + ROW.replace(":phone:", ":"))  # a whole line with a field missing
    location.ensure_tables(tmp_path)
    assert (where / "location").read_text() == whole
