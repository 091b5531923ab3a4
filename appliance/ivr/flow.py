"""The call flow as the engine walks it: nodes by name, checked once at load.

The config layer (``appliance.config``) already checks that every node a
flow names exists, that queues and mailboxes are known and that menu keys
are single digits. This module adds what only a graph walk sees: a loop a
caller can fall into without pressing anything (``playback`` → ``playback``,
``time_condition`` → itself, a menu whose fallback leads back to it), which
would keep a silent caller on the line until the RTP timeout. It is also
what the web UI's menu editor calls before saving.

Example:
    >>> from appliance.config import load_config
    >>> flow = Flow.from_settings(load_config().ivr)
    >>> flow.node(flow.entry).type
    'time_condition'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from appliance.config.callflow import NODE_TYPES, IvrNode, IvrSettings
from appliance.errors import ConfigError

#: Node types that end the IVR part of a call (the call moves elsewhere).
TERMINAL_TYPES = frozenset({"queue", "voicemail", "transfer", "hangup"})


def _automatic_edges(node: IvrNode) -> list[str]:
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


def _all_edges(node: IvrNode) -> list[str]:
    edges = _automatic_edges(node)
    if node.type == "menu":
        edges = [*edges, *node.options.values()]
    return [e for e in edges if e]


def flow_problems(entry: str, nodes: Mapping[str, IvrNode]) -> Iterator[tuple[str, str]]:
    """``(key, message)`` for every structural problem of a flow."""
    names = ", ".join(sorted(nodes))
    if entry not in nodes:
        yield "ivr.entry", f'unknown node "{entry}"; known: {names}'
    for name, node in nodes.items():
        if node.type not in NODE_TYPES:
            yield f"ivr.nodes.{name}.type", f"unknown node type {node.type!r}"
        for target in _all_edges(node):
            if target not in nodes:
                yield f"ivr.nodes.{name}", f'leads to unknown node "{target}"; known: {names}'
    yield from prompt_problems(nodes)
    yield from silent_loops(nodes)


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
        for target in _automatic_edges(nodes[name]):
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


class Flow:
    """A checked call flow.

    Raises:
        ConfigError: the flow has problems (one line per problem).
    """

    def __init__(self, entry: str, nodes: Mapping[str, IvrNode]) -> None:
        problems = [f"{key}: {message}" for key, message in flow_problems(entry, nodes)]
        if problems:
            raise ConfigError(problems)
        self.entry = entry
        self._nodes = dict(nodes)

    @classmethod
    def from_settings(cls, ivr: IvrSettings) -> Flow:
        return cls(ivr.entry, ivr.nodes)

    def node(self, name: str) -> IvrNode:
        return self._nodes[name]

    def __iter__(self) -> Iterator[tuple[str, IvrNode]]:
        return iter(self._nodes.items())

    def __len__(self) -> int:
        return len(self._nodes)
