"""Config sections for what callers experience: hours, IVR flow, queues, voicemail.

Also the call flow's own checks, which only a walk of its graph sees
(:func:`prompt_problems`, :func:`silent_loops`): they run at every config
load, and the IVR (:mod:`appliance.ivr.flow`) reuses them for a flow the
menu editor is about to save.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from appliance.config import checks
from appliance.config.schema import setting

NODE_TYPES = (
    "playback",
    "menu",
    "language",
    "time_condition",
    "queue",
    "voicemail",
    "transfer",
    "hangup",
)


@dataclass(frozen=True)
class HoursSettings:
    monday: list[str] = setting(doc="Opening hours, e.g. ['08:00-12:00', '13:00-17:00'].", check=checks.spans)
    tuesday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    wednesday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    thursday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    friday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    saturday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    sunday: list[str] = setting(doc="Opening hours.", check=checks.spans)
    holidays: list[str] = setting(doc="Closed days: 'YYYY-MM-DD' once, or 'MM-DD' every year.", check=checks.holidays)

    def for_day(self, weekday: int) -> list[str]:
        return list(getattr(self, checks.WEEKDAYS[weekday]))


@dataclass(frozen=True)
class IvrNode:
    """One step of the call flow. Which fields matter depends on ``type``."""

    type: str = setting(
        doc="playback, menu, language, time_condition, queue, voicemail, transfer or hangup.",
        choices=NODE_TYPES,
        default="hangup",
    )
    prompt: str = setting(doc="Prompt to play (catalogue key or a clinic recording's name).", default="")
    next: str = setting(doc="Node that follows a playback or language choice.", default="")
    options: dict[str, str] = setting(
        doc="menu: digit -> node; language: digit -> language code.", default_factory=dict
    )
    timeout_s: float = setting(doc="menu: seconds to wait for a digit.", min=1, max=30, default=5.0)
    retries: int = setting(doc="menu: times the prompt is repeated on no or invalid input.", min=0, max=5, default=2)
    fallback: str = setting(
        doc="menu: node after the retries are used up; transfer: node when the number is busy, "
        "does not answer or cannot be reached (e.g. voicemail).",
        default="",
    )
    if_open: str = setting(doc="time_condition: node during business hours.", default="")
    if_closed: str = setting(doc="time_condition: node after hours, on holidays and in night mode.", default="")
    queue: str = setting(doc="queue: which queue.", default="")
    priority: int = setting(doc="queue: callers with higher priority are served first.", min=0, max=9, default=0)
    mailbox: str = setting(doc="voicemail: which mailbox.", default="")
    number: str = setting(
        doc="transfer: external number (e.g. the on-call doctor).",
        check=checks.dial_string,
        default="",
    )


@dataclass(frozen=True)
class IvrSettings:
    entry: str = setting(doc="The node every inbound call starts at.")
    nodes: dict[str, IvrNode] = setting(doc="The call flow, by node name.")


@dataclass(frozen=True)
class QueueSettings:
    name: str = setting(doc="Shown on the wallboard.", default="")
    ring_timeout_s: int = setting(doc="Ring an agent this long before trying the next.", min=5, max=120, default=15)
    wrap_up_s: int = setting(doc="Pause after a call before the agent gets the next one.", min=0, max=600, default=15)
    max_wait_s: int = setting(
        doc="After this wait the caller is offered voicemail or a callback.",
        min=30,
        max=7200,
        default=600,
    )
    max_length: int = setting(doc="Callers beyond this go straight to overflow.", min=1, max=200, default=10)
    announce_every_s: int = setting(
        doc="Announce position and estimated wait this often (0 = never).",
        min=0,
        max=600,
        default=45,
    )
    callback_key: str = setting(
        doc="Key a waiting caller presses to be called back instead (empty = no virtual hold).",
        choices=("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"),
        default="1",
    )
    overflow: str = setting(
        doc="What happens at max wait or max length: voicemail or callback.",
        choices=("voicemail", "callback"),
        default="voicemail",
    )
    mailbox: str = setting(doc="Mailbox used by overflow to voicemail.", default="general")
    record: bool = setting(doc="Record calls answered from this queue (callers hear a notice).", default=False)
    music: str = setting(doc="Music on hold file (WAV) under the prompts dir; empty = the built-in tone.", default="")


@dataclass(frozen=True)
class VoicemailSettings:
    mailboxes: list[str] = setting(doc="Mailbox names.")
    max_seconds: int = setting(doc="Longest message.", min=10, max=600)
    min_seconds: int = setting(doc="Shorter messages are discarded as hang-ups.", min=0, max=10)


@dataclass(frozen=True)
class PromptsSettings:
    tts_voices: dict[str, str] = setting(doc="espeak-ng voice per language code.")
    tts_speed: int = setting(doc="espeak-ng words per minute.", min=80, max=300)
    cache_dir: str = setting(doc="Where generated prompts are cached (absolute); empty = <state_dir>/prompts/cache.")
    texts: dict[str, dict[str, str]] = setting(doc="Override prompt texts: [prompts.texts.<lang>] key = text.")


def automatic_edges(node: IvrNode) -> list[str]:
    """Where a node leads when the caller presses nothing."""
    if node.type == "playback":
        return [node.next]
    if node.type == "time_condition":
        return [node.if_open, node.if_closed]
    if node.type == "language":
        return [node.next]
    if node.type in ("menu", "transfer"):
        return [node.fallback]
    return []


def prompt_problems(nodes: Mapping[str, IvrNode]) -> Iterator[tuple[str, str]]:
    """Playback and menu nodes must say something."""
    for name, node in nodes.items():
        if node.type in ("playback", "menu") and not node.prompt:
            yield f"ivr.nodes.{name}.prompt", f"a {node.type} node needs a prompt (a catalogue key or recording name)"


def silent_loops(nodes: Mapping[str, IvrNode]) -> Iterator[tuple[str, str]]:
    """Cycles made only of automatic edges: a silent caller would never leave."""
    state: dict[str, int] = {}  # 0 visiting, 1 done
    reported: set[frozenset[str]] = set()

    def visit(name: str, stack: list[str]) -> Iterator[tuple[str, str]]:
        state[name] = 0
        stack.append(name)
        for target in automatic_edges(nodes[name]):
            if target not in nodes:
                continue
            if state.get(target) == 0:
                cycle = stack[stack.index(target) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    path = " → ".join([*cycle, target])
                    yield (
                        f"ivr.nodes.{target}",
                        f"a caller who presses nothing loops forever ({path}); "
                        "let the loop end in a queue, voicemail or hangup node",
                    )
            elif target not in state:
                yield from visit(target, stack)
        stack.pop()
        state[name] = 1

    for name in sorted(nodes):
        if name not in state:
            yield from visit(name, [])
