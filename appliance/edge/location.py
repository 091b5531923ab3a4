"""The desk phones' registrations on disk, so an edge restart or a reboot keeps them.

Kamailio's usrloc writes every registration through (``db_mode`` 1) into
a db_text table, ``<paths.edge_state_dir>/registrations/location``, and
loads it when it starts. A settings change that restarts the edge therefore
leaves every desk phone reachable: the new edge knows their contacts without
waiting for each phone's next REGISTER refresh. The folder is on the data
partition, not ``/run``: after a power cut the box is back in a minute, while
a desk phone refreshes its registration only every hour or so and would
miss every call until then.

:func:`ensure_tables` writes the two table files Kamailio needs before it
starts: ``version`` (usrloc checks the ``location`` schema number) and an
empty ``location`` when there is none or its columns are not Kamailio
5.6's (a file from another version is set aside, never loaded). Only the
edge's user reads or writes the folder (0700, files 0600): contacts name
the phones' addresses.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "registrations"
#: Kamailio 5.6's location table (its dbtext schema, /usr/share/kamailio/dbtext/kamailio/location).
LOCATION_HEADER = (
    "id(int,auto) ruid(string) username(string) domain(string,null) contact(string) received(string,null) "
    "path(string,null) expires(int) q(double) callid(string) cseq(int) last_modified(int) flags(int) "
    "cflags(int) user_agent(string) socket(string,null) methods(int,null) instance(string,null) reg_id(int) "
    "server_id(int) connection_id(int) keepalive(int) partition(int) "
)
#: The schema numbers usrloc checks at its start (Kamailio 5.6: location 9, location_attrs 1).
VERSION_TEXT = "id(int,auto) table_name(string) table_version(int) \n0:location:9\n0:location_attrs:1\n"
_DIR_MODE = 0o700
_FILE_MODE = 0o600


def folder(state_dir: Path) -> Path:
    return Path(state_dir) / FOLDER


def ensure_tables(state_dir: Path) -> Path:
    """The folder with a ``version`` table and a ``location`` table of Kamailio 5.6's columns.

    Registrations already saved stay as they are; that is the point.

    Raises:
        OSError: the folder cannot be written (the caller names the key).
    """
    where = folder(state_dir)
    where.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(where, _DIR_MODE)
    _write_if_changed(where / "version", VERSION_TEXT)
    location = where / "location"
    try:
        with location.open("r", encoding="utf-8", errors="replace") as fh:
            header = fh.readline().rstrip("\n")
    except FileNotFoundError:
        header = None
    if header is not None and header.split() != LOCATION_HEADER.split():  # Kamailio drops the trailing space
        aside = location.with_name("location.unreadable")
        os.replace(location, aside)
        log.warning("the saved registrations in %s are not Kamailio 5.6's table; set aside as %s", location, aside)
        header = None
    if header is None:
        _write(location, LOCATION_HEADER + "\n")
    else:
        _drop_torn_rows(location)
    return where


def _fields(row: str) -> int:
    """How many fields a db_text row has (``:`` separates them, ``\\:`` is a colon inside one)."""
    return len(re.split(r"(?<!\\):", row))


def _drop_torn_rows(location: Path) -> None:
    """Keep only whole rows: Kamailio rewrites the file in place, so a power cut
    during a write can leave a cut-off last row, on which its loader would fail
    and the edge would not start. The rows before it are kept."""
    text = location.read_text(encoding="utf-8", errors="replace")
    header, _, body = text.partition("\n")
    columns = len(header.split())
    rows = body.split("\n")
    whole = [r for r in rows[:-1] if r and _fields(r) == columns]  # rows[-1] has no newline: cut off, or ""
    dropped = len([r for r in rows if r]) - len(whole)
    if dropped:
        _write(location, header + "\n" + "".join(f"{r}\n" for r in whole))
        log.warning("%d cut-off saved registration(s) in %s dropped; the phones register again", dropped, location)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    _write(path, text)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _FILE_MODE)
    try:
        os.fchmod(fd, _FILE_MODE)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
