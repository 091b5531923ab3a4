"""calls.next_inbound_at (first-call resolution's "did they ring again") stays
exact however calls are written, erased or deleted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from appliance.store import Store, to_db
from appliance.store import calls as cdr

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
CALLERS = ["+48600000001", "+48600000002", "+48600000003", "anonymous"]


def expected(store: Store) -> dict[str, str | None]:
    """The definition: the same caller's next inbound call strictly later."""
    rows = store.query("SELECT uuid, direction, caller, started_at FROM calls")
    out: dict[str, str | None] = {}
    for uuid, direction, caller, started in rows:
        if direction != "inbound":
            out[uuid] = None
            continue
        later = [s for _, d, c, s in rows if d == "inbound" and c == caller and s > started]
        out[uuid] = min(later) if later else None
    return out


def stored(store: Store) -> dict[str, str | None]:
    return {u: n for u, n in store.query("SELECT uuid, next_inbound_at FROM calls")}


def test_chain_survives_random_writes_deletes_and_erasure(store: Store) -> None:
    rng = random.Random(11)
    uuids: list[str] = []
    for step in range(400):
        action = rng.random()
        with store.transaction() as db:
            if action < 0.6 or len(uuids) < 5:
                uuid = f"c{step}"
                # Out of order, with ties: whole minutes over two weeks.
                started = to_db(T0 + timedelta(minutes=rng.randrange(0, 14 * 24 * 60, 30)))
                direction = "inbound" if rng.random() < 0.85 else "outbound"
                cdr.insert(db, uuid=uuid, direction=direction, started_at=started, caller=rng.choice(CALLERS))
                uuids.append(uuid)
            elif action < 0.75:
                uuid = uuids.pop(rng.randrange(len(uuids)))
                db.execute("DELETE FROM calls WHERE uuid = ?", (uuid,))  # retention
            elif action < 0.9:
                caller = rng.choice(CALLERS)
                db.execute("UPDATE calls SET caller = 'erased' WHERE caller = ?", (caller,))  # erasure
            else:
                uuid = rng.choice(uuids)
                db.execute("UPDATE calls SET caller = ? WHERE uuid = ?", (rng.choice(CALLERS), uuid))
        if step % 20 == 0:
            assert stored(store) == expected(store), f"after step {step}"
    assert stored(store) == expected(store)
    assert any(v is not None for v in stored(store).values())


def test_the_switchboard_writing_in_order_links_each_call_to_the_next(store: Store) -> None:
    with store.transaction() as db:
        for i, minutes in enumerate((0, 30, 30, 90)):
            cdr.insert(
                db,
                uuid=f"k{i}",
                direction="inbound",
                started_at=to_db(T0 + timedelta(minutes=minutes)),
                caller="+48600000009",
            )
    nxt = stored(store)
    assert nxt["k0"] == to_db(T0 + timedelta(minutes=30))
    assert nxt["k1"] == nxt["k2"] == to_db(T0 + timedelta(minutes=90))  # ties: strictly later
    assert nxt["k3"] is None
