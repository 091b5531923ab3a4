"""The headset station program: a PJSUA2 endpoint owning one audio device.

The core decides everything (who rings, who answers, when to hang up); the
station only proves it is alive, rings its headset when told, and connects
its headset to the calls the core sends it. It runs single-threaded: the
main thread owns PJSUA2 and, between ``libHandleEvents`` polls, sends
heartbeats, times the auto-answer tone, and watches for its sound card to
disappear. The GSM gateway bridges a call's voice from the modem's serial
port instead of the sound card when the core names that route
(:mod:`appliance.station.voiceroute`, :mod:`appliance.station.pcmport`), and
ends the call when that port vanishes. SIGTERM / SIGINT send a final "down" heartbeat first, so the
core moves a ringing call on at once instead of waiting for the heartbeat
to go stale.

Example:
    >>> Station(resolve(cfg, station="desk1"), SystemClock()).run()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import signal
from typing import Any

import pjsua2 as pj

from appliance.clock import Clock
from appliance.errors import StationError
from appliance.privacy import mask_phone
from appliance.sip import header
from appliance.station import protocol
from appliance.station.alsa import AudioChoice, choose_audio, read_cards
from appliance.station.alsa import card_present as _card_present
from appliance.station.endpoint import UaConfig, UaRuntime
from appliance.station.guard import RING_MAX_S, Ringer, StationGuard
from appliance.station.media import BEEP, RING, TonePlayer
from appliance.station.options import StationOptions
from appliance.station.pcmport import SerialVoice
from appliance.station.voiceroute import SERIAL_PCM, VOICE_HEADER, VoiceRoute, acceptable_port, parse_header

log = logging.getLogger(__name__)

#: How long the last "down" heartbeat may take to be acknowledged.
DOWN_GRACE_S = 1.0


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, station: Station, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        self.station = station
        self.mode = ""
        self.audio: Any = None
        self.hear_at = 0.0  # when the caller is put through to the headset
        self.mic_on = False
        self.ear_on = False
        self.route = VoiceRoute()  # the GSM gateway: where the core said this call's voice is
        self.serial: SerialVoice | None = None  # its modem voice port, while bridged
        self.ending = False

    def onCallState(self, prm: Any) -> None:
        self.station.on_call_state(self)

    def onCallMediaState(self, prm: Any) -> None:
        self.station.on_media(self)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, station: Station) -> None:
        super().__init__()
        self.station = station

    def onIncomingCall(self, prm: Any) -> None:
        self.station.on_incoming(self, prm)

    def onInstantMessage(self, prm: Any) -> None:
        self.station.on_message(prm)

    def onInstantMessageStatus(self, prm: Any) -> None:
        self.station.on_message_status(prm)


class Station:
    """One station (or the GSM gateway) until SIGTERM, SIGINT or its card vanishes.

    Args:
        opts: from :func:`appliance.station.options.resolve`.
        clock: wall time for tokens, monotonic time for the loop.
    """

    def __init__(self, opts: StationOptions, clock: Clock) -> None:
        self.opts = opts
        self.clock = clock
        self.guard = StationGuard(opts.station, opts.password, clock, gateway=opts.gateway)
        self.ringer = Ringer(clock)
        self.rt = UaRuntime(
            UaConfig(
                bind=opts.bind,
                port=opts.port,
                max_calls=4,
                user_agent=opts.user_agent,
                sip_trace=opts.sip_trace,
                echo_cancel=True,
            )
        )
        self.audio_ok = False
        self.audio_detail = ""
        self.contact = ""
        self.active_id: int | None = None
        self.core_ok: bool | None = None
        self._stop_reason = ""
        self._down_sent_at: float | None = None
        self._down_acked = False
        self._buddy: Any = None
        self._tones: TonePlayer | None = None

    # -- lifecycle -----------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self._stop_reason:
            self._stop_reason = reason

    def run(self) -> int:
        """Serve until stopped; returns the process exit code (0)."""
        previous = {
            sig: signal.signal(sig, lambda signum, _f: self.request_stop(signal.Signals(signum).name))
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._start()
            self._loop()
            self._say_goodbye()
        finally:
            self.rt.shutdown(release=self._release)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("station %s stopped (%s)", self.opts.station, self._stop_reason or "error")
        return 0

    def _start(self) -> None:
        self.rt.start()
        try:
            choice = choose_audio(
                self.rt.sound_devices(),
                read_cards(self.opts.asound_root),
                card_id=self.opts.card,
                pattern=self.opts.pattern,
                gateway=self.opts.gateway,
                simulate=self.opts.simulate,
            )
        except StationError as exc:
            if not self.opts.gateway:
                raise
            # SIMCom and Huawei modems have no sound card: their voice comes per call on a serial port.
            choice = AudioChoice(None, f"{exc}; serial-PCM modems (SIMCom, Huawei) need none")
        if choice.device is None:
            self.rt.use_null_audio()
            self.audio_ok, self.audio_detail = False, choice.detail
        else:
            self.rt.use_device(choice.device.index)
            self.audio_ok, self.audio_detail = True, ""
        self.contact = self.rt.contact(self.opts.station)
        account = _Account(self)
        self.rt.add_account(account, self.rt.account_config(self.contact))
        buddy = pj.Buddy()
        bcfg = pj.BuddyConfig()
        bcfg.uri = self.opts.core_uri
        bcfg.subscribe = False
        buddy.create(account, bcfg)
        self._buddy = buddy
        self._tones = TonePlayer(self.rt.playback())
        role = "GSM gateway" if self.opts.gateway else "station"
        device = choice.device.name if choice.device else choice.detail
        log.info("%s %s at %s, core %s, audio: %s", role, self.opts.station, self.contact, self.opts.core_uri, device)

    def _loop(self) -> None:
        next_beat = 0.0
        while not self._stop_reason:
            self.rt.poll(10)
            now = self.clock.monotonic()
            if now >= next_beat:
                next_beat = now + protocol.HEARTBEAT_S
                if self.opts.card and not _card_present(self.opts.card, self.opts.asound_root):
                    log.warning("sound card %s is gone (headset unplugged); stopping", self.opts.card)
                    self.audio_ok, self.audio_detail = False, "headset unplugged"
                    self.request_stop("headset unplugged")
                    break
                self._send_heartbeat("up")
            if self.ringer.expired():
                log.warning("ring never stopped by the core after %.0f s; silenced", RING_MAX_S)
                self._stop_tone()
            call = self._active()
            if call is not None and not call.ear_on:
                self._connect(call)
            if call is not None and call.serial is not None and call.serial.gone:
                self._hang_up(call, f"the modem's voice port vanished ({call.serial.pcm.gone_reason})")

    def _say_goodbye(self) -> None:
        self._send_heartbeat("down")
        self._down_sent_at = self.clock.monotonic()
        deadline = self._down_sent_at + DOWN_GRACE_S
        while not self._down_acked and self.clock.monotonic() < deadline:
            self.rt.poll(10)

    def _release(self) -> None:
        if self._tones is not None:
            self._tones.close()
        self._tones = None
        self._buddy = None
        self.active_id = None

    # -- heartbeats ------------------------------------------------------------------
    def _send_heartbeat(self, state: str) -> None:
        detail = self.audio_detail
        if state == "down" and self._stop_reason and self._stop_reason != detail:
            detail = f"{self._stop_reason}; {detail}" if detail else self._stop_reason
        prm = pj.SendInstantMessageParam()
        prm.content = self.guard.heartbeat(self.contact, self.audio_ok, state, detail)
        prm.contentType = protocol.CONTENT_TYPE
        try:
            self._buddy.sendInstantMessage(prm)
        except pj.Error as exc:
            log.warning("could not send a heartbeat to %s: %s", self.opts.core_uri, exc.info())

    def on_message_status(self, prm: Any) -> None:
        ok = 200 <= int(prm.code) < 300
        if self._down_sent_at is not None:
            self._down_acked = True
        if ok and self.core_ok is not True:
            log.info("core at %s accepts this station's heartbeats", self.opts.core_uri)
        elif not ok and self.core_ok is not False:
            log.warning(
                "core at %s did not accept a heartbeat: %s %s (wrong password, or core not running?)",
                self.opts.core_uri,
                prm.code,
                prm.reason,
            )
        self.core_ok = ok

    # -- commands --------------------------------------------------------------------
    def on_message(self, prm: Any) -> None:
        src = prm.rdata.srcAddress
        try:
            command = self.guard.check_command(str(prm.msgBody), str(prm.contentType))
        except protocol.StationAuthError as exc:
            log.warning("ignored a message from %s: %s", src, exc)
            return
        if command.cmd == "ring":
            if self.ringer.ring(command.call_id) and self._tones is not None:
                self._tones.play("ring", RING, loop=True)
                log.info("ringing the headset (call %s)", command.call_id or "-")
        elif self.ringer.stop(command.call_id):
            self._stop_tone()
            log.info("ring stopped (call %s)", command.call_id or "-")

    def _stop_tone(self) -> None:
        if self._tones is not None:
            self._tones.stop()

    # -- calls -----------------------------------------------------------------------
    def _active(self) -> _Call | None:
        return self.rt.calls.get(self.active_id) if self.active_id is not None else None

    def on_incoming(self, account: Any, prm: Any) -> None:
        call = _Call(self, account, prm.callId)
        self.rt.calls[prm.callId] = call
        decision = self.guard.check_invite(str(prm.rdata.wholeMsg), busy=self._active() is not None)
        if not decision.accept:
            log.warning(
                "refused a call from %s (caller %s): %s",
                prm.rdata.srcAddress,
                mask_phone(decision.caller),
                decision.reason,
            )
            self.rt.answer_soon(prm.callId, decision.code)
            return
        self.active_id = prm.callId
        call.mode = decision.mode
        if self.opts.gateway:
            call.route = parse_header(header(str(prm.rdata.wholeMsg), VOICE_HEADER))
        if self.ringer.stop():
            self._stop_tone()
            log.info("ring stopped: call answered")
        if decision.mode == "auto" and self._tones is not None:
            self._tones.play("beep", BEEP, loop=False)
            call.hear_at = self.clock.monotonic() + BEEP.on_ms / 1000
        else:
            call.hear_at = self.clock.monotonic()
        log.info("answering call %s (%s) from caller %s", prm.callId, decision.mode, mask_phone(decision.caller))
        self.rt.answer_soon(prm.callId, 200)

    def on_media(self, call: _Call) -> None:
        info = call.getInfo()
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                call.audio = call.getAudioMedia(media.index)
                call.mic_on = call.ear_on = False
                if call.getId() == self.active_id:
                    self._connect(call)
                return

    def _connect(self, call: _Call) -> None:
        """Headset ↔ call: the microphone at once, the caller after the tone."""
        if call.audio is None:
            return
        if call.route.route == SERIAL_PCM:
            self._connect_serial(call)
            return
        try:
            if not call.mic_on:
                self.rt.capture().startTransmit(call.audio)
                call.mic_on = True
                log.info("call %s: headset microphone connected", call.getId())
            if not call.ear_on and self.clock.monotonic() >= call.hear_at:
                call.audio.startTransmit(self.rt.playback())
                call.ear_on = True
                log.info("call %s: caller connected to the headset", call.getId())
        except pj.Error as exc:
            log.error("call %s: cannot connect the headset: %s", call.getId(), exc.info())
            call.ear_on = call.mic_on = True  # do not retry every 10 ms

    def _connect_serial(self, call: _Call) -> None:
        """Modem voice port ↔ call (the GSM gateway, SIMCom and Huawei modems)."""
        call.mic_on = call.ear_on = True  # the sound card plays no part in this call
        if call.serial is not None or call.ending:
            return
        port = call.route.port
        if not acceptable_port(port, allow_pty=self.opts.simulate):
            self._hang_up(call, f"the core named {port[:40]!r} as voice port, which is not a serial device")
            return
        voice = SerialVoice(port, keep=self.rt.keep, drop=self.rt.drop)
        try:
            voice.attach(call.audio)
        except StationError as exc:
            voice.detach()
            self._hang_up(call, str(exc))
            return
        except pj.Error as exc:
            voice.detach()
            self._hang_up(call, f"cannot bridge the modem's voice port: {exc.info()}")
            return
        call.serial = voice
        log.info("call %s: connected to the modem's serial PCM on %s", call.getId(), port)

    def _hang_up(self, call: _Call, why: str) -> None:
        """End a call the gateway cannot carry (loop thread); the core then frees the modem."""
        if call.ending:
            return
        call.ending = True
        log.warning("call %s: %s; hanging up", call.getId(), why)
        if call.serial is not None:
            call.serial.detach()
            call.serial = None
        op = pj.CallOpParam()
        op.statusCode = pj.PJSIP_SC_SERVICE_UNAVAILABLE
        try:
            call.hangup(op)
        except pj.Error as exc:
            log.debug("hang-up failed: %s", exc.info())

    def on_call_state(self, call: _Call) -> None:
        info = call.getInfo()
        if info.state != pj.PJSIP_INV_STATE_DISCONNECTED:
            return
        if call.serial is not None:
            call.serial.detach()
            call.serial = None
        cid = call.getId()
        if cid == self.active_id:
            self.active_id = None
            log.info("call %s ended: %s %s", cid, info.lastStatusCode, info.lastReason)
        call.audio = None
        self.rt.drop(call)
