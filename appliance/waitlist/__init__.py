"""Waitlist fill: freed slots offered by SMS to waitlisted patients, the first yes books.

- :mod:`~appliance.waitlist.matching`: who suits a slot, best first (pure);
- :mod:`~appliance.waitlist.engine`: holding, offering, expiring (through the contact policy);
- :mod:`~appliance.waitlist.answers`: yes, no and "waitlist" replies (a modem hook);
- :mod:`~appliance.waitlist.wording`: the texts per language;
- :mod:`~appliance.waitlist.service`: the core's worker and control commands.

The rows belong to :mod:`appliance.store.waitlist`.
"""

from appliance.waitlist.service import WaitlistService
from appliance.waitlist.wording import ANSWERS, OFFER

__all__ = ["ANSWERS", "OFFER", "WaitlistService"]
