"""Reassembly of multipart SMS (pure; time comes from the caller).

Parts of a concatenated message arrive in any order, sometimes twice,
sometimes never. :class:`Reassembler` collects them by (sender,
reference, total): a complete set becomes one message; a set still
missing parts after ``timeout_s`` of silence becomes a *partial* message,
flagged as such, so staff read what arrived instead of nothing. If a
missing part turns up later (within ``keep_s``), an *update* completes
that partial message. A duplicate part (same number, same text) is
reported so its storage slot can be freed, and never counted twice.

Every outcome carries the storage handles (SIM indices) of the parts it
covers: the caller deletes them from the modem only after the message is
safely in the database.

Example:
    >>> r = Reassembler(timeout_s=300)
    >>> a = IncomingPart("+48601234567", Concat(7, 2, 2), "world", "gsm7", T0, (4,))
    >>> b = IncomingPart("+48601234567", Concat(7, 2, 1), "hello ", "gsm7", T0, (3,))
    >>> r.add(a, now=0.0)
    []
    >>> r.add(b, now=1.0)[0].text
    'hello world'
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from appliance.modem.wire.pdu import clean_text
from appliance.modem.wire.pdufields import Concat

#: Put in place of a missing part in a partial message.
GAP = " […] "

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

COMPLETE = "complete"
PARTIAL = "partial"
UPDATE = "update"
DUPLICATE = "duplicate"

Key = tuple[str, int, int]


@dataclass(frozen=True)
class IncomingPart:
    """One received PDU. ``concat`` is None for a single-part message."""

    sender: str
    concat: Concat | None
    text: str
    encoding: str
    timestamp: datetime
    handles: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What to store. ``kind`` is complete, partial, update or duplicate."""

    kind: str
    key: Key | None
    sender: str
    text: str
    encoding: str
    timestamp: datetime
    parts_total: int
    missing: tuple[int, ...]
    handles: tuple[Any, ...]


@dataclass
class _Pending:
    sender: str
    total: int
    encoding: str
    timestamp: datetime
    parts: dict[int, str] = field(default_factory=dict)
    handles: list[Any] = field(default_factory=list)
    last_seen: float = 0.0
    flagged: bool = False  # already stored as a partial message


class Reassembler:
    """Collects parts; see the module docstring.

    Args:
        timeout_s: silence after the last part before a partial message is
            given up on and stored flagged.
        keep_s: how long finished messages are remembered, to spot
            duplicates and to complete partials whose part arrives late.
        keep_max: cap on remembered messages (memory bound).
    """

    def __init__(self, timeout_s: float, keep_s: float = 86400.0, keep_max: int = 2000) -> None:
        self.timeout_s = timeout_s
        self.keep_s = keep_s
        self.keep_max = keep_max
        self._pending: dict[Key, _Pending] = {}
        self._done: OrderedDict[Key, tuple[_Pending, float]] = OrderedDict()

    def pending(self) -> int:
        """Messages still waiting for parts."""
        return len(self._pending)

    def add(self, part: IncomingPart, now: float) -> list[Outcome]:
        """Take one part; return what is ready to store (maybe nothing)."""
        out = self.expire(now)
        if part.concat is None or part.concat.total == 1:
            text = clean_text(part.text)
            out.append(Outcome(COMPLETE, None, part.sender, text, part.encoding, part.timestamp, 1, (), part.handles))
            return out
        key: Key = (part.sender, part.concat.ref, part.concat.total)
        seq = part.concat.seq
        done = self._done.get(key)
        if done is not None:
            entry = done[0]
            if entry.parts.get(seq) == part.text:
                out.append(self._outcome(DUPLICATE, key, entry, part.handles))
                return out
            if entry.flagged and seq not in entry.parts:
                entry.parts[seq] = part.text
                if len(entry.parts) == entry.total:
                    entry.flagged = False
                self._done[key] = (entry, now)
                out.append(self._outcome(UPDATE, key, entry, part.handles))
                return out
            # Same reference reused for a new message: start afresh.
            del self._done[key]
        entry = self._pending.get(key) or _Pending(part.sender, part.concat.total, part.encoding, part.timestamp)
        self._pending[key] = entry
        entry.last_seen = now
        entry.handles.extend(part.handles)
        if seq in entry.parts:
            return out  # a duplicate of a pending part: its handle is freed with the message
        entry.parts[seq] = part.text
        entry.timestamp = min(entry.timestamp, part.timestamp)
        if len(entry.parts) == entry.total:
            del self._pending[key]
            handles = self._remember(key, entry, now)
            out.append(self._outcome(COMPLETE, key, entry, handles))
        return out

    def expire(self, now: float) -> list[Outcome]:
        """Partial messages whose missing parts have not come for ``timeout_s``."""
        out = []
        for key, entry in list(self._pending.items()):
            if now - entry.last_seen >= self.timeout_s:
                del self._pending[key]
                entry.flagged = True
                handles = self._remember(key, entry, now)
                out.append(self._outcome(PARTIAL, key, entry, handles))
        while self._done:
            key, (_, at) = next(iter(self._done.items()))
            if now - at < self.keep_s and len(self._done) <= self.keep_max:
                break
            del self._done[key]
        return out

    def _remember(self, key: Key, entry: _Pending, now: float) -> tuple[Any, ...]:
        """Move a finished entry to memory; return its handles (handed out once)."""
        handles = tuple(entry.handles)
        entry.handles = []
        self._done[key] = (entry, now)
        self._done.move_to_end(key)
        return handles

    @staticmethod
    def _outcome(kind: str, key: Key, entry: _Pending, handles: tuple[Any, ...]) -> Outcome:
        missing = tuple(i for i in range(1, entry.total + 1) if i not in entry.parts)
        pieces = []
        for i in range(1, entry.total + 1):
            if i in entry.parts:
                pieces.append(entry.parts[i])
            elif not pieces or pieces[-1] != GAP:
                pieces.append(GAP)
        text = clean_text("".join(pieces))
        return Outcome(kind, key, entry.sender, text, entry.encoding, entry.timestamp, entry.total, missing, handles)
