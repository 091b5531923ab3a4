"""The callback list: abandoned callers and "call me back" requests.

The rows belong to :mod:`appliance.store.callbacks` (the core writes them);
the web UI reads the list here and asks the core to dial
(``callback.originate``) or to close an entry with an outcome
(``callback.close``), so a callback is never dialled twice from two screens.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.store import callbacks as rows
from appliance.store.callbacks import Callback
from appliance.store.repos import Repos

__all__ = ["Callback", "open_callbacks", "recently_closed"]


def open_callbacks(repos: Repos, actor: str, limit: int = 500) -> list[Callback]:
    """Open entries, oldest first (the order they should be called back)."""
    return rows.open_list(repos.store, repos.audit, actor, limit)


def recently_closed(repos: Repos, now: datetime, days: int = 7, limit: int = 100) -> list[Callback]:
    return rows.recently_closed(repos.store, now - timedelta(days=days), limit)
