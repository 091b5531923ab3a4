"""The GSM voice line through the service: incoming, outgoing, DTMF, busy, one call at a time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from appliance.errors import ModemBusyError, ModemCommandError
from tests.integration.modem.conftest import Rig, wait_until

CALLER = "+48601234567"


def test_incoming_call_event_answer_dtmf_and_remote_hangup(rig: Rig) -> None:
    rig.modem.inject_call(CALLER)
    incoming = rig.events.wait("modem.call.incoming")
    assert incoming["number"] == CALLER
    assert rig.svc.call_state().state == "ringing"
    assert rig.svc.failover.voice_capacity() == 0  # the line is taken by the ringing call
    rig.svc.answer().result(3)
    rig.events.wait("modem.call.state", state="active", direction="in")
    rig.svc.send_dtmf("12#").result(3)
    assert rig.modem.state.dtmf == "12#"
    rig.modem.remote_hangup()
    ended = rig.events.wait("modem.call.state", state="idle")
    assert ended["reason"] == "hangup" and ended["call"] == incoming["call"]
    assert rig.svc.status.call == "idle"


def test_withheld_caller(rig: Rig) -> None:
    rig.modem.inject_call(CALLER, withheld=True)
    assert rig.events.wait("modem.call.incoming")["number"] == ""


def test_unanswered_incoming_call_is_missed(rig: Rig) -> None:
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    rig.modem.remote_hangup()
    assert rig.events.wait("modem.call.state", state="idle")["reason"] == "missed"


def test_outgoing_call_progress_and_local_hangup(rig: Rig) -> None:
    rig.modem.state.answer_delay_s = 1.5  # the far end lets it ring a while
    rig.svc.dial("+48221234567").result(3)
    for state in ("dialing", "alerting", "active"):
        rig.events.wait("modem.call.state", state=state, direction="out")
    with pytest.raises(ModemBusyError, match="already in a call"):
        rig.svc.dial("+48221234568")
    rig.svc.hangup().result(3)
    assert rig.events.wait("modem.call.state", state="idle")["reason"] == "local"
    wait_until(lambda: rig.modem.state.calls == [], what="the simulator to drop the call")


def test_busy_far_end(rig: Rig) -> None:
    rig.modem.state.busy_numbers.add("+48221230000")
    rig.svc.dial("+48221230000").result(3)
    assert rig.events.wait("modem.call.state", state="idle")["reason"] == "busy"


def test_dtmf_needs_an_active_call(rig: Rig) -> None:
    with pytest.raises(ModemCommandError):
        rig.svc.send_dtmf("1").result(3)


def test_dial_refused_while_the_modem_is_not_ready(make_rig) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig()
    rig.modem.set_network(False)
    wait_until(lambda: rig.svc.status.state == "searching", what="lost network")
    with pytest.raises(ModemBusyError, match="not ready"):
        rig.svc.dial(CALLER)


def test_a_second_caller_during_a_call_is_named_and_turned_away(rig: Rig) -> None:
    wait_until(lambda: rig.modem.state.call_waiting, what="the box to turn call waiting on in the network")
    rig.modem.inject_call(CALLER)
    first = rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    rig.events.wait("modem.call.state", state="active", direction="in")
    rig.modem.inject_call("+48601999888")
    waiting = rig.events.wait("modem.call.waiting")
    assert (waiting["number"], waiting["call"]) == ("+48601999888", first["call"])
    wait_until(lambda: rig.modem.state.turned_away == ["+48601999888"], what="the modem to release the waiting call")
    assert [(c.state, c.number) for c in rig.modem.state.calls] == [("active", CALLER)]
    time.sleep(1.5)  # the simulator reports the released call with NO CARRIER; +CLCC is polled each second
    assert (rig.svc.call_state().state, rig.svc.call_state().number) == ("active", CALLER)
    assert [e for e in rig.events.of("modem.call.state") if e["state"] == "idle"] == []
    rig.modem.remote_hangup()  # the first caller's own hang-up still ends the call
    assert rig.events.wait("modem.call.state", state="idle")["number"] == CALLER


def test_a_network_that_never_answers_the_call_waiting_request_does_not_stop_the_modem(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(start=False, command_timeout_s=1.0)
    rig.modem.state.ccwa_silent = True
    rig.start()  # ready: the request is not part of the start-up sequence
    time.sleep(3.5)  # the request (3 x command_timeout_s) times out in the background
    assert rig.svc.status.state == "ready" and not rig.modem.state.call_waiting
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    rig.modem.inject_call("+48601999888")  # call waiting is off: the network gives busy, as before
    assert rig.modem.state.turned_away == ["+48601999888"] and rig.events.of("modem.call.waiting") == []
