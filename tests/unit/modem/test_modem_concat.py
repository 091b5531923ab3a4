"""Multipart reassembly: out of order, duplicates, missing parts, late parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.modem.wire.concat import COMPLETE, DUPLICATE, GAP, PARTIAL, UPDATE, IncomingPart, Reassembler
from appliance.modem.wire.pdufields import Concat

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = "+48601234567"
BOB = "+905321234567"


def part(
    seq: int, text: str, *, total: int = 3, ref: int = 7, sender: str = ALICE, slot: int | None = None
) -> IncomingPart:
    return IncomingPart(
        sender, Concat(ref, total, seq), text, "gsm7", T0 + timedelta(seconds=seq), (slot if slot is not None else seq,)
    )


def test_single_part_message_is_complete_at_once() -> None:
    r = Reassembler(timeout_s=60)
    out = r.add(IncomingPart(ALICE, None, "TAK", "gsm7", T0, (4,)), now=0)
    assert [(o.kind, o.text, o.parts_total, o.handles) for o in out] == [(COMPLETE, "TAK", 1, (4,))]


def test_concat_with_one_part_counts_as_single() -> None:
    r = Reassembler(timeout_s=60)
    assert r.add(part(1, "solo", total=1), now=0)[0].kind == COMPLETE


def test_out_of_order_parts_are_joined_in_order() -> None:
    r = Reassembler(timeout_s=60)
    assert r.add(part(3, "three"), now=0) == []
    assert r.add(part(1, "one "), now=1) == []
    out = r.add(part(2, "two "), now=2)
    assert len(out) == 1
    o = out[0]
    assert (o.kind, o.text, o.missing, sorted(o.handles)) == (COMPLETE, "one two three", (), [1, 2, 3])
    assert o.timestamp == T0 + timedelta(seconds=1)  # the first part's network time
    assert r.pending() == 0


def test_duplicate_part_is_not_counted_and_its_slot_is_freed() -> None:
    r = Reassembler(timeout_s=60)
    r.add(part(1, "one ", slot=10), now=0)
    r.add(part(1, "one ", slot=11), now=1)  # the network delivered it twice
    r.add(part(2, "two ", slot=12), now=2)
    out = r.add(part(3, "three", slot=13), now=3)
    assert out[0].text == "one two three"
    assert sorted(out[0].handles) == [10, 11, 12, 13]
    late = r.add(part(2, "two ", slot=14), now=4)  # again, after completion
    assert [(o.kind, o.handles) for o in late] == [(DUPLICATE, (14,))]


def test_missing_part_becomes_a_flagged_partial_after_the_timeout() -> None:
    r = Reassembler(timeout_s=300)
    r.add(part(1, "one "), now=0)
    r.add(part(3, "three"), now=10)
    assert r.expire(now=309) == []
    out = r.expire(now=310)
    assert len(out) == 1
    o = out[0]
    assert (o.kind, o.missing, o.text) == (PARTIAL, (2,), "one " + GAP + "three")
    assert r.pending() == 0


def test_late_part_completes_the_partial_message() -> None:
    r = Reassembler(timeout_s=300)
    r.add(part(1, "one "), now=0)
    r.add(part(3, "three"), now=0)
    partial = r.expire(now=400)[0]
    out = r.add(part(2, "two ", slot=9), now=900)
    assert [(o.kind, o.key, o.text, o.missing, o.handles) for o in out] == [
        (UPDATE, partial.key, "one two three", (), (9,))
    ]


def test_add_also_expires_old_messages() -> None:
    r = Reassembler(timeout_s=5)
    r.add(part(1, "one ", ref=1), now=0)
    out = r.add(part(1, "x", ref=2), now=10)
    assert [o.kind for o in out] == [PARTIAL]


def test_same_reference_from_two_senders_are_two_messages() -> None:
    r = Reassembler(timeout_s=60)
    r.add(part(1, "a1 ", total=2), now=0)
    r.add(part(1, "b1 ", total=2, sender=BOB), now=0)
    a = r.add(part(2, "a2", total=2), now=1)
    b = r.add(part(2, "b2", total=2, sender=BOB), now=1)
    assert (a[0].text, b[0].text) == ("a1 a2", "b1 b2")


def test_reused_reference_with_new_text_starts_a_new_message() -> None:
    r = Reassembler(timeout_s=60)
    r.add(part(1, "old1 ", total=2), now=0)
    r.add(part(2, "old2", total=2), now=1)
    r.add(part(1, "new1 ", total=2), now=100)
    out = r.add(part(2, "new2", total=2), now=101)
    assert [(o.kind, o.text) for o in out] == [(COMPLETE, "new1 new2")]


def test_surrogate_pair_split_across_parts_is_joined() -> None:
    emoji = "😀".encode("utf-16-be")
    first = "a" + emoji[:2].decode("utf-16-be", "surrogatepass")
    second = emoji[2:].decode("utf-16-be", "surrogatepass") + "b"
    r = Reassembler(timeout_s=60)
    r.add(IncomingPart(ALICE, Concat(1, 2, 1), first, "ucs2", T0, ()), now=0)
    out = r.add(IncomingPart(ALICE, Concat(1, 2, 2), second, "ucs2", T0, ()), now=0)
    assert out[0].text == "a😀b"


def test_memory_of_finished_messages_is_bounded() -> None:
    r = Reassembler(timeout_s=60, keep_s=100, keep_max=3)
    for ref in range(10):
        r.add(part(1, "x ", total=2, ref=ref), now=ref)
        r.add(part(2, "y", total=2, ref=ref), now=ref)
    assert len(r._done) <= 4
    r.expire(now=1000)
    assert len(r._done) == 0
