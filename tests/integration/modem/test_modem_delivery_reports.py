"""Delivery reports are stored in the modem (``+CDSI``), so none is lost while
the store is locked or the box restarts; each is read from the storage its
URC names ("SR" on SIMCom, the SIM on Quectel) and removed once recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator
from appliance.modem.sim.state import StoredSms
from appliance.modem.wire.pdunet import encode_status_report
from tests.integration.modem.conftest import Rig, wait_until

#: profile -> where that family keeps delivery reports
FAMILIES = {"ec25": "SM", "sim7600": "SR"}


def _rig(make_rig: Callable[..., Rig], profile: str, **kw: object) -> Rig:
    return make_rig(sim=PtySimulator(ModemSimulator(profile=profile)), **kw)


@pytest.mark.parametrize("profile", sorted(FAMILIES))
def test_reports_are_stored_in_the_modem_and_read_from_where_the_urc_says(
    make_rig: Callable[..., Rig], profile: str
) -> None:
    rig = _rig(make_rig, profile)
    assert rig.modem.state.cnmi[3] == 2  # stored reports asked for
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")
    wait_until(lambda: not rig.modem.state.store(FAMILIES[profile]), what="the report to leave the modem")
    assert rig.modem.state.cpms[0] == "SM"  # reading from "SR" did not leave the modem pointed there


@pytest.mark.parametrize("profile", sorted(FAMILIES))
def test_a_report_that_comes_while_the_store_is_locked_is_recorded_after_unlock(
    make_rig: Callable[..., Rig], profile: str
) -> None:
    rig = _rig(make_rig, profile)
    rig.modem.state.report_delay_s = 1.0
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    rig.store.lock()
    store = rig.modem.state.store(FAMILIES[profile])
    wait_until(lambda: len(store) == 1, what="the report in the modem's storage")
    assert rig.events.of("modem.sms.status")[-1]["status"] == "sent"
    rig.store.unlock("")
    rig.bus.emit("store.unlocked")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")
    assert rig.sms(sms_id).status == "delivered"
    wait_until(lambda: not store, what="the report to be deleted once recorded")


def test_a_report_stored_while_the_box_was_off_is_read_at_start(make_rig: Callable[..., Rig]) -> None:
    first = _rig(make_rig, "sim7600")
    first.modem.state.report_delay_s = 1.0
    sms_id = first.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    first.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    first.store.lock()  # the core restarts before it could record the report
    wait_until(lambda: len(first.modem.state.store("SR")) == 1, what="the report in the modem")
    first.svc.stop()
    first.store.unlock("")
    modem = ModemSimulator(profile="sim7600")
    modem.state.storage = first.modem.state.storage  # the modem's memory outlives the core
    second = make_rig(cfg=first.cfg, sim=PtySimulator(modem))
    second.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")
    wait_until(lambda: not modem.state.store("SR"), what="the report to be deleted")


def test_a_direct_report_from_a_modem_that_cannot_store_one_is_held_while_locked(
    make_rig: Callable[..., Rig],
) -> None:
    """Modems that refuse ds=2 send +CDS directly: the box holds it until the store unlocks."""
    rig = make_rig(start=False)
    rig.modem.state.stores_reports = False
    rig.modem.state.report_delay_s = 1.0
    rig.start()
    assert rig.modem.state.cnmi[3] == 1  # fell back to direct reports
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    rig.store.lock()
    wait_until(lambda: rig.modem.state.reported, what="the direct report to arrive")
    assert rig.events.of("modem.sms.status")[-1]["status"] == "sent"
    rig.store.unlock("")
    rig.bus.emit("store.unlocked")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")


def test_a_garbled_storage_name_in_the_notice_still_finds_the_report(make_rig: Callable[..., Rig]) -> None:
    """Line noise in ``+CDSI`` must not strand a report in the modem."""
    rig = _rig(make_rig, "sim7600")
    rig.modem.state.report_delay_s = 30.0  # the simulator's own notice comes too late to matter
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    sent = rig.modem.state.sent[0]
    pdu, length = encode_status_report(sent.mr, sent.number, sent.at, datetime.now(UTC), 0, smsc=rig.modem.state.smsc)
    with rig.modem._lock:
        rig.modem.state.store("SR")[4] = StoredSms(0, pdu, length)
        rig.modem.emit('+CDSI: "S\x7fR;",4')
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")
    wait_until(lambda: not rig.modem.state.store("SR"), what="the report to be deleted")
