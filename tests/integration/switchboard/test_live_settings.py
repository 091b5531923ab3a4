"""Settings edited in the web UI apply to the running core with a call in progress:
the next call follows them, the call in progress is unharmed (still connected, its
audio still flowing, ended normally with a correct call-log row)."""

from __future__ import annotations

import time
import tomllib

from tests.integration.switchboard.live_ui import form_values, manager_ui
from tests.integration.switchboard.test_queue import waiting

A, B, C = "+12125550001", "+12125550002", "+12125550003"


def in_call(ua, box, number: str, digit: str) -> int:  # type: ignore[no-untyped-def]
    cid = ua.call(box.uri, from_user=number)
    ua.wait_state("CONFIRMED", cid)
    ua.dtmf(digit, cid)
    return cid


def heard(ua, cid: int) -> float:  # type: ignore[no-untyped-def]
    events = ua.seen("audio", lambda e: e["call"] == cid)
    return float(events[-1]["heard"]) if events else 0.0


def still_flowing(ua, cid: int, seconds: float = 1.5) -> None:  # type: ignore[no-untyped-def]
    """The call is up and carries more audio than a moment ago."""
    before = heard(ua, cid)
    ua.wait_heard(before + seconds, cid, timeout=10)
    assert not ua.seen("state", lambda e: e["call"] == cid and e["state"] == "DISCONNECTED")


def test_queues_ivr_and_stations_apply_live_and_the_call_in_progress_goes_on(box, sipua, tone_wav) -> None:
    desk_a = sipua(name="desk-a", auto_answer=True)
    b = box(
        stations={
            "deska": {"name": "Desk A", "queues": ["front-desk"], "contact": desk_a.contact, "answer_mode": "auto"}
        }
    )
    b.wait_agent("deska", "available")
    # The call in progress: A talks to Desk A, who plays a tone A hears.
    caller_a = sipua(name="caller-a")
    ca = in_call(caller_a, b, A, "0")
    desk_leg = desk_a.wait_state("CONFIRMED", timeout=20)["call"]
    desk_a.play(tone_wav, desk_leg, loop=True)
    b.wait_agent("deska", "on-call", timeout=20)
    still_flowing(caller_a, ca)
    # C waits in "results", a queue nobody serves.
    caller_c = sipua(name="caller-c")
    cc = in_call(caller_c, b, C, "2")
    b.wait(lambda s: [w["caller"] for w in waiting(s, "results")] == [C], timeout=20, what="C waiting in results")
    nurse = sipua(name="nurse", auto_answer=True)

    with manager_ui(b) as ui:
        # A new queue, a new desk phone serving it, and key 3 of the menu leads to it.
        added = ui.post("/settings/queues/add", {"id": "vaccines", "name": "Vaccines"}, "/settings/queues")
        assert added.status_code == 302, added.get_data(as_text=True)
        assert "Applied now, calls in progress continue: queues" in ui.notices()
        assert (
            ui.post("/settings/stations/add", {"id": "nurse", "name": "Nurse"}, "/settings/stations").status_code == 302
        )
        ui.notices()
        station = {"name": "Nurse", "contact": nurse.contact, "queues": ["vaccines"], "answer_mode": "auto"}
        saved = ui.post("/settings/stations/nurse", station, "/settings/stations/nurse")
        assert saved.status_code == 302, saved.get_data(as_text=True)
        assert "Applied now, calls in progress continue: stations" in ui.notices()
        to_vaccines = {"type": "queue", "queue": "vaccines", "priority": "0"}
        assert ui.post("/settings/ivr/node/billing", to_vaccines, "/settings/ivr").status_code == 302
        assert "ivr.nodes" in ui.notices()
        # "results" goes: the menu's key 2 leads to the front desk first, then the queue is deleted.
        to_front = {"type": "queue", "queue": "front-desk", "priority": "0"}
        assert ui.post("/settings/ivr/node/results", to_front, "/settings/ivr").status_code == 302
        ui.notices()
        assert ui.post("/settings/queues/results/delete", {}, "/settings/queues").status_code == 302
        assert "Applied now, calls in progress continue: queues" in ui.notices()

    overlay = tomllib.loads((b.dir / "settings.toml").read_text())
    assert "vaccines" in overlay["queues"] and "results" not in overlay["queues"]
    # C was not dropped: it waits at the front desk now, behind nobody.
    status = b.wait(lambda s: [w["caller"] for w in waiting(s)] == [C], timeout=5, what="C moved to the front desk")
    assert not any(q["id"] == "results" for q in status["queues"])
    assert not caller_c.seen("state", lambda e: e["call"] == cc and e["state"] == "DISCONNECTED")

    # The next call takes key 3 to the new queue and the new station answers it.
    b.wait_agent("nurse", "available")
    caller_b = sipua(name="caller-b")
    cb = in_call(caller_b, b, B, "3")
    b.wait(
        lambda s: any(c["caller"] == B and c["agent"] == "nurse" for c in s["calls"]),
        timeout=20,
        what="B connected to the new station through the new queue",
    )
    nurse_leg = nurse.wait_state("CONFIRMED", timeout=5)["call"]
    nurse.play(tone_wav, nurse_leg, loop=True)
    still_flowing(caller_b, cb)

    # The call in progress all along: still connected, still carrying audio.
    still_flowing(caller_a, ca)
    caller_a.hangup(ca)
    rec_a = b.call_record(lambda r: r.caller == A)
    assert (rec_a.disposition, rec_a.agent, rec_a.queue) == ("answered", "deska", "front-desk")
    # Desk A is free: C, moved from the removed queue, is answered at last.
    b.wait(lambda s: any(c["caller"] == C and c["agent"] == "deska" for c in s["calls"]), timeout=20)
    time.sleep(0.5)
    caller_c.hangup(cc)
    caller_b.hangup(cb)
    rec_b = b.call_record(lambda r: r.caller == B)
    assert (rec_b.disposition, rec_b.agent, rec_b.queue) == ("answered", "nurse", "vaccines")
    rec_c = b.call_record(lambda r: r.caller == C)
    assert (rec_c.disposition, rec_c.agent) == ("answered", "deska")
    moved = [e for e in b.query_events(rec_c.uuid) if e["event"] == "moved"]
    assert moved and moved[0]["queue"] == "front-desk"


def test_a_station_removed_during_its_call_keeps_it_until_it_ends(box, sipua, tone_wav) -> None:
    desk_a = sipua(name="desk-a", auto_answer=True)
    stations = {
        "deska": {"name": "Desk A", "queues": ["front-desk"], "contact": desk_a.contact, "answer_mode": "auto"},
    }
    b = box(stations=stations)
    b.wait_agent("deska", "available")
    caller_a = sipua(name="caller-a")
    ca = in_call(caller_a, b, A, "0")
    desk_a.play(tone_wav, desk_a.wait_state("CONFIRMED", timeout=20)["call"], loop=True)
    b.wait_agent("deska", "on-call", timeout=20)
    with manager_ui(b) as ui:
        assert ui.post("/settings/stations/deska/delete", {}, "/settings/stations").status_code == 302
        assert "Applied now, calls in progress continue: stations" in ui.notices()
    still_flowing(caller_a, ca, seconds=2.0)
    assert b.agent("deska")["state"] == "on-call"  # its call goes on
    # The next caller is not offered to the removed station: it waits.
    caller_b = sipua(name="caller-b")
    cb = in_call(caller_b, b, B, "0")
    b.wait(lambda s: [w["caller"] for w in waiting(s)] == [B], timeout=20, what="B waiting")
    caller_a.hangup(ca)
    rec = b.call_record(lambda r: r.caller == A)
    assert (rec.disposition, rec.agent) == ("answered", "deska")
    b.wait(lambda s: all(a["station"] != "deska" for a in s["agents"]), timeout=5, what="the station gone")
    time.sleep(2.0)
    assert len(desk_a.seen("incoming")) == 1, "the removed station was rung again"
    assert [w["caller"] for w in waiting(b.status())] == [B]
    caller_b.hangup(cb)


def test_a_modem_change_restarts_the_modem_while_a_sip_call_goes_on(box, sipua, tone_wav) -> None:
    desk_a = sipua(name="desk-a", auto_answer=True)
    b = box(
        overlay={"modem": {"enabled": True}},  # the demo clinic's simulated modem
        stations={
            "deska": {"name": "Desk A", "queues": ["front-desk"], "contact": desk_a.contact, "answer_mode": "auto"}
        },
    )
    b.wait(lambda s: s["modem"]["state"] == "ready", timeout=20, what="the simulated modem")
    b.wait_agent("deska", "available")
    caller_a = sipua(name="caller-a")
    ca = in_call(caller_a, b, A, "0")
    desk_a.play(tone_wav, desk_a.wait_state("CONFIRMED", timeout=20)["call"], loop=True)
    b.wait_agent("deska", "on-call", timeout=20)
    with manager_ui(b) as ui:
        form = form_values(ui, "/settings/section/modem")
        form["sms_per_minute"] = str(int(form["sms_per_minute"]) + 3)
        saved = ui.post("/settings/section/modem", form, "/settings/section/modem")
        assert saved.status_code == 302, saved.get_data(as_text=True)
        assert ui.notices() == "Saved. Applied now, calls in progress continue: modem.sms_per_minute."
    assert "modem: restarting with the new settings" in b.log.read_text(errors="replace")
    b.wait(lambda s: s["modem"]["state"] == "ready", timeout=20, what="the modem back with its new settings")
    still_flowing(caller_a, ca)
    caller_a.hangup(ca)
    assert b.call_record(lambda r: r.caller == A).disposition == "answered"
