"""The service as the core runs it: APScheduler jobs, the worker thread, bus events, status file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.reminders.service import PAUSED_KEY, ReminderService, read_status
from appliance.switchboard.fake import Behaviour
from tests.integration.reminders.conftest import World


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout} s: {check}")


def test_scheduler_wakes_with_explicit_misfire_grace_and_coalescing(world: World) -> None:
    svc = world.service
    svc.start()
    try:
        dispatch = svc.scheduler.get_job("reminders-dispatch")
        plan = svc.scheduler.get_job("reminders-plan")
        assert dispatch.trigger.interval.total_seconds() == world.cfg.reminders.interval_s
        assert (dispatch.coalesce, dispatch.max_instances) == (True, 1)
        assert dispatch.misfire_grace_time == world.cfg.reminders.misfire_grace_s
        assert str(plan.trigger) == "cron[hour='1', minute='30']" and plan.coalesce
        assert str(svc.scheduler.timezone) == "Europe/Warsaw"
        assert svc.healthy()
    finally:
        svc.stop()
    assert not svc.healthy()


def test_a_due_reminder_is_called_by_the_running_service(world: World) -> None:
    pid = world.patient("601800900")
    world.answers(pid, Behaviour("answer", 1.0, "1", 2.0))
    world.visit(pid, 24)
    world.service.start()
    try:
        eventually(lambda: world.switchboard.placed)
    finally:
        world.service.stop()


def test_pause_and_resume_events_stop_dispatching_and_are_remembered(world: World, tmp_path: Path) -> None:
    svc = world.service
    svc.start()
    try:
        world.bus.emit("reminders.paused")
        eventually(lambda: world.repos.settings.get(PAUSED_KEY) is True)
        assert svc.dispatcher.paused
        eventually(lambda: (read_status(world.cfg.paths.run_dir) or {}).get("paused") is True)
        pid = world.patient("601800901")
        world.visit(pid, 24)
        svc.wake()
        time.sleep(0.3)
        assert world.switchboard.placed == []
    finally:
        svc.stop()
    # A restart stays paused, and tells the switchboard so the dashboard shows it.
    again = ReminderService(world.cfg, world.clock, world.bus, world.store, world.switchboard, repos=world.repos)
    again.start()
    try:
        eventually(lambda: again.dispatcher.paused and world.switchboard.reminders_paused)
        world.bus.emit("reminders.resumed")
        eventually(lambda: world.switchboard.placed)
        assert world.repos.settings.get(PAUSED_KEY) is False
    finally:
        again.stop()


def test_sms_status_events_from_the_bus_reach_the_attempt(make_world: Any) -> None:
    world: World = make_world(modem=True)
    pid = world.patient("601800902", channel="sms")
    world.visit(pid, 24)
    world.service.start()
    try:
        sms_id = eventually(lambda: world.q("SELECT id FROM sms_messages WHERE direction = 'out'"))[0][0]
        world.bus.emit("modem.sms.status", sms_id=sms_id, status="sent")
        eventually(lambda: world.attempts() == [(1, "sms", "gsm", "finished", "sent")])
    finally:
        world.service.stop()
