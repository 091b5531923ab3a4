"""The backups in a folder as people see them: name, time, size, verified.

"Verified" is what the report beside each ``.tar`` says (written by
:func:`appliance.store.backup.backup` after reading the archive back),
and only while the file still has the size the report names.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.store.backup import report_path


def newest_on(folder: Path) -> Path | None:
    """The newest verified backup in ``folder`` (a stick's ``clinicbox-backup``), or ``None``."""
    found = [e for e in listing(folder) if e.verified]
    return found[0].path if found else None


@dataclass(frozen=True)
class Entry:
    """A backup file as listed for people: name, time, size, verified."""

    path: Path
    created_at: str
    size: int
    verified: bool
    restore_needs: str


def listing(folder: Path) -> list[Entry]:
    """The backups in ``folder``, newest first, with what their reports say."""
    entries = []
    for path in Path(folder).glob("clinicbox-*.tar"):
        if path.is_symlink() or not path.is_file():
            continue
        report: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(report_path(path).read_text())
            report = loaded if isinstance(loaded, dict) else {}
        size = path.stat().st_size
        verified = bool(report.get("verified")) and report.get("bytes") == size and report.get("file") == path.name
        created = str(report.get("created_at") or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat())
        entries.append(Entry(path, created, size, verified, str(report.get("restore_needs", ""))))
    return sorted(entries, key=lambda e: (e.created_at, e.path.name), reverse=True)
