"""The waitlist in the core: built before the reminders (their reply hook comes second, so a yes
to an offer is the offer's), its control commands registered, its config checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance import app
from appliance.config import load_config
from appliance.control import Request
from appliance.errors import ConfigError
from tests.conftest import clinic_config


def test_the_core_builds_the_waitlist_before_the_reminders_and_answers_its_commands(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, waitlist={"enabled": True}, panel={"enabled": False})
    core = app.Core(cfg)
    try:
        from appliance.store import Store

        Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
        core.open_store()
        names = [s.name for s in core.build_services()]
        assert names.index("waitlist") < names.index("reminders")
        assert {"waitlist.wake", "waitlist.status"} <= set(core.commands.names())
        status = core.commands.handle(Request(1, "waitlist.status", {}))
        assert status == {"enabled": True, "modem": False, "waiting": 0, "held_slots": 0, "open_offers": 0, "scans": 0}
        assert core.commands.handle(Request(2, "waitlist.wake", {})) == {"woken": True}
    finally:
        core._jobs.shutdown(wait=True)
        if core.store is not None:
            core.store.close()
        core.lock.release()


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        ({"en": "{clinic}: {doctor} at {time}"}, "only {clinic}, {date}, {time}, {minutes}"),
        ({"xx": "{clinic}"}, "xx is not one of clinic.languages"),
        ({"en": "   "}, "empty"),
    ],
)
def test_a_bad_offer_text_is_refused_naming_the_key(tmp_path: Path, texts: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        clinic_config(tmp_path, waitlist={"offer_texts": texts})
    assert any("waitlist.offer_texts" in p and problem in p for p in caught.value.problems), caught.value.problems
    assert load_config(overrides={"waitlist": {"offer_texts": {"en": "{clinic} {date} {time} {minutes}"}}})


def test_turning_the_waitlist_on_says_it_waits_for_a_restart_and_the_rest_applies_at_once(tmp_path: Path) -> None:
    from appliance.events import EventBus
    from appliance.store import Store
    from appliance.store.repos import make_repos
    from appliance.waitlist import WaitlistService

    cfg = clinic_config(tmp_path)
    store = Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    try:
        service = WaitlistService(cfg, store.clock, EventBus(), store, make_repos(cfg, store))
        new = clinic_config(tmp_path, waitlist={"enabled": True, "expiry_min": 30})
        applied = service.reconfigure(new)
        assert applied.restart == ["waitlist.enabled"] and applied.applied == ["waitlist.expiry_min"]
        assert service.cfg.waitlist.enabled is False and service.cfg.waitlist.expiry_min == 30
    finally:
        store.close()
