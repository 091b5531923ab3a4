"""Versioned schema migrations, applied in one transaction.

Migrations are ``migrations/NNNN_name.sql``; ``PRAGMA user_version`` holds
the number of the last one applied, and is set inside the same transaction
as the migration, so a crash leaves the database at the old version or the
new one, never between.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from appliance.errors import SchemaTooNewError, StoreError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every shipped migration, in order."""
    out = []
    for entry in resources.files("appliance.store").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            out.append((int(m[1]), entry.name, entry.read_text(encoding="utf-8")))
    out.sort()
    for expected, (version, name, _) in enumerate(out, start=1):
        if version != expected:
            raise StoreError(f"migration {name} is out of sequence (expected {expected:04d})")
    return out


def latest_version() -> int:
    return len(available())


def current_version(conn: Any) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_schema_version(conn: Any) -> None:
    """Refuse a database written by a newer ClinicBox.

    Raises:
        SchemaTooNewError: the schema is newer than this software knows.
    """
    version = current_version(conn)
    latest = latest_version()
    if version > latest:
        raise SchemaTooNewError(
            f"the database has schema version {version}, newer than this ClinicBox knows ({latest}). "
            "It was written by a newer release: upgrade ClinicBox, or restore a backup made by this release. "
            "Nothing was changed"
        )


def apply_migrations(conn: Any) -> list[str]:
    """Apply pending migrations in one transaction; return their names."""
    pending = [m for m in available() if m[0] > current_version(conn)]
    if not pending:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another process may have migrated.
        version = current_version(conn)
        if version > latest_version():
            raise SchemaTooNewError(f"schema version {version} is newer than this ClinicBox knows")
        applied = []
        for number, name, sql in available():
            if number <= version:
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            applied.append(name)
        conn.execute("COMMIT")
        return applied
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (``CREATE TRIGGER ... END;`` stays whole)."""
    import sqlite3  # only for complete_statement, a pure parser helper

    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise StoreError(f"migration has an unterminated statement: {buf[:60]!r}")
    return statements
