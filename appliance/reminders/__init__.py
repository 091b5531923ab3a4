"""Appointment reminders: planner, dispatcher, call scripts, SMS and replies.

Public API (what the core, the CLI and the store use)
----------------------------------------------------
``ReminderService.from_core(cfg, clock, bus, store, switchboard, modem=None)``
    The core service (``name``, ``start()``, ``stop()``, ``healthy()``). The
    dialer is the switchboard, or the shipped simulator when
    ``reminders.dialer = "simulator"``; SMS go through the modem when
    ``modem.enabled``.
``ReminderPlanner(cfg, clock=None).on_appointment_change``
    The appointment hook (wired in by the composition roots): re-plans a
    visit's reminders in the transaction that changed it.
``ReminderPlanner.plan_horizon(store, days=None) -> PlanReport``
    Re-plans every visit in the coming days (the nightly job).
``parse_reply(text) -> "confirm" | "cancel" | "stop" | None``
    Reads an SMS reply in any of the six languages.

Modules: pure (:mod:`.windows`, :mod:`.planner`, :mod:`.replies`,
:mod:`.script`, :mod:`.when`, :mod:`.texts`, :mod:`.messages`); with the
store (:mod:`.planning`, :mod:`.outcomes`, :mod:`.dispatcher`,
:mod:`.inbox`, :mod:`.ics`, :mod:`.report`); the service (:mod:`.service`).
Rows: :mod:`appliance.store.reminders`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.reminders.planner import Policy, plan
    from appliance.reminders.planning import PlanReport, ReminderPlanner
    from appliance.reminders.replies import parse_reply
    from appliance.reminders.script import ReminderScript
    from appliance.reminders.service import ReminderService

# Re-exported lazily: the IVR's prompt catalogue imports .texts, and that
# must not pull in the scheduler, the store and the service.
_EXPORTS = {
    "Policy": "appliance.reminders.planner",
    "plan": "appliance.reminders.planner",
    "PlanReport": "appliance.reminders.planning",
    "ReminderPlanner": "appliance.reminders.planning",
    "parse_reply": "appliance.reminders.replies",
    "ReminderScript": "appliance.reminders.script",
    "ReminderService": "appliance.reminders.service",
}

__all__ = ["PlanReport", "Policy", "ReminderPlanner", "ReminderScript", "ReminderService", "parse_reply", "plan"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'appliance.reminders' has no attribute {name!r}")
