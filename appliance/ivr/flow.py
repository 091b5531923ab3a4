"""The call flow as the engine walks it: nodes by name, checked once at load.

The config layer (``appliance.config``) already checks that every node a
flow names exists, that queues and mailboxes are known and that menu keys
are single digits, and (:mod:`appliance.config.callflow`) what only a graph
walk sees: a loop a caller can fall into without pressing anything
(``playback`` → ``playback``, ``time_condition`` → itself, a menu whose
fallback leads back to it), which would keep a silent caller on the line
until the RTP timeout. :func:`flow_problems` runs the same checks on a flow
that is not a whole config: it is what the web UI's menu editor calls
before saving.

Example:
    >>> from appliance.config import load_config
    >>> flow = Flow.from_settings(load_config().ivr)
    >>> flow.node(flow.entry).type
    'time_condition'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from appliance.config.callflow import NODE_TYPES, IvrNode, IvrSettings, automatic_edges, prompt_problems, silent_loops
from appliance.errors import ConfigError

__all__ = ["TERMINAL_TYPES", "Flow", "flow_problems", "prompt_problems", "silent_loops"]

#: Node types that end the IVR part of a call (the call moves elsewhere).
TERMINAL_TYPES = frozenset({"queue", "voicemail", "transfer", "hangup"})


def _all_edges(node: IvrNode) -> list[str]:
    edges = automatic_edges(node)
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
