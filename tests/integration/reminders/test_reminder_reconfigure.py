"""A reloaded config reaches the reminders through ``reconfigure``: what they follow
at once, what waits for a restart, and that they no longer peek at the dialer's config."""

from __future__ import annotations

import dataclasses
from typing import Any

from appliance.config import Applied
from appliance.control import CommandTable, Request
from appliance.reminders import register_pause_commands
from tests.integration.reminders.conftest import World
from tests.integration.reminders.test_reminder_service import eventually


def changed(world: World, **reminders: Any) -> Any:
    cfg = world.cfg
    return dataclasses.replace(cfg, reminders=dataclasses.replace(cfg.reminders, **reminders))


def test_offsets_apply_live_and_the_dialer_waits_for_a_restart(world: World) -> None:
    pid = world.patient("601999887")
    world.visit(pid, 72)
    new = dataclasses.replace(
        changed(world, offsets_h=[48, 24], dialer="simulator"),
        clinic=dataclasses.replace(world.cfg.clinic, timezone="Europe/Berlin"),
    )
    result = world.service.reconfigure(new)
    assert result == Applied(applied=["reminders.offsets_h"], restart=["clinic.timezone", "reminders.dialer"])
    assert world.dispatcher.r.offsets_h == [24], "the worker follows before its next job, not on the caller's thread"
    world.service._run("config")
    assert world.dispatcher.r.offsets_h == [48, 24]
    assert sorted(r[1] for r in world.reminders()) == [1440, 2880]
    assert world.service.reconfigure(new) == Applied(), "a reload that changes nothing reports nothing"


def test_the_dialers_config_is_not_followed(world: World) -> None:
    world.switchboard.cfg = changed(world, offsets_h=[48, 24])  # what the switchboard once shared
    world.service._run("tick")
    assert world.dispatcher.r.offsets_h == [24]


def test_the_running_worker_follows_a_reload_without_waiting_for_a_tick(world: World) -> None:
    world.service.start()
    try:
        world.service.reconfigure(changed(world, max_calls=1))
        eventually(lambda: world.dispatcher.r.max_calls == 1)
    finally:
        world.service.stop()


def test_pause_commands_announce_on_the_bus_and_answer_as_before(world: World) -> None:
    table = CommandTable()
    world.service.register_commands(table)
    seen: list[str] = []
    world.bus.subscribe(lambda event: seen.append(event.kind), "reminders.")
    assert table.handle(Request(1, "reminders.pause", {})) == {"reminders_paused": True}
    assert table.handle(Request(2, "reminders.resume", {})) == {"reminders_paused": False}
    assert seen == ["reminders.paused", "reminders.resumed"]
    other = CommandTable()
    register_pause_commands(other, world.bus)  # a box without reminders answers them too
    assert other.names() == ["reminders.pause", "reminders.resume"]
