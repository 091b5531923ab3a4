"""One place that wires the store's aggregates together for a process.

Every process (core, web UI, CLI) builds its repositories here. Hooks
such as "re-plan reminders when an appointment changes" are handed in by
the process's composition root (``appliance.app``, ``webui.runtime``,
``appliance.cli.context``), so they run whichever process makes the
change while the store knows nothing of the packages built on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from appliance.config import Config
from appliance.store.appointments import AppointmentHook, Appointments
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.followups import on_appointment_change as followup_hook
from appliance.store.importer import Importer
from appliance.store.media import MediaVault
from appliance.store.patients import Patients
from appliance.store.settings import RuntimeSettings
from appliance.store.users import Users
from appliance.store.waitlist import Waitlist
from appliance.store.waitlist_offers import FreedSlotHook
from appliance.store.worklist import Worklist
from appliance.store.worklist import on_appointment_change as worklist_hook


@dataclass
class Repos:
    cfg: Config
    store: Store
    audit: AuditLog
    patients: Patients
    appointments: Appointments
    users: Users
    settings: RuntimeSettings
    importer: Importer
    media: MediaVault
    worklist: Worklist
    waitlist: Waitlist
    appointment_hooks: list[AppointmentHook] = field(default_factory=list)


def make_repos(cfg: Config, store: Store, appointment_hooks: Sequence[AppointmentHook] = ()) -> Repos:
    """The aggregates over ``store``; ``appointment_hooks`` run inside every
    transaction that books, moves, cancels or imports an appointment (the
    composition root passes the reminder planner's)."""
    audit = AuditLog(store)
    # A status the box sets on a feed's appointment goes to the front desk's worklist.
    hooks = [*appointment_hooks, worklist_hook]
    # A visit marked as a no-show gets its one follow-up planned (appliance.reminders.followup sends it).
    hooks.append(followup_hook)
    # A cancelled visit still to come is held for the waitlist (appliance.waitlist offers it).
    hooks.append(FreedSlotHook(store.clock, lambda: cfg.waitlist.enabled))
    return Repos(
        cfg=cfg,
        store=store,
        audit=audit,
        patients=Patients(store, audit, cfg.clinic.country, cfg.clinic.default_language),
        appointments=Appointments(store, audit, hooks),
        users=Users(store, audit, cfg.web.login_max_failures, timedelta(minutes=cfg.web.lockout_min)),
        settings=RuntimeSettings(store, audit),
        importer=Importer(
            store,
            audit,
            cfg.clinic.country,
            cfg.clinic.default_language,
            cfg.clinic.timezone,
            hooks,
            cfg.store.min_free_mb,
        ),
        media=MediaVault(store),
        worklist=Worklist(store, audit),
        waitlist=Waitlist(store, audit),
        appointment_hooks=hooks,
    )
