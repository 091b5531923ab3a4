"""Waitlist KPIs: slots freed, offers sent, fills, and the fill rate.

* Freed: cancelled visits still to come that the box held for the
  waitlist in the period (someone was waiting when they were cancelled).
* Offers: offer SMS handed to the modem (skipped ones are not offers).
* Filled: freed slots booked from the waitlist.
* Fill rate: filled / freed.

Example:
    >>> WaitlistKpis(freed=4, offers=7, filled=3).fill_rate
    0.75
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.store import Store
from appliance.store.waitlist_offers import figures


@dataclass(frozen=True)
class WaitlistKpis:
    freed: int = 0
    offers: int = 0
    filled: int = 0

    @property
    def fill_rate(self) -> float | None:
        return self.filled / self.freed if self.freed else None


def waitlist_kpis(store: Store, start: datetime, end: datetime) -> WaitlistKpis:
    """The figures for slots freed (and offers sent) in [start, end)."""
    found = figures(store.connection(), start, end)
    return WaitlistKpis(found.freed, found.offers, found.filled)
