"""Appointments from the clinic's own system.

The HL7 v2 MLLP listener (:mod:`appliance.feeds.mllp`, a thin adapter),
the pure mapping from a parsed message to a change of the store
(:mod:`appliance.feeds.hl7map`, table-tested), the acknowledgements
(:mod:`appliance.feeds.ack`), and the writer that commits a change, audits
it and lets the reminder planner re-plan that visit
(:mod:`appliance.feeds.apply`, :mod:`appliance.feeds.intake`).
"""

from __future__ import annotations
