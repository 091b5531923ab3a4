"""Appointment reminders: planning rules, dispatcher, the reminder call, SMS and replies.

Public API (what the core, the CLI and the store use)
----------------------------------------------------
``ReminderService.from_core(cfg, clock, bus, store, dialer, modem=None)``
    The core service (``name``, ``start()``, ``stop()``, ``healthy()``). The
    dialer is the switchboard, or the shipped simulator when
    ``reminders.dialer = "simulator"``, built by the composition root
    (``appliance.app.reminder_dialer``); SMS go through the modem when
    ``modem.enabled``. ``register_commands(table)`` adds its control
    commands; ``reconfigure(cfg)`` follows a reloaded config.
``register_pause_commands(table, bus)``
    ``reminders.pause`` / ``reminders.resume``, which the core registers
    itself on a box without reminders.
``ReminderPlanner(cfg, clock=None).on_appointment_change``
    The appointment hook (wired in by the composition roots): re-plans a
    visit's reminders in the transaction that changed it.
``ReminderPlanner.plan_horizon(store, days=None) -> PlanReport``
    Re-plans every visit in the coming days (the nightly job).
``parse_reply(text) -> "confirm" | "cancel" | "stop" | None``
    Reads an SMS reply in any of the six languages.
``register_prompts()``
    Adds the reminder calls' prompts to the IVR's catalogue; done when this
    package is imported, and by the composition roots before they load the
    config (so ``[prompts.texts]`` may use ``{date}``, ``{time}``...).

Modules: pure (:mod:`.windows`, :mod:`.rules` (which reminders a visit
gets, and when), :mod:`.replies`, :mod:`.dialogue` (the reminder call's
state machine), :mod:`.when`, :mod:`.wording` (what calls say and SMS
read), :mod:`.messages`); with the store (:mod:`.replanning` (the
appointment hook and the nightly run), :mod:`.outcomes`,
:mod:`.dispatcher`, :mod:`.sms_delivery` (reminder SMS through the
modem), :mod:`.inbox`, :mod:`.ics`, :mod:`.report`, and the no-show
follow-up: :mod:`.followup` (sent by the dispatcher),
:mod:`.followup_replies`, :mod:`.followup_wording`); the service
(:mod:`.service`) and its control commands (:mod:`.commands`).
Rows: :mod:`appliance.store.reminders`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from appliance.reminders.wording import register_prompts

if TYPE_CHECKING:
    from appliance.reminders.commands import register_pause_commands
    from appliance.reminders.dialogue import ReminderScript
    from appliance.reminders.replanning import PlanReport, ReminderPlanner
    from appliance.reminders.replies import parse_reply
    from appliance.reminders.rules import Policy, plan
    from appliance.reminders.service import ReminderService

# Re-exported lazily: importing the package (which registers .wording with the
# IVR's prompt catalogue) must not pull in the scheduler, the store and the service.
_EXPORTS = {
    "Policy": "appliance.reminders.rules",
    "plan": "appliance.reminders.rules",
    "PlanReport": "appliance.reminders.replanning",
    "ReminderPlanner": "appliance.reminders.replanning",
    "parse_reply": "appliance.reminders.replies",
    "ReminderScript": "appliance.reminders.dialogue",
    "ReminderService": "appliance.reminders.service",
    "register_pause_commands": "appliance.reminders.commands",
}

__all__ = [
    "PlanReport",
    "Policy",
    "ReminderPlanner",
    "ReminderScript",
    "ReminderService",
    "parse_reply",
    "plan",
    "register_pause_commands",
    "register_prompts",
]

register_prompts()  # the package registers its own texts with the IVR's catalogue


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'appliance.reminders' has no attribute {name!r}")
