"""Plain rows the KPI functions compute on: times as UTC epoch seconds.

The store query layer (:mod:`appliance.reports.query`) converts the
database's ISO text to floats in SQL, so the pure functions do no date
parsing and unit tests write rows by hand with small numbers. Rows are
named tuples: a month of a busy clinic is tens of thousands of rows, and a
tuple is built several times faster than a frozen dataclass.
"""

from __future__ import annotations

from typing import NamedTuple


class CallRow(NamedTuple):
    """One ``calls`` row, as the switchboard writes it.

    ``started`` INVITE received; ``queued`` entered the queue;
    ``agent_answered`` connected to an agent (the last one, after a
    transfer); ``ended`` hang-up. ``hold`` and ``wrap`` are seconds.
    ``first_answered`` is the first agent's answer from the queue events:
    an agent who transfers a caller back into a queue starts a second wait
    and the CDR's ``agent_answered`` moves to the second agent, but the
    caller's speed of answer ended with the first.
    """

    started: float
    caller: str = ""
    direction: str = "inbound"
    purpose: str = "patient"
    disposition: str | None = None
    queue: str | None = None
    queued: float | None = None
    agent: str | None = None
    agent_answered: float | None = None
    ended: float | None = None
    hold: float = 0.0
    wrap: float = 0.0
    first_answered: float | None = None

    @property
    def queued_caller(self) -> bool:
        """A caller who entered a queue: what ASA, service level and abandon rate are about.

        A virtual-hold callback call (purpose ``callback``) waits for its
        agent only for the box's own dialling; the caller's wait is on the
        original call, and callbacks have their own KPIs.
        """
        return self.queued is not None and self.purpose != "callback"

    @property
    def answered_by_agent(self) -> bool:
        """Queued and talked to an agent (disposition answered, or transferred after)."""
        return self.queued is not None and self.agent_answered is not None

    @property
    def wait(self) -> float | None:
        """Queue wait in ms-rounded seconds: to the first agent's answer, else to the hang-up."""
        if self.queued is None:
            return None
        answered = self.first_answered if self.first_answered is not None else self.agent_answered
        end = answered if answered is not None else self.ended
        return None if end is None else round(max(0.0, end - self.queued), 3)

    @property
    def talk(self) -> float:
        """``ended - agent_answered - hold`` in ms-rounded seconds (0 if not answered)."""
        if self.agent_answered is None or self.ended is None:
            return 0.0
        return round(max(0.0, self.ended - self.agent_answered - self.hold), 3)


class ContactRow(NamedTuple):
    """An inbound call as the FCR proxy sees it."""

    caller: str
    started: float
    answered: bool  # queued and answered by an agent


class AbandonRow(NamedTuple):
    """A queued caller who hung up while waiting."""

    caller: str
    at: float  # when they hung up


class CallbackRow(NamedTuple):
    number: str
    source: str  # abandoned, requested, after-hours, overflow, voicemail, busy
    status: str  # open, dialing, done, failed, cancelled
    requested: float
    completed: float | None = None


class AgentEventRow(NamedTuple):
    agent: str
    at: float
    state: str  # logged-out, available, paused, ringing, on-call, wrap-up, unavailable


class ReminderAttemptRow(NamedTuple):
    reminder_id: int
    outcome: str  # confirmed, cancelled, desk, no-answer, busy, voicemail, failed, ...
