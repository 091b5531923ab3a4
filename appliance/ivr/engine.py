"""The IVR engine: one :class:`IvrSession` per call, walking the :class:`Flow`.

Pure and event-driven: a session is told what happened (``start``,
``on_digit``, ``on_prompt_done``, ``on_timer``, ``on_hangup``) and returns
the actions to carry out (see :mod:`appliance.ivr.actions`). It never
sleeps, never plays audio, never reads the system clock: the time for
time conditions comes from the injected :class:`~appliance.clock.Clock`.
Every method runs in microseconds, on the switchboard's PJSUA2 thread.

Menu rules: the menu prompt can be interrupted by a digit (barge-in). A
valid digit goes to its node; an invalid digit plays ``invalid`` and the
menu again; no digit within ``timeout_s`` after the prompt repeats it.
After ``retries`` repeats the next failure goes to ``fallback`` (a
language node falls back to ``next`` in the current language). Digits
pressed during a non-interruptible playback (greeting, emergency notice)
are kept and applied by the next menu at once, so a caller who knows the
menu can type ahead without skipping the emergency notice.

Example:
    >>> from appliance.clock import FakeClock
    >>> from appliance.config import load_config
    >>> ivr = Ivr.from_config(load_config(), FakeClock())
    >>> session = ivr.session("call-1")
    >>> actions = session.start()
"""

from __future__ import annotations

import logging
from enum import Enum

from appliance.clock import Clock
from appliance.config import Config
from appliance.config.callflow import IvrNode
from appliance.ivr.actions import (
    CancelTimer,
    EnterQueue,
    Hangup,
    IvrAction,
    Play,
    SetLanguage,
    StartTimer,
    StartVoicemail,
    StopPlayback,
    TransferOut,
)
from appliance.ivr.flow import Flow
from appliance.ivr.hours import BusinessHours
from appliance.ivr.prompts import PromptRef

log = logging.getLogger(__name__)

#: Most nodes one call may enter; a guard against loops through menus.
MAX_STEPS = 64
#: Digits kept while a non-interruptible prompt plays.
TYPEAHEAD = 4


class Phase(Enum):
    NEW = "new"
    PLAYBACK = "playback"  # non-interruptible prompt, then ``next``
    MENU_PROMPT = "menu-prompt"  # menu or language prompt playing, digits barge in
    MENU_WAIT = "menu-wait"  # prompt done, digit timer running
    FAREWELL = "farewell"  # hangup node's prompt, then Hangup
    DONE = "done"  # the call left the IVR (queue, voicemail, transfer, hangup)


class Ivr:
    """What all calls share: the flow, business hours, the clock, night mode.

    Args:
        flow: the checked call flow.
        hours: business hours for ``time_condition`` nodes.
        clock: the time source (``FakeClock`` in tests).
        default_language: the language a call starts in.
        night_mode: the manual "closed now" switch; change it any time with
            :attr:`night_mode`, sessions read it when they reach a time condition.
    """

    def __init__(
        self,
        flow: Flow,
        hours: BusinessHours,
        clock: Clock,
        *,
        default_language: str = "en",
        night_mode: bool = False,
    ) -> None:
        self.flow = flow
        self.hours = hours
        self.clock = clock
        self.default_language = default_language
        self.night_mode = night_mode

    @classmethod
    def from_config(cls, cfg: Config, clock: Clock, *, night_mode: bool = False) -> Ivr:
        return cls(
            Flow.from_settings(cfg.ivr),
            BusinessHours.from_settings(cfg.hours, cfg.clinic.timezone),
            clock,
            default_language=cfg.clinic.default_language,
            night_mode=night_mode,
        )

    def is_open(self) -> bool:
        """Open right now (hours, holidays and night mode)?"""
        return self.hours.is_open(self.clock.now(), self.night_mode)

    def session(self, call_id: str, language: str | None = None) -> IvrSession:
        """A new session for an answered call (``language`` if already known)."""
        return IvrSession(self, call_id, language or self.default_language)


class IvrSession:
    """One caller's walk through the flow.

    Attributes:
        call_id: the call (CDR uuid); every action carries it.
        language: the caller's current language.
        path: node names entered and what the caller did (``key:1``,
            ``timeout``, ``fallback``, ``hangup``), in order: the CDR's
            ``ivr_path``.
        phase: where the session is; ``Phase.DONE`` once the call left the IVR.
        outcome: the action that ended the IVR part (EnterQueue,
            StartVoicemail, TransferOut or Hangup), ``None`` while in the IVR.
    """

    def __init__(self, ivr: Ivr, call_id: str, language: str) -> None:
        self._ivr = ivr
        self.call_id = call_id
        self.language = language
        self.path: list[str] = []
        self.phase = Phase.NEW
        self.outcome: IvrAction | None = None
        self._node: IvrNode | None = None
        self._node_name = ""
        self._steps = 0
        self._failures = 0
        self._play_seq = 0
        self._play_id: int | None = None
        self._timer_seq = 0
        self._timer_id: str | None = None
        self._typeahead: list[str] = []

    # -- events ---------------------------------------------------------------
    def start(self) -> list[IvrAction]:
        """The box answered: enter the flow's entry node."""
        if self.phase is not Phase.NEW:
            return []
        out: list[IvrAction] = []
        self._enter(self._ivr.flow.entry, out)
        return out

    def on_digit(self, digit: str) -> list[IvrAction]:
        """A DTMF digit (RFC 4733 or SIP INFO, decoded by the switchboard)."""
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            log.warning("call %s: ignoring DTMF %r", self.call_id, digit)
            return []
        out: list[IvrAction] = []
        if self.phase is Phase.PLAYBACK:
            if len(self._typeahead) < TYPEAHEAD:
                self._typeahead.append(digit)
        elif self.phase in (Phase.MENU_PROMPT, Phase.MENU_WAIT):
            self._stop_waiting(out)
            self._menu_digit(digit, out)
        return out

    def on_prompt_done(self, play_id: int | None = None) -> list[IvrAction]:
        """The last Play finished (not called after StopPlayback)."""
        if play_id is not None and play_id != self._play_id:
            return []  # a late report of a playback we already left
        self._play_id = None
        out: list[IvrAction] = []
        node = self._node
        if node is None:
            return out
        if self.phase is Phase.PLAYBACK:
            self._enter(node.next, out)
        elif self.phase is Phase.MENU_PROMPT:
            self.phase = Phase.MENU_WAIT
            self._timer_seq += 1
            self._timer_id = f"ivr:{self.call_id}:{self._timer_seq}"
            out.append(StartTimer(self._timer_id, node.timeout_s))
        elif self.phase is Phase.FAREWELL:
            self._finish(Hangup(self.call_id, "ivr-hangup"), out)
        return out

    def on_timer(self, timer_id: str) -> list[IvrAction]:
        """A timer this session started has fired."""
        if timer_id != self._timer_id or self.phase is not Phase.MENU_WAIT:
            return []
        self._timer_id = None
        out: list[IvrAction] = []
        self.path.append("timeout")
        self._menu_failed(out, invalid=False)
        return out

    def transfer_failed(self) -> list[IvrAction]:
        """The transfer's number was busy, did not answer or could not be called:
        go on at the transfer node's ``fallback`` (empty list: there is none)."""
        node = self._node
        if self.phase is not Phase.DONE or not isinstance(self.outcome, TransferOut) or node is None:
            return []
        if not node.fallback:
            return []
        self.path.append("transfer-failed")
        self.outcome = None
        out: list[IvrAction] = []
        self._enter(node.fallback, out)
        return out

    def on_hangup(self) -> list[IvrAction]:
        """The caller hung up while in the IVR: cancel what is pending."""
        if self.phase is Phase.DONE:
            return []
        out: list[IvrAction] = []
        self._stop_waiting(out)
        self.path.append("hangup")
        self.phase = Phase.DONE
        return out

    # -- walking the flow --------------------------------------------------
    def _enter(self, name: str, out: list[IvrAction]) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            log.error("call %s: IVR entered %d nodes; hanging up (check the flow for loops)", self.call_id, MAX_STEPS)
            self.path.append("loop")
            self._finish(Hangup(self.call_id, "ivr-loop"), out)
            return
        node = self._ivr.flow.node(name)
        self._node, self._node_name = node, name
        self.path.append(name)
        kind = node.type
        if kind == "playback":
            self.phase = Phase.PLAYBACK
            self._play(out, [PromptRef(node.prompt)], interruptible=False)
        elif kind in ("menu", "language"):
            self._failures = 0
            self._menu_prompt(out, [])
        elif kind == "time_condition":
            target = node.if_open if self._ivr.is_open() else node.if_closed
            self._enter(target, out)
        elif kind == "queue":
            self._finish(EnterQueue(self.call_id, node.queue, node.priority, self.language), out)
        elif kind == "voicemail":
            greeting = (PromptRef(node.prompt or "leave_message"),)
            self._finish(StartVoicemail(self.call_id, node.mailbox, greeting, self.language), out)
        elif kind == "transfer":
            self._finish(TransferOut(self.call_id, node.number), out)
        else:  # hangup
            self.phase = Phase.FAREWELL
            self._play(out, [PromptRef(node.prompt or "goodbye")], interruptible=False)

    def _menu_prompt(self, out: list[IvrAction], prefix: list[PromptRef]) -> None:
        node = self._node
        assert node is not None
        if self._typeahead:
            digit = self._typeahead.pop(0)
            self.phase = Phase.MENU_WAIT
            self._menu_digit(digit, out)
            return
        self.phase = Phase.MENU_PROMPT
        self._play(out, [*prefix, *self._menu_prompts(node)], interruptible=True)

    def _menu_prompts(self, node: IvrNode) -> list[PromptRef]:
        if node.prompt or node.type != "language":
            return [PromptRef(node.prompt)]
        return [
            PromptRef.of("language_option", language=lang, key=digit) for digit, lang in sorted(node.options.items())
        ]

    def _menu_digit(self, digit: str, out: list[IvrAction]) -> None:
        node = self._node
        assert node is not None
        self.path.append(f"key:{digit}")
        target = node.options.get(digit)
        if target is None:
            self._menu_failed(out, invalid=True)
        elif node.type == "language":
            self.language = target
            out.append(SetLanguage(self.call_id, target))
            self._enter(node.next, out)
        else:
            self._enter(target, out)

    def _menu_failed(self, out: list[IvrAction], *, invalid: bool) -> None:
        node = self._node
        assert node is not None
        self._failures += 1
        if self._failures > node.retries:
            self.path.append("fallback")
            self._typeahead.clear()
            self._enter(node.next if node.type == "language" else node.fallback, out)
            return
        self._menu_prompt(out, [PromptRef("invalid")] if invalid else [])

    # -- helpers ------------------------------------------------------------
    def _play(self, out: list[IvrAction], prompts: list[PromptRef], *, interruptible: bool) -> None:
        self._play_seq += 1
        self._play_id = self._play_seq
        out.append(Play(self.call_id, tuple(prompts), self.language, interruptible, self._play_seq))

    def _stop_waiting(self, out: list[IvrAction]) -> None:
        if self._play_id is not None:
            out.append(StopPlayback(self.call_id, self._play_id))
            self._play_id = None
        if self._timer_id is not None:
            out.append(CancelTimer(self._timer_id))
            self._timer_id = None

    def _finish(self, action: IvrAction, out: list[IvrAction]) -> None:
        self._stop_waiting(out)
        self._typeahead.clear()
        self.phase = Phase.DONE
        self.outcome = action
        out.append(action)
