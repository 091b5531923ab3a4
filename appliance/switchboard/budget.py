"""The media-port budget: what the config's load needs from the conference bridge. Pure.

Every caller's leg is a port on PJSUA's conference bridge; so is every
prompt player, every music source and every voicemail or call-recording
capture. Players also come out of a fixed table compiled into pjsua
(``PJSUA_MAX_PLAYERS``). When either runs out mid-call the caller would sit
in silence, so the budget is worked out from the config at start-up:

* bridge ports: the sound device's slot 0, one per line, one prompt player
  per line (a caller hears one prompt at a time; a finished one is freed),
  one capture per line (voicemail, recorded calls), one per music source
  (shared by every listener);
* players: one prompt player per line plus one per music source.

The engine is told to size its bridge for this, the player table is
probed at start (:func:`appliance.switchboard.capacity.probe_players`), and
when the build holds fewer players than the budget asks, the box takes
fewer lines (:func:`lines_for_players`): a caller beyond that hears busy and
goes on the callback list, never silence.

Any: 1, the budget as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.config import Config

#: Slot 0 of the bridge is the (null) sound device.
SOUND_DEVICE_SLOTS = 1


@dataclass(frozen=True)
class MediaBudget:
    lines: int
    music_sources: int

    @property
    def players(self) -> int:
        return self.lines + self.music_sources

    @property
    def captures(self) -> int:
        return self.lines

    @property
    def ports(self) -> int:
        return SOUND_DEVICE_SLOTS + self.lines + self.players + self.captures

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "players": self.players, "captures": self.captures, "ports": self.ports}


def music_sources(queue_music: list[str]) -> int:
    """The built-in music plus each distinct custom file the queues name."""
    return 1 + len({m for m in queue_music if m and m != "builtin"})


def for_config(cfg: Config) -> MediaBudget:
    return MediaBudget(cfg.sip.max_calls, music_sources([q.music for q in cfg.queues.values()]))


def lines_for_players(budget: MediaBudget, players_allowed: int) -> int:
    """How many lines the box can take when the build holds ``players_allowed`` players."""
    return max(0, min(budget.lines, players_allowed - budget.music_sources))
