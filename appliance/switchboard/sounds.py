"""Prompts and music on callers' legs (PJSUA2 thread).

A prompt sequence plays through a :class:`PromptPlayer`; whoever started it
(IVR, ACD, voicemail, reminder script, outbound) hears when it ends. Music
on hold pauses under a prompt and resumes after it; every caller hearing
the same music listens to one shared player (:class:`MusicBank`).

Any: 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pjsua2 as pj

from appliance import acd as A
from appliance import ivr as I
from appliance.config import Config
from appliance.events import SwitchboardNotifiers
from appliance.switchboard import cdr
from appliance.switchboard.legs import Leg
from appliance.switchboard.media import MusicBank, PromptPlayer
from appliance.switchboard.metrics import Metrics
from appliance.switchboard.state import ActiveCall
from appliance.switchboard.writer import StoreWriter

if TYPE_CHECKING:
    from appliance.switchboard.outbound import Outbound
    from appliance.switchboard.scripts import ScriptRunner
    from appliance.switchboard.voicemail import Voicemail

log = logging.getLogger(__name__)


class SoundsHost(Protocol):
    """What the call sounds use of the controller: prompts, music, and whom to tell a prompt ended."""

    @property
    def cfg(self) -> Config: ...
    @property
    def library(self) -> I.PromptLibrary: ...
    @property
    def acd(self) -> A.Acd: ...
    @property
    def writer(self) -> StoreWriter: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def music(self) -> MusicBank: ...
    @property
    def music_file(self) -> Path: ...
    @property
    def voicemail(self) -> Voicemail: ...
    @property
    def reminders(self) -> ScriptRunner: ...
    @property
    def outbound(self) -> Outbound: ...
    def soon(self, fn: Callable[[], None]) -> None: ...
    @property
    def notify(self) -> SwitchboardNotifiers: ...
    def now(self) -> datetime: ...
    def run(self, actions: Iterable[I.IvrAction | A.AcdAction], owner: str) -> None: ...
    def reacted(self, leg: Leg) -> None: ...
    def end_call(self, call: ActiveCall, by: str, code: int = 0) -> None: ...
    def front_desk_queue(self) -> str: ...


class CallSounds:
    """Plays what the controller's state machines ask for to each caller's leg."""

    def __init__(self, controller: SoundsHost) -> None:
        self.c = controller

    def play(self, call: ActiveCall, action: I.Play, owner: str) -> None:
        self.stop(call)
        if call.leg.media is None:
            call.pending_play = (action, owner)
            return
        files = [self.c.library.resolve(ref, action.language) for ref in action.prompts]
        self.play_files(call, files, owner, action.play_id)

    def play_files(self, call: ActiveCall, files: list[Path], owner: str, play_id: int) -> None:
        """Play WAV files in order to the caller; the owner hears about the end."""
        self.stop(call)
        if not files:
            self.c.soon(lambda: self._done(call, None, owner, play_id))
            return
        self.music_pause(call)
        player: PromptPlayer | None = None

        def done() -> None:
            self._done(call, player, owner, play_id)

        try:
            player = PromptPlayer(files, done, self.c.soon)
        except pj.Error as exc:
            self.media_exhausted(call, exc.reason)
            return
        player.startTransmit(call.leg.media)
        self.c.reacted(call.leg)
        call.player, call.play_id, call.play_owner = player, play_id, owner

    def _done(self, call: ActiveCall, player: PromptPlayer | None, owner: str, play_id: int) -> None:
        if player is not None and call.player is not player:
            return  # stopped or replaced meanwhile
        self.stop(call)
        if call.ended:
            return
        self.music_resume(call)
        if owner == "ivr" and call.session is not None and call.state == "ivr":
            self.c.run(call.session.on_prompt_done(play_id), "ivr")
        elif owner == "acd":
            self.c.run(self.c.acd.on_prompt_done(call.id, play_id), "acd")
        elif owner == "voicemail":
            self.c.voicemail.greeting_done(call)
        elif owner == "script":
            self.c.reminders.prompt_done(call, play_id)
        elif owner == "outbound":
            self.c.outbound.prompt_done(call, play_id)

    def stop(self, call: ActiveCall) -> None:
        player, call.player, call.play_id = call.player, None, None
        if player is not None:
            player.detach()  # no cycle through its callback: freed right here
            try:
                if call.leg.media is not None and not call.leg.gone:
                    player.stopTransmit(call.leg.media)
            except pj.Error:
                pass
            del player

    def music_on(self, call: ActiveCall) -> None:
        if call.leg.media is None or call.ended:
            return
        if call.music is None:
            path = self.c.music_file
            if call.music_file and call.music_file != "builtin":
                custom = self.c.cfg.custom_prompts_dir / call.music_file
                path = custom if custom.is_file() else path
            try:
                call.music = self.c.music.player(path)
            except pj.Error as exc:
                self.media_exhausted(call, exc.reason)
                return
        call.music.startTransmit(call.leg.media)
        self.c.reacted(call.leg)

    def music_pause(self, call: ActiveCall) -> None:
        # A gone leg's bridge port is removed with every connection to it: nothing to
        # stop (and PJSUA2 would log the EINVAL as an error before raising it).
        if call.music is not None and call.leg.media is not None and not call.leg.gone:
            try:
                call.music.stopTransmit(call.leg.media)
            except pj.Error:
                pass

    def music_resume(self, call: ActiveCall) -> None:
        if call.music_file and call.state in ("queued", "held") and not call.ended:
            self.music_on(call)

    def music_off(self, call: ActiveCall) -> None:
        self.music_pause(call)
        call.music = None
        call.music_file = None

    def media_exhausted(self, call: ActiveCall, reason: str) -> None:
        """No player or bridge port was left for this caller: never leave them in silence.

        The media budget (``switchboard.budget``) keeps this from happening by
        turning callers away at the door; should it happen anyway, the call
        ends (503 before it is answered) and the caller goes on the callback list.
        """
        self.c.metrics.media_errors += 1
        if call.ended or call.media_exhausted:
            return
        call.media_exhausted = True
        log.error(
            "no media port left for call %s (%s): ending it, the caller goes on the callback list", call.id[:8], reason
        )
        call.outcome = "busy"
        if call.direction == "inbound" and call.caller.startswith("+") and not self.c.acd.has_call(call.id):
            now = self.c.now()
            self.c.writer.db(
                cdr.callback_open(
                    call.id, call.caller, call.patient_id, self.c.front_desk_queue(), "busy", now, now, 0.0
                )
            )
            self.c.notify.callbacks.new(call_id=call.id, source="busy")
        self.c.soon(lambda: self.c.end_call(call, "box", 503))
