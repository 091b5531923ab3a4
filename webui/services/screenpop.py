"""The screen pop: the caller's patient card(s) the moment a call rings.

:func:`appliance.store.callerid.lookup` does not audit (the switchboard
uses it to route calls); showing its result to an agent is a read of
patient data, so every card shown here is written to the audit log in
the same transaction as the lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from appliance.errors import NotFoundError
from appliance.store.callerid import CallerMatch, PatientCard, lookup
from appliance.store.phones import normalize_caller
from appliance.store.repos import Repos

_CALL_ID = re.compile(r"[^A-Za-z0-9._:@-]")


def clean_call_id(raw: str | None) -> str:
    """Call ids come from the browser: keep them short and plain for the audit log."""
    return _CALL_ID.sub("", raw or "")[:64]


@dataclass(frozen=True)
class Pop:
    number: str | None  # E.164, or None for a hidden/unknown number
    match: CallerMatch | None
    call_id: str

    @property
    def cards(self) -> tuple[PatientCard, ...]:
        return self.match.patients if self.match else ()


def pop(repos: Repos, caller: str, call_id: str, actor: str, now: datetime) -> Pop:
    """Look up ``caller`` and audit every patient card that will be shown."""
    number = normalize_caller(caller, repos.cfg.clinic.country)
    call_id = clean_call_id(call_id)
    if number is None:
        return Pop(None, None, call_id)
    with repos.store.transaction() as conn:
        match = lookup(conn, number, now)
        for card in match.patients:
            repos.audit.append(conn, actor, "screen-pop", "patient", card.patient_id, f"call {call_id}")
        if not match.patients:
            repos.audit.append(conn, actor, "screen-pop", "call", call_id, "no matching patient")
    return Pop(number, match, call_id)


def choose(repos: Repos, caller: str, patient_id: int, call_id: str, actor: str, now: datetime) -> PatientCard:
    """The agent picked one of several patients sharing the number.

    Raises:
        NotFoundError: that patient does not have this number.
    """
    number = normalize_caller(caller, repos.cfg.clinic.country)
    if number is None:
        raise NotFoundError("this call has no caller number to match")
    with repos.store.transaction() as conn:
        match = lookup(conn, number, now)
        for card in match.patients:
            if card.patient_id == patient_id:
                repos.audit.append(
                    conn, actor, "view", "patient", patient_id, f"screen pop, call {clean_call_id(call_id)}"
                )
                return card
    raise NotFoundError(f"patient {patient_id} does not have the caller's number")
