"""Missed, texted, recovered: the text-back KPIs on the real store."""

from __future__ import annotations

from datetime import timedelta

from appliance.reports.textback import TextBackKpis, textback_kpis
from appliance.store import Store, callbacks, calls, contacts
from appliance.store.timefmt import to_db


def _missed(store: Store, uuid: str, number: str, disposition: str, source: str | None, minutes: int) -> int:
    at = store.clock.now() + timedelta(minutes=minutes)
    with store.transaction() as conn:
        cid = calls.insert(conn, uuid=uuid, direction="inbound", started_at=to_db(at), caller=number)
        calls.update(conn, uuid, ended_at=to_db(at + timedelta(seconds=40)), disposition=disposition)
        if source is not None:
            callbacks.open_request(conn, uuid, number, None, "front-desk", source, at, at, 30.0)
    return cid


def test_missed_texted_and_recovered(store: Store) -> None:
    now = store.clock.now()
    a = _missed(store, "a", "+48601000001", "abandoned", "abandoned", 0)  # texted, then called back
    b = _missed(store, "b", "+48601000002", "busy", "busy", 1)  # texted, never reached
    _missed(store, "c", "+48221000003", "abandoned", "abandoned", 2)  # a landline: missed, not texted
    _missed(store, "d", "+48601000004", "callback", "requested", 3)  # asked for a call back: not missed
    _missed(store, "e", "+48601000005", "answered", None, 4)  # answered: not missed
    with store.transaction() as conn:
        contacts.record(conn, now + timedelta(minutes=1), "textback", "+48601000001", "delivered", call_id=a)
        contacts.record(conn, now + timedelta(minutes=2), "textback", "+48601000002", "sent", call_id=b)
        conn.execute(
            "UPDATE callbacks SET status = 'done', completed_at = ? WHERE number = '+48601000001'",
            (to_db(now + timedelta(minutes=30)),),
        )
    kpis = textback_kpis(store, now - timedelta(hours=1), now + timedelta(hours=1))
    assert kpis == TextBackKpis(missed=3, texted=2, recovered=1)
    assert kpis.recovery_rate == 0.5


def test_a_callback_done_before_the_text_is_not_a_recovery(store: Store) -> None:
    now = store.clock.now()
    a = _missed(store, "a", "+48601000001", "abandoned", "abandoned", 0)
    with store.transaction() as conn:
        conn.execute("UPDATE callbacks SET status = 'done', completed_at = ?", (to_db(now),))
        contacts.record(conn, now + timedelta(minutes=5), "textback", "+48601000001", "sent", call_id=a)
    assert textback_kpis(store, now - timedelta(hours=1), now + timedelta(hours=1)).recovered == 0
