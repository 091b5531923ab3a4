"""Fold bus events into the panel's :class:`~appliance.panel.patterns.Snapshot`.

Pure: :func:`apply` takes a snapshot, an event and the monotonic time and
returns the next snapshot. Events the panel consumes (the publishers are
the switchboard, the modem driver, the failover policy, the core and the
provisioning run):

=========================  ===========================================
``trunk.up`` / ``.down``   SIP trunk registered or lost
``failover.changed``       ``{route}``: ``trunk`` or ``gsm``
``modem.status``           ``{registered, present}`` (or ``{state}``)
``queue.changed``          ``{waiting, longest_wait_s, calls_in_progress}``,
                           per queue when it carries ``queue``
``store.locked``/``unlocked``  the passphrase-locked store
``provisioning.started`` / ``.succeeded`` / ``.failed``
=========================  ===========================================

Unknown events and malformed payloads leave the snapshot unchanged: a
publisher's bug must not take the panel down.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from appliance.events import Event
from appliance.panel.patterns import Snapshot

log = logging.getLogger(__name__)

_MODEM_UP_STATES = frozenset({"registered", "up", "ready", "roaming"})
_GSM_ROUTES = frozenset({"gsm", "modem"})


@dataclasses.dataclass(frozen=True)
class QueueFigures:
    waiting: int = 0
    longest_wait_s: float = 0.0
    calls_in_progress: int = 0


@dataclasses.dataclass(frozen=True)
class PanelState:
    """The snapshot plus what is needed to rebuild it (per-queue figures)."""

    snapshot: Snapshot = dataclasses.field(default_factory=Snapshot)
    queues: tuple[tuple[str, QueueFigures], ...] = ()


def initial(trunk_enabled: bool) -> PanelState:
    """Before any event: a disabled trunk never counts as a line."""
    return PanelState(Snapshot(trunk="down" if trunk_enabled else "disabled"))


def _number(data: dict[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number, got {value!r}")
    return kind(value)


def _modem_up(data: dict[str, Any]) -> bool:
    if "state" in data:
        return str(data["state"]).lower() in _MODEM_UP_STATES
    return bool(data.get("present", True)) and bool(data.get("registered", False))


def _with_queue(state: PanelState, data: dict[str, Any]) -> PanelState:
    figures = QueueFigures(
        waiting=_number(data, "waiting", int),
        longest_wait_s=_number(data, "longest_wait_s", float),
        calls_in_progress=_number(data, "calls_in_progress", int),
    )
    queue_id = str(data.get("queue", ""))
    table = dict(state.queues)
    if queue_id:
        table.pop("", None)
        table[queue_id] = figures
    else:  # a box-wide total replaces any per-queue figures
        table = {"": figures}
    items = tuple(sorted(table.items()))
    values = [f for _, f in items]
    snap = dataclasses.replace(
        state.snapshot,
        waiting=sum(f.waiting for f in values),
        longest_wait_s=max((f.longest_wait_s for f in values if f.waiting), default=0.0),
        calls_in_progress=sum(f.calls_in_progress for f in values),
    )
    return PanelState(snap, items)


def apply(state: PanelState, event: Event, now: float) -> PanelState:
    """The panel state after ``event`` (monotonic time ``now``)."""
    snap = state.snapshot
    kind, data = event.kind, event.data if isinstance(event.data, dict) else {}
    try:
        if kind == "trunk.up":
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, trunk="up"))
        if kind == "trunk.down":
            trunk = "disabled" if snap.trunk == "disabled" else "down"
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, trunk=trunk))
        if kind == "modem.status":
            modem = "up" if _modem_up(data) else ("down" if data.get("present", True) else "absent")
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, modem=modem))
        if kind == "failover.changed":
            route = "gsm" if str(data.get("route", "")).lower() in _GSM_ROUTES else "trunk"
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, route=route))
        if kind == "queue.changed":
            return _with_queue(state, data)
        if kind == "store.locked":
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, store_locked=True))
        if kind == "store.unlocked":
            return dataclasses.replace(state, snapshot=dataclasses.replace(snap, store_locked=False))
        if kind.startswith("provisioning."):
            phase = {"started": "running", "succeeded": "succeeded", "failed": "failed"}.get(kind.split(".", 1)[1])
            if phase is not None:
                new = dataclasses.replace(snap, provisioning=phase, provisioning_at=now)
                return dataclasses.replace(state, snapshot=new)
    except (ValueError, TypeError) as exc:
        log.warning("panel ignored a malformed %s event: %s", kind, exc)
    return state


def with_faults(state: PanelState, faults: frozenset[str]) -> PanelState:
    """Replace the faults found by the panel's own health probe."""
    if faults == state.snapshot.faults:
        return state
    return dataclasses.replace(state, snapshot=dataclasses.replace(state.snapshot, faults=faults))
