"""What a service did with a reloaded configuration: the ``reconfigure`` contract.

Every service of the core has ``reconfigure(cfg) -> Applied``. ``config.reload``
(the web UI's settings page saves, then asks the core) calls it on each
service in turn and answers with the merged result, so a manager learns
which changed settings took effect at once and which wait for a restart.

Settings are named by their dotted key (``hours.monday``, ``sip.port``), or
by their section when a whole table is user-defined (``stations``,
``queues``). A service names only the settings it uses that this reload
changed, compared with the config it last received.

Example:
    >>> a = Applied(applied=["hours.monday"], restart=["clinic.timezone"])
    >>> b = Applied(applied=["clinic.timezone", "ivr.entry"])
    >>> a.merge(b)
    Applied(applied=['hours.monday', 'ivr.entry'], restart=['clinic.timezone'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Applied:
    """Changed settings a service applied live, and those that wait for a restart.

    A setting that one service applied and another can only take at its
    next start waits for a restart: ``restart`` wins in :meth:`merge`.
    """

    applied: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)

    def merge(self, other: Applied) -> Applied:
        """Both results in one; a setting is applied only if no one waits for a restart to take it."""
        restart = _unique([*self.restart, *other.restart])
        waiting = set(restart)
        return Applied(_unique(k for k in [*self.applied, *other.applied] if k not in waiting), restart)

    @classmethod
    def combine(cls, results: Iterable[Applied]) -> Applied:
        merged = cls()
        for result in results:
            merged = merged.merge(result)
        return merged

    @classmethod
    def sort_out(cls, old: Any, new: Any, *, live: Iterable[str] = (), restart: Iterable[str] = ()) -> Applied:
        """The changed settings (old config → new) that a service uses, sorted by how it takes them.

        ``live`` and ``restart`` name settings or sections (``"sip"`` covers
        ``sip.port``); the most specific name wins, so ``live=["sip.rtp_timeout_s"]``
        with ``restart=["sip"]`` says the RTP timeout applies at once and the
        rest of the section at the next start. Changed settings in neither
        are another service's business and are left out.
        """
        rules = sorted([(name, True) for name in live] + [(name, False) for name in restart], key=lambda r: -len(r[0]))
        result = cls()
        for key in changed_settings(old, new):
            for name, is_live in rules:
                if key == name or key.startswith(name + "."):
                    (result.applied if is_live else result.restart).append(key)
                    break
        return result

    def reply(self) -> dict[str, list[str]]:
        """The keys ``config.reload`` adds to its answer."""
        return {"applied": list(self.applied), "restart": list(self.restart)}


def changed_settings(old: Any, new: Any, prefix: str = "", depth: int = 2) -> list[str]:
    """Dotted names of the settings that differ between two configs (or two sections of one).

    ``depth`` says how far down sections are opened: a whole config is
    compared key by key within each section (``hours.monday``), not deeper.
    """
    names: list[str] = []
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b:
            continue
        name = f"{prefix}{f.name}"
        if depth > 1 and dataclasses.is_dataclass(a) and not isinstance(a, type) and type(a) is type(b):
            names += changed_settings(a, b, name + ".", depth - 1)
        else:
            names.append(name)
    return names


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
