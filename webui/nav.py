"""The navigation bar: which screens each role sees (the routes enforce it too)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from appliance.store.users import User
from webui.auth import FRONT_DESK, MANAGER, TECHNICIAN
from webui.i18n import gettext as _


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    testid: str


#: (endpoint, label msgid, roles). Labels are translated per request.
_ITEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("console.console", "Console", (MANAGER, FRONT_DESK)),
    ("dashboard.dashboard", "Dashboard", (MANAGER, FRONT_DESK, TECHNICIAN)),
    ("dashboard.wallboard", "Wallboard", (MANAGER, FRONT_DESK, TECHNICIAN)),
    ("callbacks.callbacks", "Callbacks", (MANAGER, FRONT_DESK)),
    ("patients.patients", "Patients", (MANAGER, FRONT_DESK)),
    ("schedule.schedule", "Schedule", (MANAGER, FRONT_DESK)),
    ("calllog.calls", "Call log", (MANAGER, FRONT_DESK)),
    ("media.voicemail", "Voicemail", (MANAGER, FRONT_DESK)),
    ("messages.messages", "Text messages", (MANAGER, FRONT_DESK)),
    ("reminders.reminders", "Reminders", (MANAGER, FRONT_DESK)),
    ("feeds.worklist", "Worklist", (MANAGER, FRONT_DESK)),
    ("waitlist.waitlist", "Waitlist", (MANAGER, FRONT_DESK)),
    ("feeds.feeds", "Feed", (MANAGER, TECHNICIAN)),
    ("reports.reports", "Reports", (MANAGER,)),
    ("settings.index", "Settings", (MANAGER,)),
    ("admin.users", "Users", (MANAGER,)),
    ("admin.audit", "Audit log", (MANAGER,)),
    ("diagnostics.diagnostics", "Diagnostics", (MANAGER, TECHNICIAN)),
)


def nav_items(user: User | None) -> list[NavItem]:
    """The screens ``user`` may open (and this build serves)."""
    if user is None:
        return []
    served = current_app.view_functions
    return [
        NavItem(endpoint, _(label), "nav-" + endpoint.split(".")[1])
        for endpoint, label, roles in _ITEMS
        if user.role in roles and endpoint in served
    ]


def _extract_labels() -> None:
    """Labels for message extraction (pybabel reads these calls)."""
    _("Console"), _("Dashboard"), _("Wallboard"), _("Callbacks"), _("Patients"), _("Schedule")
    _("Call log"), _("Voicemail"), _("Reminders"), _("Reports"), _("Settings"), _("Users")
    _("Audit log"), _("Diagnostics"), _("Worklist"), _("Feed"), _("Waitlist")
