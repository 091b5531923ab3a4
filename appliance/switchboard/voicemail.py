"""Voicemail and call recording, encrypted from the first frame.

Audio comes off the conference bridge through a :class:`FrameCapture`
port, in one-second chunks, into the store writer's thread, which seals
them with the media vault (AES-GCM). Nothing is written to disk in clear,
ever. At the end the chunks are turned into a proper WAV (header first),
still encrypted, and the voicemail or recording row is written.
While the store is locked there is no media key: voicemail is refused
and callers are told to call back.

Any: 1, the pjsua2 AudioMedia of the legs a capture hears.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import pjsua2 as pj

from appliance.config import Config
from appliance.events import SwitchboardNotifiers
from appliance.ivr import PromptLibrary, PromptRef, StartVoicemail
from appliance.store import Store
from appliance.store import calls as calls_store
from appliance.store import voicemail as vm_rows
from appliance.store.media import MediaVault, MediaWriter
from appliance.switchboard.loop import PjLoop
from appliance.switchboard.media import FrameCapture, wav_header, write_beep
from appliance.switchboard.state import ActiveCall, CaptureState, VoicemailState
from appliance.switchboard.writer import StoreWriter

if TYPE_CHECKING:
    from appliance.switchboard.sounds import CallSounds

log = logging.getLogger(__name__)
VM_PLAY_ID = 20_000_000


class VoicemailHost(Protocol):
    """What voicemail and call recording use of the controller."""

    @property
    def cfg(self) -> Config: ...
    @property
    def library(self) -> PromptLibrary: ...
    @property
    def loop(self) -> PjLoop: ...
    @property
    def writer(self) -> StoreWriter: ...
    @property
    def sounds(self) -> CallSounds: ...
    @property
    def notify(self) -> SwitchboardNotifiers: ...
    def now(self) -> datetime: ...
    def end_call(self, call: ActiveCall, by: str, code: int = 0) -> None: ...


class _Sealed:
    """The encrypted PCM of one capture; lives on the writer thread."""

    def __init__(self, vault: MediaVault, name: str) -> None:
        self.vault = vault
        self.tmp = f"{name}.pcm"
        self.name = f"{name}.wav"
        self.writer: MediaWriter | None = None
        self.pcm = 0

    def write(self, chunk: bytes) -> None:
        if self.writer is None:
            self.writer = self.vault.writer(self.tmp)
        self.writer.write(chunk)
        self.pcm += len(chunk)

    def finalize(self, keep: bool) -> bool:
        if self.writer is None:
            return False
        self.writer.close()
        try:
            if keep:
                with self.vault.writer(self.name) as out:
                    out.write(wav_header(self.pcm))
                    for chunk in self.vault.read_chunks(self.tmp):
                        out.write(chunk)
        finally:
            self.vault.delete(self.tmp)
        return keep


class _Sealing(TypedDict):
    """What the voicemail or recording row says of the call (copied for the writer thread)."""

    call: str
    caller: str
    patient: int | None
    language: str | None
    mailbox: str
    queue: str | None
    agent: str | None


class Voicemail:
    def __init__(self, controller: VoicemailHost, store: Store | None) -> None:
        self.c = controller
        self.store = store
        self._vault: MediaVault | None = None
        self.beep = write_beep(controller.cfg.prompt_cache_dir / "builtin-beep.wav")

    def vault(self) -> MediaVault | None:
        if self.store is None or self.store.locked:
            return None
        if self._vault is None:
            self._vault = MediaVault(self.store)
        return self._vault

    # -- voicemail -------------------------------------------------------------------------
    def start(self, call: ActiveCall, action: StartVoicemail) -> None:
        vault = self.vault()
        call.state = "voicemail"
        call.voicemail = VoicemailState(action.mailbox)
        language = action.language or call.language or self.c.cfg.clinic.default_language
        if vault is None:
            log.warning("voicemail unavailable while the store is locked")
            refs = (PromptRef("overflow"), PromptRef("goodbye"))
            call.voicemail.refused = True
            files = [self.c.library.resolve(r, language) for r in refs]
        else:
            files = [self.c.library.resolve(r, language) for r in action.greeting] + [self.beep]
        self.c.sounds.play_files(call, files, "voicemail", VM_PLAY_ID)

    def greeting_done(self, call: ActiveCall) -> None:
        vm = call.voicemail
        if vm is not None and (vm.refused or vm.goodbye):
            vm.refused = vm.goodbye = False
            self.c.end_call(call, "box")  # the refusal or the goodbye after the message was heard
            return
        if call.state != "voicemail" or call.capture is not None:
            return
        name = f"voicemail/{self.c.now():%Y/%m}/{call.id}"
        self._capture(call, name, [call.leg.media])
        timer = self.c.loop.later(self.c.cfg.voicemail.max_seconds, lambda: self._stop(call))
        if vm is not None:
            vm.timer = timer

    def digit(self, call: ActiveCall, digit: str) -> None:
        if digit == "#" and call.capture is not None:
            self._stop(call)

    def _stop(self, call: ActiveCall) -> None:
        """Recording over (# or the time limit): say goodbye, then hang up."""
        if call.capture is None or call.ended:
            return
        self._seal(call)
        if call.voicemail is not None:
            call.voicemail.goodbye = True
        language = call.language or self.c.cfg.clinic.default_language
        self.c.sounds.play_files(
            call, [self.c.library.resolve(PromptRef("goodbye"), language)], "voicemail", VM_PLAY_ID + 1
        )

    def finish(self, call: ActiveCall) -> None:
        """The call ended: keep what was recorded."""
        if call.capture is not None:
            self._seal(call)

    # -- call recording ------------------------------------------------------------------------
    def record_call(self, call: ActiveCall, station: str) -> None:
        if self.vault() is None or call.agent_leg is None or call.agent_leg.media is None:
            log.warning("call %s not recorded: store locked or no media", call.id[:8])
            return
        name = f"recordings/{self.c.now():%Y/%m}/{call.id}"
        self._capture(call, name, [call.leg.media, call.agent_leg.media], agent=station)

    # -- shared ----------------------------------------------------------------------------------
    def _capture(self, call: ActiveCall, name: str, sources: list[Any], agent: str | None = None) -> None:
        vault = self.vault()
        if vault is None:
            return
        sealed = _Sealed(vault, name)
        writer = self.c.writer

        def sink(chunk: bytes) -> None:
            writer.io(lambda: sealed.write(chunk))

        capture = FrameCapture(f"cap-{call.id[:8]}", sink)
        for media in sources:
            media.startTransmit(capture)
        call.capture = CaptureState(capture, sources, sealed, self.c.now(), agent)

    def _seal(self, call: ActiveCall) -> None:
        state, call.capture = call.capture, None
        vm = call.voicemail
        if vm is not None and vm.timer is not None:
            timer, vm.timer = vm.timer, None
            timer.cancel()
        if state is None:
            return
        capture = state.port
        for media in state.sources:
            try:
                media.stopTransmit(capture)
            except pj.Error:
                pass
        capture.flush()
        capture.close()
        seconds = capture.seconds
        sealed, started = state.sealed, state.started
        is_voicemail = sealed.name.startswith("voicemail/")
        keep = seconds >= (self.c.cfg.voicemail.min_seconds if is_voicemail else 1)
        if is_voicemail and keep:
            call.voicemail_left = True
        cfg, store, notify = self.c.cfg, self.store, self.c.notify.voicemail
        assert store is not None  # the capture had a vault, so there is a store
        info: _Sealing = {
            "call": call.id,
            "caller": call.caller,
            "patient": call.patient_id,
            "language": call.language,
            "mailbox": vm.mailbox if vm is not None else "",
            "queue": call.queue,
            "agent": state.agent,
        }

        def finalize() -> None:
            if not sealed.finalize(keep):
                return
            with store.transaction() as conn:
                cid = calls_store.call_id(conn, info["call"])
                if is_voicemail:
                    vm_id = vm_rows.add_voicemail(
                        conn,
                        mailbox=info["mailbox"],
                        call_id=cid,
                        caller=info["caller"],
                        patient_id=info["patient"],
                        received_at=started,
                        duration_s=seconds,
                        media_file=sealed.name,
                        language=info["language"],
                    )
                    notify.new(voicemail_id=vm_id, mailbox=info["mailbox"])
                else:
                    vm_rows.add_recording(
                        conn,
                        call_id=cid,
                        patient_id=info["patient"],
                        queue=info["queue"],
                        agent=info["agent"],
                        started_at=started,
                        duration_s=seconds,
                        media_file=sealed.name,
                        expires_at=started + timedelta(days=cfg.retention.recordings_days),
                    )

        self.c.writer.io(finalize)
        log.info(
            "%s of %.1f s %s", "voicemail" if is_voicemail else "recording", seconds, "kept" if keep else "discarded"
        )
