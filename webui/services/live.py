"""Shaping the core's snapshot and events for one viewer.

Wallboards hang on walls and technicians may not see patient data, so for
them every caller number is masked (country code and last digits only).
The shapes follow the control snapshot documented in
:mod:`appliance.control.protocol`; unknown fields pass through.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from appliance.privacy import mask_phone

_CALLER_FIELDS = ("caller", "number")


def _mask_caller(item: dict[str, Any]) -> None:
    for name in _CALLER_FIELDS:
        value = item.get(name)
        if isinstance(value, str) and value:
            item[name] = mask_phone(value)


def shape_snapshot(snapshot: dict[str, Any] | None, mask: bool) -> dict[str, Any] | None:
    if snapshot is None or not mask:
        return snapshot
    shaped = copy.deepcopy(snapshot)
    for queue in shaped.get("queues") or []:
        for waiting in queue.get("waiting") or []:
            _mask_caller(waiting)
    for agent in shaped.get("agents") or []:
        _mask_caller(agent)
    for call in shaped.get("calls") or []:
        _mask_caller(call)
    return shaped


def shape_event(data: Any, mask: bool) -> Any:
    if not mask or not isinstance(data, dict):
        return data
    shaped = dict(data)
    _mask_caller(shaped)
    return shaped


def sse(kind: str, data: Any) -> str:
    """One server-sent event. JSON never contains a raw newline, so one data line."""
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'), default=str)}\n\n"
