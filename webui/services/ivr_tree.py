"""The phone menu as a tree, for the IVR settings screen.

The call flow is a graph (steps may be shared or loop back); the screen
shows it as a tree from the first step, where a step met a second time is
shown as a reference instead of being expanded again. Steps nothing leads
to are listed separately, so a manager sees dead branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.config import IvrNode, IvrSettings
from webui.i18n import gettext as _

#: Which fields of each node type are used (the editor hides the others).
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "playback": ("prompt", "next"),
    "menu": ("prompt", "options", "timeout_s", "retries", "fallback"),
    "language": ("prompt", "options", "next"),
    "time_condition": ("if_open", "if_closed"),
    "queue": ("queue", "priority"),
    "voicemail": ("mailbox", "prompt"),
    "transfer": ("number",),
    "hangup": ("prompt",),
}


@dataclass
class Branch:
    label: str  # why the call goes there: "1", "when open", "then"
    name: str
    node: IvrNode | None
    repeated: bool = False  # already shown above: not expanded again
    children: list[Branch] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return self.node is None


def edges(node: IvrNode) -> list[tuple[str, str]]:
    """(label, target step) of one step, in the order a caller meets them."""
    out: list[tuple[str, str]] = []
    if node.type == "menu":
        out += [(_("key %(key)s", key=digit), target) for digit, target in sorted(node.options.items())]
        if node.fallback:
            out.append((_("no key"), node.fallback))
    elif node.type == "time_condition":
        out += [(_("when open"), node.if_open), (_("when closed"), node.if_closed)]
    elif node.type in ("playback", "language") and node.next:
        out.append((_("then"), node.next))
    return [(label, target) for label, target in out if target]


def tree(ivr: IvrSettings) -> Branch:
    seen: set[str] = set()

    def grow(label: str, name: str) -> Branch:
        node = ivr.nodes.get(name)
        branch = Branch(label, name, node)
        if node is None:
            return branch
        if name in seen:
            branch.repeated = True
            return branch
        seen.add(name)
        branch.children = [grow(edge_label, target) for edge_label, target in edges(node)]
        return branch

    return grow(_("start"), ivr.entry)


def unreachable(ivr: IvrSettings) -> list[str]:
    reached: set[str] = set()
    todo = [ivr.entry]
    while todo:
        name = todo.pop()
        if name in reached or name not in ivr.nodes:
            continue
        reached.add(name)
        todo += [target for _label, target in edges(ivr.nodes[name])]
    return sorted(set(ivr.nodes) - reached)


def summary(node: IvrNode) -> str:
    """One line saying what a step does."""
    if node.type == "playback":
        return _("plays “%(prompt)s”", prompt=node.prompt)
    if node.type == "menu":
        return _("plays “%(prompt)s” and waits for a key", prompt=node.prompt)
    if node.type == "language":
        return _("asks for the language: %(options)s", options=", ".join(f"{k}={v}" for k, v in node.options.items()))
    if node.type == "time_condition":
        return _("checks the opening hours and holidays")
    if node.type == "queue":
        return _("puts the caller in the queue “%(queue)s”", queue=node.queue)
    if node.type == "voicemail":
        return _("takes a message for mailbox “%(mailbox)s”", mailbox=node.mailbox)
    if node.type == "transfer":
        return _("transfers the call to %(number)s", number=node.number)
    return _("hangs up")
