"""What cannot apply live: refused changes leave the file and the running box as they
were; changes that wait for a restart are named, and "Restart when idle" waits for
the call in progress, then the core exits cleanly and comes back (as systemd would
start it again)."""

from __future__ import annotations

import html
import time

from tests.integration.switchboard.live_ui import form_values, manager_ui
from tests.integration.switchboard.test_live_settings import in_call, still_flowing
from tests.unit.webui.conftest import post

A, B = "+12125550001", "+12125550002"


def desk_box(box, sipua, tone_wav):  # type: ignore[no-untyped-def]
    """A box with one desk phone, and caller A talking to it (a tone flowing to A)."""
    desk = sipua(name="desk-a", auto_answer=True)
    b = box(
        stations={"deska": {"name": "Desk A", "queues": ["front-desk"], "contact": desk.contact, "answer_mode": "auto"}}
    )
    b.wait_agent("deska", "available")
    caller = sipua(name="caller-a")
    cid = in_call(caller, b, A, "0")
    desk.play(tone_wav, desk.wait_state("CONFIRMED", timeout=20)["call"], loop=True)
    b.wait_agent("deska", "on-call", timeout=20)
    still_flowing(caller, cid)
    return b, desk, caller, cid


def test_changes_the_box_cannot_apply_are_refused_and_change_nothing(box, sipua, tone_wav) -> None:
    b, desk, caller, ca = desk_box(box, sipua, tone_wav)
    overlay = b.dir / "settings.toml"
    before = overlay.read_bytes()
    with manager_ui(b) as ui:
        # A port PJSIP cannot parse (the config's own check lets it through): the core refuses it.
        station = {
            "name": "Desk A",
            "contact": "sip:deska@127.0.0.1:506000",
            "queues": ["front-desk"],
            "answer_mode": "auto",
        }
        refused = ui.post("/settings/stations/deska", station, "/settings/stations/deska")
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400
        assert "Not saved: the box cannot apply this change" in page and "Nothing was changed" in page
        assert "stations.deska.contact" in page and "506000" in page
        assert overlay.read_bytes() == before
        assert ui.app.extensions["clinicbox"].cfg.stations["deska"].contact == desk.contact  # the web UI's view too
        # A queue the phone menu still sends callers to cannot be deleted.
        ui.post("/settings/queues/billing/delete", {}, "/settings/queues")
        notices = html.unescape(ui.client.get("/settings/queues").get_data(as_text=True))
        assert "Not deleted" in notices and 'unknown queue "billing"' in notices
        assert overlay.read_bytes() == before
        assert not ui.app.extensions["clinicbox"].repos.audit.search(action="settings")
    assert any(q["id"] == "billing" for q in b.status()["queues"])
    still_flowing(caller, ca)
    caller.hangup(ca)
    assert b.call_record(lambda r: r.caller == A).disposition == "answered"
    # The running box is unchanged too: the next caller reaches Desk A at its old contact.
    b.wait_agent("deska", "available", timeout=10)
    caller_b = sipua(name="caller-b")
    cb = in_call(caller_b, b, B, "0")
    b.wait(lambda s: any(c["caller"] == B and c["agent"] == "deska" for c in s["calls"]), timeout=20)
    caller_b.hangup(cb)
    assert b.call_record(lambda r: r.caller == B).agent == "deska"


def test_restart_when_idle_waits_for_the_call_then_the_core_comes_back(box, sipua, tone_wav) -> None:
    b, _desk, caller, ca = desk_box(box, sipua, tone_wav)
    with manager_ui(b) as ui:
        form = form_values(ui, "/settings/section/reminders")
        form.pop("enabled")  # the manager switches reminders off: the core starts its services at start only
        saved = ui.post("/settings/section/reminders", form, "/settings/section/reminders")
        assert saved.status_code == 302, saved.get_data(as_text=True)
        assert "Waits for a restart: reminders.enabled" in ui.notices()
        page = ui.settings_page()
        assert 'data-testid="restart-waiting">reminders.enabled<' in page and 'data-testid="restart-when-idle"' in page
        asked = post(ui.client, "/settings/restart", {"deadline_min": "0"}, ui.token)
        assert asked.status_code == 302
        assert "restarts at the first moment no call is in progress" in ui.notices()
        page = ui.settings_page()
        assert "Restart pending (1 calls in progress)." in page
        [entry] = ui.app.extensions["clinicbox"].repos.audit.search(action="restart-requested")
        assert entry.actor == "manager"
    # The core keeps working while it waits: a new caller is answered by the IVR.
    time.sleep(2.0)
    assert b.proc.poll() is None
    caller_b = sipua(name="caller-b")
    cb = caller_b.call(b.uri, from_user=B)
    caller_b.wait_state("CONFIRMED", cb, timeout=10)
    caller_b.wait_heard(0.5, cb, timeout=10)
    caller_b.hangup(cb)
    still_flowing(caller, ca)
    assert b.proc.poll() is None, "the core restarted during a call"
    started = time.monotonic()
    caller.hangup(ca)  # the last call ends: the core goes at once
    assert b.respawn_after_exit(timeout=15) == 0, b.tail()
    assert time.monotonic() - started < 10
    first_run, _, second_run = b.log.read_text(errors="replace").partition(
        "no call in progress: restarting as manager asked"
    )
    assert "starting reminders" in first_run and "core ready" in second_run
    rec = b.call_record(lambda r: r.caller == A)
    assert (rec.disposition, rec.agent) == ("answered", "deska")  # ended normally before the restart
    # Back with the saved settings: nothing waits any more, and calls are answered.
    assert b.control.call("core.restart_status") == {
        "pending": False,
        "calls": 0,
        "deadline_s": None,
        "requested_by": "",
        "waiting": [],
    }
    assert "starting reminders" not in second_run  # reminders.enabled = false took effect
    caller_c = sipua(name="caller-c")
    cc = caller_c.call(b.uri, from_user="+12125550003")
    caller_c.wait_state("CONFIRMED", cc, timeout=10)
    caller_c.hangup(cc)
