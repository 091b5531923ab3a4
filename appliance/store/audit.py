"""The audit log: append-only and hash-chained.

Every row's hash covers its id, content and the previous row's hash, so
editing or deleting a row (even with the database key, using a SQL shell)
breaks the chain from that row on; :meth:`AuditLog.verify` finds the
first broken row. Triggers refuse UPDATE and DELETE; retention moves the
anchor forward and removes only rows behind it. The chain's head (last id
and hash) is also kept in ``settings``, so cutting rows off the end is
detected too.

Never put patient data in ``detail``: ids and counts only.

Example:
    >>> audit = AuditLog(store)                                        # doctest: +SKIP
    >>> audit.record("alice", "view", "patient", 42)                   # doctest: +SKIP
    >>> audit.verify().ok                                              # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

GENESIS = "0" * 64
HEAD_KEY = "audit.head"


def _digest(row_id: int, at: str, actor: str, action: str, otype: str, oid: str, detail: str, prev: str) -> str:
    payload = json.dumps(
        [row_id, at, actor, action, otype, oid, detail, prev],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    rows_checked: int
    first_bad_id: int | None
    reason: str

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.rows_checked} rows verified"
        return f"audit chain BROKEN at row {self.first_bad_id}: {self.reason} ({self.rows_checked} rows before it are intact)"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: str


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(
        self,
        conn: Connection,
        actor: str,
        action: str,
        object_type: str = "",
        object_id: object = "",
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        """Append within the caller's write transaction (so the chain is serial)."""
        if not conn.in_transaction:
            raise RuntimeError("audit rows must be written inside a write transaction")
        last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        if last is None:
            anchor = conn.execute("SELECT pruned_through, anchor_hash FROM audit_anchor").fetchone()
            prev_id, prev_hash = int(anchor[0]), str(anchor[1])
        else:
            prev_id, prev_hash = int(last[0]), str(last[1])
        row_id = prev_id + 1
        when = to_db(at or self.store.clock.now())
        oid = str(object_id)
        digest = _digest(row_id, when, actor, action, object_type, oid, detail, prev_hash)
        conn.execute(
            "INSERT INTO audit_log(id, at, actor, action, object_type, object_id, detail, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (row_id, when, actor, action, object_type, oid, detail, prev_hash, digest),
        )
        conn.execute(
            "INSERT INTO settings(key, value, updated_at, updated_by) VALUES (?,?,?,?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (HEAD_KEY, json.dumps({"id": row_id, "hash": digest}), when, "audit"),
        )
        return row_id

    def record(
        self,
        actor: str,
        action: str,
        object_type: str = "",
        object_id: object = "",
        detail: str = "",
    ) -> int:
        """Append in a transaction of its own (or join the current one)."""
        with self.store.transaction() as conn:
            return self.append(conn, actor, action, object_type, object_id, detail)

    def verify(self) -> VerifyReport:
        conn = self.store.connection()
        anchor = conn.execute("SELECT pruned_through, anchor_hash FROM audit_anchor").fetchone()
        expected_id, prev = int(anchor[0]) + 1, str(anchor[1])
        checked = 0
        cur = conn.execute(
            "SELECT id, at, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_log ORDER BY id"
        )
        for row in cur:
            rid = int(row[0])
            if rid != expected_id:
                return VerifyReport(False, checked, expected_id, f"row {expected_id} is missing (next is {rid})")
            if row[7] != prev:
                return VerifyReport(False, checked, rid, "its link to the previous row does not match")
            if _digest(rid, row[1], row[2], row[3], row[4], row[5], row[6], row[7]) != row[8]:
                return VerifyReport(False, checked, rid, "its content was changed after it was written")
            prev, expected_id = row[8], rid + 1
            checked += 1
        head = conn.execute("SELECT value FROM settings WHERE key = ?", (HEAD_KEY,)).fetchone()
        if head is not None:
            info = json.loads(head[0])
            if int(info["id"]) != expected_id - 1 or info["hash"] != prev:
                return VerifyReport(
                    False,
                    checked,
                    expected_id,
                    f"rows after {expected_id - 1} were deleted (the head says {info['id']})",
                )
        return VerifyReport(True, checked, None, "")

    def prune_before(self, cutoff: datetime) -> int:
        """Retention: drop rows older than ``cutoff``, moving the anchor forward."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT id, hash FROM audit_log WHERE at < ? ORDER BY id DESC LIMIT 1",
                (to_db(cutoff),),
            ).fetchone()
            if row is None:
                return 0
            conn.execute("UPDATE audit_anchor SET pruned_through = ?, anchor_hash = ?", (row[0], row[1]))
            cur = conn.execute("DELETE FROM audit_log WHERE id <= ?", (row[0],))
            return int(cur.rowcount)

    def search(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        where: list[str] = []
        params: list[object] = []
        for column, value in (
            ("actor", actor),
            ("action", action),
            ("object_type", object_type),
            ("object_id", object_id),
        ):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if since:
            where.append("at >= ?")
            params.append(to_db(since))
        if until:
            where.append("at < ?")
            params.append(to_db(until))
        if before_id:
            where.append("id < ?")
            params.append(before_id)
        sql = "SELECT id, at, actor, action, object_type, object_id, detail FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [AuditEntry(*row) for row in self.store.query(sql, tuple(params))]
