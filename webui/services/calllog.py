"""The call log: newest first, a page at a time.

Paging uses the ``started_at`` index (``before`` = the last row's start),
so the thousandth page costs the same as the first on a year of calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.store import contacts
from appliance.store.repos import Repos
from appliance.store.timefmt import seconds_between, to_db

PAGE = 50
DIRECTIONS = ("inbound", "outbound")


@dataclass(frozen=True)
class CallRow:
    uuid: str
    direction: str
    purpose: str
    route: str
    caller: str
    callee: str
    patient_id: int | None
    patient_name: str | None
    started_at: str
    queue: str | None
    agent: str | None
    disposition: str | None
    wait_s: float | None
    talk_s: float | None
    note: str
    ivr_path: list[str]
    texts: list[contacts.TraceRow] = field(default_factory=list)


@dataclass(frozen=True)
class CallPage:
    rows: list[CallRow]
    older: str | None  # the ``before`` value of the next page


def page(
    repos: Repos,
    actor: str,
    *,
    before: str | None = None,
    day: date | None = None,
    direction: str | None = None,
    limit: int = PAGE,
) -> CallPage:
    where: list[str] = []
    params: list[object] = []
    if before:
        where.append("c.started_at < ?")
        params.append(before)
    if day is not None:
        tz = ZoneInfo(repos.cfg.clinic.timezone)
        start = datetime.combine(day, time(0), tz)
        where.append("c.started_at >= ? AND c.started_at < ?")
        params += [to_db(start), to_db(start + timedelta(days=1))]
    if direction in DIRECTIONS:
        where.append("c.direction = ?")
        params.append(direction)
    sql = (
        "SELECT c.uuid, c.direction, c.purpose, c.route, c.caller, c.callee, c.patient_id, p.display_name,"
        " c.started_at, c.queue, c.agent, c.disposition, c.queued_at, c.agent_answered_at, c.ended_at, c.note,"
        " c.ivr_path, c.id FROM calls c LEFT JOIN patients p ON p.id = c.patient_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY c.started_at DESC LIMIT ?"
    params.append(limit + 1)
    raw = repos.store.query(sql, tuple(params))
    traces = contacts.for_calls(repos.store.connection(), [int(r[17]) for r in raw[:limit]])
    rows = [
        CallRow(
            uuid=r[0],
            direction=r[1],
            purpose=r[2],
            route=r[3],
            caller=r[4],
            callee=r[5],
            patient_id=r[6],
            patient_name=r[7],
            started_at=r[8],
            queue=r[9],
            agent=r[10],
            disposition=r[11],
            wait_s=seconds_between(r[12], r[13] or r[14]) if r[12] else None,
            talk_s=seconds_between(r[13], r[14]) if r[13] else None,
            note=r[15],
            ivr_path=json.loads(r[16] or "[]"),
            texts=traces.get(int(r[17]), []),
        )
        for r in raw[:limit]
    ]
    older = rows[-1].started_at if len(raw) > limit and rows else None
    repos.audit.record(actor, "view", "call-log", "", f"{len(rows)} calls")
    return CallPage(rows, older)
