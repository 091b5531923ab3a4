"""What a reload changed, and how the services' answers add up (the ``reconfigure`` contract)."""

from __future__ import annotations

from pathlib import Path

from appliance.config import Applied, Config, changed_settings
from tests.conftest import clinic_config


def config(tmp_path: Path, **overrides: object) -> Config:
    return clinic_config(tmp_path, **overrides)


def test_merge_keeps_order_drops_repeats_and_a_restart_wins() -> None:
    switchboard = Applied(applied=["hours.monday", "clinic.timezone", "ivr.entry"], restart=["sip.port"])
    reminders = Applied(applied=["reminders.offsets_h", "hours.monday"], restart=["clinic.timezone"])
    merged = switchboard.merge(reminders)
    assert merged.applied == ["hours.monday", "ivr.entry", "reminders.offsets_h"]
    assert merged.restart == ["sip.port", "clinic.timezone"]
    assert Applied.combine([switchboard, reminders, Applied()]) == merged
    assert Applied.combine([]) == Applied()
    assert merged.reply() == {
        "applied": ["hours.monday", "ivr.entry", "reminders.offsets_h"],
        "restart": ["sip.port", "clinic.timezone"],
    }


def test_changed_settings_are_named_by_section_and_key(tmp_path: Path) -> None:
    old = config(tmp_path)
    new = config(tmp_path, hours={"saturday": ["09:00-12:00"]}, sip={"port": 5070}, simulate=True)
    assert changed_settings(old, old) == []
    assert sorted(changed_settings(old, new)) == ["hours.saturday", "simulate", "sip.port"]


def test_sort_out_takes_the_most_specific_rule_and_leaves_out_what_is_not_the_services(tmp_path: Path) -> None:
    old = config(tmp_path)
    new = config(tmp_path, sip={"port": 5070, "rtp_timeout_s": 11}, hours={"sunday": ["10:00-11:00"]}, web={"port": 9})
    sorted_out = Applied.sort_out(old, new, live=("hours", "sip.rtp_timeout_s"), restart=("sip",))
    assert sorted_out == Applied(applied=["sip.rtp_timeout_s", "hours.sunday"], restart=["sip.port"])
    assert Applied.sort_out(old, old, live=("hours",), restart=("sip",)) == Applied()
