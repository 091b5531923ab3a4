"""Planning against the store: the appointment hook and the nightly run.

:meth:`ReminderPlanner.on_appointment_change` is wired in by each
composition root (``appliance.app``, ``webui.runtime``,
``appliance.cli.context``), so every process that books, moves, imports,
confirms or cancels an appointment re-plans its reminders in the same
transaction. :meth:`ReminderPlanner.plan_horizon` re-plans
every visit of the coming days (the nightly job), which also picks up
changed patients (channel, opt-out, phone numbers) and a changed policy.

Planning needs a trustworthy "now" (a Pi without network time may think
it is 1970 or 2036); with an untrusted clock it plans nothing and the
nightly run catches up once the clock is set.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.clock import Clock, SystemClock
from appliance.config import Config
from appliance.reminders.rules import Policy, channels_for, plan
from appliance.store import reminders as rows
from appliance.store.connection import Connection, Store

log = logging.getLogger(__name__)

#: Appointment statuses whose pending reminders are cancelled, and the outcome recorded.
_CLOSED = {
    "confirmed": "appointment-confirmed",
    "cancelled": "appointment-cancelled",
    "no-show": "appointment-closed",
    "attended": "appointment-closed",
}


@dataclass
class PlanReport:
    appointments: int = 0
    added: int = 0
    updated: int = 0
    cancelled: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.appointments} appointments: {self.added} reminders added, {self.updated} moved, "
            f"{self.cancelled} cancelled in {self.seconds:.2f} s"
        )


class ReminderPlanner:
    """Keeps the ``reminders`` rows in line with appointments and the policy.

    Args:
        cfg: the configuration ([reminders], [hours].holidays, clinic time zone).
        clock: "now"; by default the system clock, trusted as configured.
    """

    def __init__(self, cfg: Config, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock(assume_synced=cfg.clock.assume_synced or cfg.simulate)
        self.reconfigure(cfg)

    def reconfigure(self, cfg: Config) -> None:
        """Follow a reloaded configuration (the web UI's settings screens)."""
        self.cfg = cfg
        self.enabled = cfg.reminders.enabled
        self.policy = Policy.from_config(cfg)

    def on_appointment_change(self, conn: Connection, appointment_id: int, change: str) -> None:
        """The appointment hook: re-plan (or cancel) this visit's pending reminders."""
        if not self.enabled:
            return
        if not self.clock.sync_state().trusted:
            log.info("clock not trusted: appointment %d is planned by the nightly run", appointment_id)
            return
        self.replan(conn, appointment_id, self.clock.now())

    def replan(self, conn: Connection, appointment_id: int, now: datetime) -> rows.SyncResult:
        target = rows.load_target(conn, appointment_id)
        if target is None:
            return rows.SyncResult()
        return self._sync(conn, target, now, None, rows.SyncResult())

    def _sync(
        self,
        conn: Connection,
        target: rows.Target,
        now: datetime,
        current: dict[tuple[int, str], tuple[object, ...]] | None,
        result: rows.SyncResult,
    ) -> rows.SyncResult:
        closed = _CLOSED.get(target.status)
        if closed is not None:
            planned = []
            reason = closed
        else:
            channels = channels_for(target.reminder_channel, target.consent, target.opted_out, target.has_phone)
            planned = plan(target.starts_at, channels, self.policy, now)
            reason = (
                "replanned" if channels else ("opted-out" if target.opted_out or not target.consent else "no-channel")
            )
        return rows.sync(conn, target.appointment_id, planned, target.starts_at, now, reason, current, result)

    def plan_horizon(self, store: Store, days: int | None = None) -> PlanReport:
        """Re-plan every visit from now to ``days`` ahead, in one transaction.

        Raises:
            ClinicBoxError: the store cannot be written (the caller logs it).
        """
        report = PlanReport()
        if not self.enabled:
            return report
        started = time.perf_counter()
        now = self.clock.now()
        end = now + timedelta(days=days if days is not None else self.cfg.reminders.horizon_days)
        result = rows.SyncResult(held=[])
        with store.transaction() as conn:
            targets = rows.targets_between(conn, now, end)
            current = rows.existing_between(conn, now, end)
            for target in targets:
                self._sync(conn, target, now, current.get(target.appointment_id, {}), result)
            rows.insert_held(conn, result)
            rows.expire_overdue(conn, now)
        report.appointments = len(targets)
        report.added, report.updated, report.cancelled = result.added, result.updated, result.cancelled
        report.seconds = time.perf_counter() - started
        log.info("reminder planning: %s", report)
        return report
