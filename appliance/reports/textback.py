"""Missed-call text-back KPIs: missed calls, texted, recovered.

* Missed: inbound patient calls that started in the period and that the
  clinic missed as :mod:`appliance.textback` defines it (hung up while
  waiting, busy, overflow, or after hours; no voicemail left; no "call me
  back" asked), whether or not a text went out.
* Texted: those missed calls whose text-back went to the modem (queued,
  sent or delivered).
* Recovered: texted calls after whose text the caller was reached or came
  back: a callback for their number done, an answered call from or to the
  number, or a visit booked for a patient with that number.
* Recovery rate: recovered / texted.

Example:
    >>> TextBackKpis(missed=10, texted=6, recovered=3).recovery_rate
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.store import Store
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class TextBackKpis:
    missed: int = 0
    texted: int = 0
    recovered: int = 0

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.texted if self.texted else None


_MISSED = (
    "k.direction = 'inbound' AND k.purpose = 'patient' AND k.started_at >= ? AND k.started_at < ?"
    " AND k.ended_at IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM voicemail v WHERE v.call_id = k.id)"
    " AND NOT EXISTS (SELECT 1 FROM callbacks r WHERE r.call_id = k.id AND r.source = 'requested')"
    " AND (k.disposition IN ('abandoned', 'busy', 'overflow')"
    "      OR (k.disposition NOT IN ('answered', 'voicemail', 'callback', 'transferred')"
    "          AND EXISTS (SELECT 1 FROM callbacks a WHERE a.call_id = k.id AND a.source = 'after-hours')))"
)
_RECOVERED = (
    "EXISTS (SELECT 1 FROM callbacks cb WHERE cb.number = t.number AND cb.status = 'done' AND cb.completed_at >= t.at)"
    " OR EXISTS (SELECT 1 FROM calls b WHERE b.caller = t.number AND b.direction = 'inbound'"
    "            AND b.agent_answered_at IS NOT NULL AND b.started_at >= t.at)"
    " OR EXISTS (SELECT 1 FROM calls o WHERE o.callee = t.number AND o.direction = 'outbound'"
    "            AND o.answered_at IS NOT NULL AND o.started_at >= t.at)"
    " OR EXISTS (SELECT 1 FROM appointments ap JOIN patient_phones ph ON ph.patient_id = ap.patient_id"
    "            WHERE ph.e164 = t.number AND ap.created_at >= t.at)"
)


def textback_kpis(store: Store, start: datetime, end: datetime) -> TextBackKpis:
    """The three figures for calls that started in [start, end)."""
    params = (to_db(start), to_db(end))
    row = store.query_one(
        "SELECT count(*),"
        " coalesce(sum(t.id IS NOT NULL), 0),"
        f" coalesce(sum(t.id IS NOT NULL AND ({_RECOVERED})), 0)"
        " FROM calls k LEFT JOIN contact_log t ON t.call_id = k.id AND t.kind = 'textback'"
        " AND t.outcome IN ('queued', 'sent', 'delivered')"
        f" WHERE {_MISSED}",
        params,
    )
    if row is None:
        return TextBackKpis()
    return TextBackKpis(int(row[0]), int(row[1]), int(row[2]))
