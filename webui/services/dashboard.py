"""Today's figures for the dashboard, from the call log.

Computed with one indexed range query over today's calls (in the clinic's
time zone), so the dashboard stays fast on a year of call records. The
definitions are those of shared/DOMAIN.md: ASA over answered queued
calls, abandon rate over calls that entered a queue, service level =
answered within 20 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.errors import StoreError
from appliance.reports.textback import TextBackKpis, textback_kpis
from appliance.reports.waitlist import WaitlistKpis, waitlist_kpis
from appliance.store import Store
from appliance.store import callbacks as callback_rows
from appliance.store.timefmt import to_db

SERVICE_LEVEL_S = 20


@dataclass(frozen=True)
class Today:
    calls: int
    queued: int
    answered: int
    abandoned: int
    voicemail: int
    asa_s: float | None
    service_level: float | None
    abandon_rate: float | None
    open_callbacks: int
    new_voicemail: int
    textback: TextBackKpis = field(default_factory=TextBackKpis)
    waitlist: WaitlistKpis = field(default_factory=WaitlistKpis)


def from_db_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time(0), tz)
    return to_db(start), to_db(start + timedelta(days=1))


def today(store: Store, now: datetime, tz: ZoneInfo) -> Today:
    start, end = day_bounds(now, tz)
    row = store.query_one(
        "SELECT count(*),"
        " coalesce(sum(queued_at IS NOT NULL), 0),"
        " coalesce(sum(agent_answered_at IS NOT NULL), 0),"
        " coalesce(sum(disposition = 'abandoned'), 0),"
        " coalesce(sum(disposition = 'voicemail'), 0),"
        " avg(CASE WHEN agent_answered_at IS NOT NULL AND queued_at IS NOT NULL"
        "     THEN (julianday(agent_answered_at) - julianday(queued_at)) * 86400 END),"
        " coalesce(sum(CASE WHEN agent_answered_at IS NOT NULL AND queued_at IS NOT NULL"
        "     AND (julianday(agent_answered_at) - julianday(queued_at)) * 86400 <= ? THEN 1 ELSE 0 END), 0)"
        " FROM calls WHERE direction = 'inbound' AND started_at >= ? AND started_at < ?",
        (SERVICE_LEVEL_S, start, end),
    )
    if row is None:
        raise StoreError("an aggregate query returned no row")
    calls, queued, answered, abandoned, voicemail, asa, within = (row[i] for i in range(7))
    new_vm = store.query_one("SELECT count(*) FROM voicemail WHERE status = 'new'")
    return Today(
        calls=int(calls),
        queued=int(queued),
        answered=int(answered),
        abandoned=int(abandoned),
        voicemail=int(voicemail),
        asa_s=float(asa) if asa is not None else None,
        service_level=(within / queued) if queued else None,
        abandon_rate=(abandoned / queued) if queued else None,
        open_callbacks=callback_rows.count_open(store),
        new_voicemail=int(new_vm[0]) if new_vm else 0,
        textback=textback_kpis(store, from_db_text(start), from_db_text(end)),
        waitlist=waitlist_kpis(store, from_db_text(start), from_db_text(end)),
    )
