"""Internal calls: a desk phone dials another station's id; the box rings that
station's phone through the edge and bridges the two (each phone "speaks" a
350 Hz tone, and the other one receives its RTP); a busy station is 486."""

from __future__ import annotations

import time

from tests.integration.edge.conftest import DESK, station_password, wait_registered, wait_rtp
from tests.integration.sip.peers.common import tail

STATIONS = {**DESK, "desk2": {"name": "Desk 2", "queues": ["appointments"]}}


def _phones(edge_box, baresip, overlay=None):
    b, edge = edge_box(stations=STATIONS, overlay=overlay)
    phones = []
    for user in ("desk1", "desk2"):
        phones.append(baresip(user=user, registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b, user)))
        wait_registered(edge, user)
        b.wait(lambda s, u=user: b.agent(u)["reachable"], timeout=10, what=f"{user} reachable")
    return b, phones[0], phones[1]


def _wait_log(phone, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in phone.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, tail(phone.log)
        time.sleep(0.1)


def test_a_desk_phone_dialling_another_stations_id_rings_it_and_they_talk(edge_box, baresip) -> None:
    b, desk1, desk2 = _phones(edge_box, baresip)
    desk1.dial(f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    assert "ESTABLISHED" not in str(desk1.command("listcalls")["data"])  # only answered when desk2 answers
    desk2.accept()
    desk2.wait_event("CALL_ESTABLISHED", timeout=5)
    desk1.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(desk1)  # RTP flows to both phones (the tone itself is not checked: baresip records nothing)
    wait_rtp(desk2)
    # no queue call rings them meanwhile (the status snapshot follows within a moment)
    b.wait_agent("desk1", "paused", timeout=3)
    b.wait_agent("desk2", "paused", timeout=3)
    desk2.hangup()
    desk1.wait_event("CALL_CLOSED", timeout=10)  # the other side's hang-up ends it
    b.wait(lambda s: b.agent("desk1")["state"] != "paused", timeout=5, what="desk1 back for the queues")


def test_an_internal_call_to_a_busy_station_is_486(edge_box, baresip) -> None:
    b, desk1, desk2 = _phones(edge_box, baresip)
    desk1.dial(f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    desk2.dial(f"sip:desk1@127.0.0.1:{b.sip_port}")  # desk1 is busy calling desk2
    _wait_log(desk2, "486 Busy Here")
    desk2.accept()
    desk1.wait_event("CALL_ESTABLISHED", timeout=10)  # the first call is not disturbed
    desk1.hangup()


def test_an_internal_call_to_a_station_not_registered_is_480(edge_box, baresip) -> None:
    b, edge = edge_box(stations=STATIONS)
    desk1 = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    assert not b.agent("desk2")["reachable"]
    desk1.dial(f"sip:desk2@127.0.0.1:{b.sip_port}")
    _wait_log(desk1, "480 Temporarily Unavailable")
    desk1.dial(f"sip:desk9@127.0.0.1:{b.sip_port}")  # no such station: as any other unknown name
    _wait_log(desk1, "484 Address Incomplete")


def test_an_internal_call_nobody_answers_rings_out_after_sip_internal_ring_s(edge_box, baresip) -> None:
    """sip.internal_ring_s (30 s by default, 5 s here): desk2 rings unanswered, then the box
    stops its ringing and desk1 hears 480; both are back for the queues."""
    b, desk1, desk2 = _phones(edge_box, baresip, overlay={"sip": {"internal_ring_s": 5}})
    desk1.dial(f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    rang_at = time.monotonic()
    desk2.wait_event("CALL_CLOSED", timeout=12)  # the box gave up: desk2 stops ringing
    rang = time.monotonic() - rang_at
    assert 4.0 <= rang <= 8.0, rang
    _wait_log(desk1, "480 Temporarily Unavailable", timeout=5)
    desk1.wait_event("CALL_CLOSED", timeout=5)
    b.wait(lambda s: b.agent("desk1")["state"] != "paused", timeout=5, what="desk1 back for the queues")
    b.wait(lambda s: b.agent("desk2")["state"] != "paused", timeout=5, what="desk2 back for the queues")
    assert "did not answer an internal call within 5 s" in b.log.read_text(errors="replace")
