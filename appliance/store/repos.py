"""One place that wires the store's aggregates together for a process.

Every process (core, web UI, CLI) builds its repositories here, so hooks
such as "re-plan reminders when an appointment changes" run whichever
process makes the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from appliance.clock import Clock
from appliance.config import Config
from appliance.store.appointments import AppointmentHook, Appointments
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.importer import Importer
from appliance.store.media import MediaVault
from appliance.store.patients import Patients
from appliance.store.settings import RuntimeSettings
from appliance.store.users import Users


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
    appointment_hooks: list[AppointmentHook] = field(default_factory=list)


def appointment_hooks(cfg: Config, clock: Clock | None = None) -> list[AppointmentHook]:
    """Hooks every process runs when an appointment changes (``clock``: the store's)."""
    from appliance.reminders.replanning import ReminderPlanner  # the reminders build on the store

    hooks: list[AppointmentHook] = [ReminderPlanner(cfg, clock).on_appointment_change]
    return hooks


def make_repos(cfg: Config, store: Store) -> Repos:
    audit = AuditLog(store)
    hooks = appointment_hooks(cfg, store.clock)
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
        appointment_hooks=hooks,
    )
