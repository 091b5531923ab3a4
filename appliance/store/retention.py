"""Keeping data no longer than the clinic decided (``[retention]``).

Run nightly after the backup (``clinicbox db retention``, started by
``clinicbox-backup.service``): recordings past their expiry, voicemail and
call records older than their limits, SMS with the call records, and the
audit log past ``audit_days`` (its hash chain re-anchored, see
:mod:`appliance.store.audit`). Media files are deleted after the rows that
name them are gone, so a crash in between leaves an unreferenced file,
never a row pointing at nothing. Each run is itself audited (counts only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.config import Config
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.media import MediaVault
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    recordings: int
    voicemail: int
    calls: int
    sms: int
    audit_rows: int

    def __str__(self) -> str:
        return (
            f"deleted {self.recordings} recordings, {self.voicemail} voicemail messages, {self.calls} call records,"
            f" {self.sms} SMS and {self.audit_rows} audit rows past their retention"
        )


def apply_retention(cfg: Config, store: Store, now: datetime, actor: str = "retention") -> RetentionReport:
    r = cfg.retention
    vault = MediaVault(store)
    voicemail_cut = to_db(now - timedelta(days=r.voicemail_days))
    calls_cut = to_db(now - timedelta(days=r.calls_days))
    with store.transaction() as conn:
        rec_files = [
            row[0] for row in conn.execute("SELECT media_file FROM recordings WHERE expires_at < ?", (to_db(now),))
        ]
        conn.execute("DELETE FROM recordings WHERE expires_at < ?", (to_db(now),))
        vm_files = [
            row[0] for row in conn.execute("SELECT media_file FROM voicemail WHERE received_at < ?", (voicemail_cut,))
        ]
        conn.execute("DELETE FROM voicemail WHERE received_at < ?", (voicemail_cut,))
        calls = conn.execute("DELETE FROM calls WHERE started_at < ?", (calls_cut,)).rowcount
        conn.execute("DELETE FROM agent_events WHERE at < ?", (calls_cut,))
        sms = conn.execute("DELETE FROM sms_messages WHERE created_at < ?", (calls_cut,)).rowcount
    audit = AuditLog(store)
    audit_rows = audit.prune_before(now - timedelta(days=r.audit_days))
    for name in rec_files + vm_files:
        vault.delete(name)
    report = RetentionReport(len(rec_files), len(vm_files), int(calls), int(sms), audit_rows)
    audit.record(actor, "retention", "store", "", str(report))
    log.info("retention: %s", report)
    return report
