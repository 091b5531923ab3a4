"""What the switchboard measures about itself (shown by doctor and bench.calls).

Any: 1, the metrics as JSON.
"""

from __future__ import annotations

import collections
from typing import Any


class Rolling:
    """The last ``size`` samples, for p50/p95 in the snapshot."""

    def __init__(self, size: int = 500) -> None:
        self.samples: collections.deque[float] = collections.deque(maxlen=size)

    def add(self, value: float) -> None:
        self.samples.append(value)

    def percentiles(self) -> dict[str, float | int | None]:
        values = sorted(self.samples)
        if not values:
            return {"count": 0, "p50": None, "p95": None}
        return {
            "count": len(values),
            "p50": round(values[len(values) // 2], 2),
            "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 2),
        }


class Metrics:
    """What the switchboard measures about itself (shown by doctor and bench.calls)."""

    def __init__(self) -> None:
        self.dtmf_to_prompt = Rolling()  # ms from a digit to the next prompt on the bridge
        self.answer_delay = Rolling()  # ms from INVITE to the box answering (caller-ID lookup included)
        self.snapshot_build = Rolling()  # ms to rebuild the status snapshot (on the PJSUA2 thread, up to 10/s)
        self.media_errors = 0  # a player or bridge port could not be had (the media budget was short)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dtmf_to_prompt_ms": self.dtmf_to_prompt.percentiles(),
            "answer_delay_ms": self.answer_delay.percentiles(),
            "snapshot_build_ms": self.snapshot_build.percentiles(),
            "media_errors": self.media_errors,
        }
