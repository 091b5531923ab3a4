"""The feed pages' data: the front desk's worklist and the HL7 feed's status.

The rows belong to :mod:`appliance.store.worklist` and
:mod:`appliance.store.feeds`; the listener's own state (listening,
connection counters) comes from the core (``feeds.status``) when it runs.
Re-processing a stored message is the core's job (``feeds.reprocess``): it
owns the intake and its mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance.store import feeds as ledger
from appliance.store import settings
from appliance.store import worklist as worklist_rows
from appliance.store.feeds import LedgerEntry
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db
from appliance.store.worklist import WorkItem

__all__ = ["FeedSummary", "WorkItem", "summary", "tick_done", "worklist"]


@dataclass
class FeedSummary:
    """What the dashboard and the feed page show about the HL7 feed."""

    enabled: bool
    address: str
    counts: dict[str, int]
    last_message: str
    problems: list[LedgerEntry] = field(default_factory=list)
    open_worklist: int = 0
    core: dict[str, Any] | None = None
    calendar: dict[str, Any] | None = None

    @property
    def applied(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("applied", "unchanged", "ignored"))


def summary(repos: Repos, now: datetime, core: dict[str, Any] | None = None) -> FeedSummary:
    """The last 24 hours of the feed; ``core`` is the core's ``feeds.status`` when it answered."""
    hl7 = repos.cfg.feeds.hl7
    conn = repos.store.connection()
    since = to_db(now - timedelta(days=1))
    data = ledger.summary(conn, since)
    return FeedSummary(
        enabled=hl7.enabled,
        address=f"{hl7.host}:{hl7.port}",
        counts=data["counts"],
        last_message=max(data["last"].values(), default=""),
        problems=ledger.recent(conn, limit=50),
        open_worklist=worklist_rows.open_count(conn),
        core=core,
        calendar=_calendar_last(repos) if repos.cfg.feeds.calendar.enabled else None,
    )


def _calendar_last(repos: Repos) -> dict[str, Any]:
    """The calendar's last sync as the core recorded it ({} before the first)."""
    from appliance.feeds.calsync import CalendarSync

    feed = repos.cfg.feeds.calendar.feed_name()
    return settings.get_state(repos.store.connection(), CalendarSync.last_key(feed)) or {}


def worklist(repos: Repos, actor: str, include_done: bool = False) -> list[WorkItem]:
    """The worklist with patients' names (an audited read)."""
    return repos.worklist.items(actor, include_done=include_done)


def tick_done(repos: Repos, item_id: int, actor: str) -> None:
    repos.worklist.tick_done(item_id, actor)
