"""The reminders' control commands: ``reminders.pause`` and ``reminders.resume``.

A pause is announced on the bus (``reminders.paused`` / ``reminders.resumed``):
the reminder service's worker stops or resumes dispatching and stores the
choice, and the switchboard shows it in its snapshot (``box.reminders_paused``).
The commands answer even on a box without reminders, as they always have:
the core registers them itself then (:func:`register_pause_commands`).
"""

from __future__ import annotations

from typing import Any

from appliance.control import CommandTable
from appliance.events import EventBus, ReminderNotifier


def register_pause_commands(table: CommandTable, bus: EventBus) -> None:
    """``reminders.pause`` and ``reminders.resume`` in the core's command table."""
    table.register("reminders.pause", lambda args: set_paused(bus, True))
    table.register("reminders.resume", lambda args: set_paused(bus, False))


def set_paused(bus: EventBus, paused: bool) -> dict[str, Any]:
    """Announce a pause (or its end); the reply the control socket gives."""
    notify = ReminderNotifier(bus.emit)
    if paused:
        notify.paused()
    else:
        notify.resumed()
    return {"reminders_paused": paused}
