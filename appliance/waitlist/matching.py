"""Who gets offered a freed slot (pure): the waitlisted patients it suits, best first.

An entry suits a slot when its provider and room (if it names them) are
the slot's, and the slot lies inside its days and hours (or it asked for
"earliest possible"). Never offered: the patient whose visit freed the
slot, a patient with a visit at that time, a patient already asked about
this slot or waiting to answer another offer. A slot that starts sooner
than ``min_notice`` from now is offered to nobody: nobody could get there.

Best first: an entry naming the slot's provider, then one naming its room,
then a range of days and hours, then "earliest possible"; among equals,
whoever joined first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.store.waitlist import Entry
from appliance.store.waitlist_offers import Slot


def too_soon(slot: Slot, now: datetime, min_notice: timedelta) -> bool:
    return slot.starts_at - now < min_notice


def ranked(
    entries: Iterable[Entry],
    slot: Slot,
    timezone: str,
    *,
    skip: Collection[int] = (),
    busy: Callable[[int], bool] = lambda _pid: False,
) -> list[Entry]:
    """The entries ``slot`` suits, best first; ``skip`` holds entry ids already asked or waiting."""
    tz = ZoneInfo(timezone)
    fitting = [
        e
        for e in entries
        if e.state == "waiting"
        and e.id not in skip
        and e.patient_id != slot.freed_patient_id
        and e.fits(slot.starts_at, slot.ends_at, slot.provider, slot.location, tz)
        and not busy(e.patient_id)
    ]
    return sorted(fitting, key=lambda e: (not e.provider, not e.location, e.earliest, e.created_at, e.id))
