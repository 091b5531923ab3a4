"""The desk phones' digest credentials, as the edge reads them.

The edge never sees a password: the core (which alone reads the secrets
file) writes, for every station with a password, its HA1 =
MD5(station:realm:password) into a db_text table,
``<paths.edge_dir>/credentials/credentials``, which Kamailio's htable
``creds`` loads at start and again on ``htable.reload creds``. On the
appliance that folder is ``clinicbox:clinicbox-edge`` 2750 (systemd
tmpfiles), the file 0640: the edge's user may read it, nobody else.

An HA1 lets a holder answer this realm's challenges, so it is a
credential too; it cannot be turned back into the password the station
program uses for its signed messages to the core.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from appliance.config import Config
from appliance.config.edge import STATION_USER

log = logging.getLogger(__name__)

TABLE = "credentials"
HEADER = "key_name(str) key_type(int) value_type(int) key_value(str) expires(int)"
_MODE = 0o640


def ha1(user: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def table_text(passwords: Mapping[str, str], realm: str) -> str:
    """The db_text table: one row per station that has a password (ids checked by the config)."""
    rows = [HEADER]
    for sid in sorted(passwords):
        if passwords[sid] and STATION_USER.match(sid):
            rows.append(f"{sid}:0:0:{ha1(sid, realm, passwords[sid])}:0")
    return "\n".join(rows) + "\n"


def credentials_dir(cfg: Config) -> Path:
    return Path(cfg.paths.edge_dir) / "credentials"


def write_credentials(cfg: Config) -> bool:
    """Write the table for ``cfg``'s stations if it changed; returns whether it did.

    Raises:
        OSError: the folder cannot be written (the caller logs it).
    """
    folder = credentials_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    text = table_text({sid: st.password for sid, st in cfg.stations.items()}, cfg.edge.realm)
    target = folder / TABLE
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    tmp = folder / f".{TABLE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _MODE)
    try:
        os.fchmod(fd, _MODE)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    log.info("desk-phone credentials for the edge written (%d stations)", text.count("\n") - 1)
    return True
