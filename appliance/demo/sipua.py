"""A scriptable SIP user agent: JSON lines in on stdin, JSON lines out on stdout.

The demo's traffic generator and the integration tests need callers and
phones that behave like real ones (RTP, RFC 4733 and SIP INFO digits, WAV
prompts heard and recorded) and that a script can drive. PJSUA2 allows one
endpoint per process and four calls per endpoint in the PyPI build, so
each user agent is its own process; this is that process. It is
single-threaded: the main thread owns PJSUA2 and reads stdin between polls.
End of stdin ends the process, so a UA never outlives its driver.

Run: ``python -m appliance.demo.sipua [--port N] [--bind 127.0.0.1] [--id-uri URI]
[--auto-answer] [--answer-code 200] [--registrar URI --user U --password P]``

Calls are numbered 1, 2, ... in the order this process sees them (never
reused); commands take ``"call": N`` and default to the newest call.

Commands (one JSON object per line):
    {"cmd": "call", "uri": "sip:100@127.0.0.1:5060", "headers": {"X-A": "1"}, "from_user": "+48601234567", "tag": "c1"}
    {"cmd": "answer", "code": 200}           {"cmd": "hangup", "code": 486}
    {"cmd": "dtmf", "digits": "12#"}         {"cmd": "dtmf_info", "digits": "5"}
    {"cmd": "play", "wav": "/x.wav", "loop": false}
    {"cmd": "record", "wav": "/y.wav"}       {"cmd": "stop_record"}
    {"cmd": "message", "uri": "sip:...", "body": "...", "content_type": "text/plain"}
    {"cmd": "xfer", "uri": "sip:..."}       {"cmd": "xfer_replaces", "call": 1, "dest": 2}  (REFER: blind / replacing 2)
    {"cmd": "quit"}

Events (``{"event": ..., ...}``):
    ready {uri, host, port}                  reg {code, active, reason}
    calling {call, uri, tag}                 (the id of a call just placed; tag echoes the command's)
    incoming {call, from, caller, to, headers, src}   (headers: the X- headers)
    state {call, state, code, reason}        (CALLING, EARLY, CONNECTING, CONFIRMED, DISCONNECTED)
    media {call, active}                     dtmf {call, digit, method: rfc4733|info}
    audio {call, seconds, heard, peak}       (seconds received / of them not silence)
    played {call, wav}                       recorded {call, wav}  (the WAV is complete)
    message {from, to, content_type, body, src}        message_status {to, code, reason}
    xfer {call, code, reason, final}         (a NOTIFY about a transfer this UA asked for)
    error {cmd, message}                     bye {}  (the process is about to exit)
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import select
import sys
import time
from typing import Any

import pjsua2 as pj

from appliance.sip import extension_headers, header, uri_user
from appliance.station.endpoint import STATE_NAMES, UaConfig, UaRuntime, keep_stdout_clean
from appliance.station.media import LevelMeter

log = logging.getLogger("appliance.demo.sipua")
AUDIO_REPORT_S = 0.5
DTMF_METHODS = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc4733", pj.PJSUA_DTMF_METHOD_SIP_INFO: "info"}


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, ua: UserAgent, account: Any, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.ua = ua
        self.serial = next(ua.serials)  # unique in this process (PJSUA2 reuses call ids)
        self.audio: Any = None
        self.meter: LevelMeter | None = None
        self.players: list[Any] = []
        self.recorder: tuple[Any, str] | None = None
        self.reported = (0.0, 0.0)

    def onCallState(self, prm: Any) -> None:
        self.ua.on_call_state(self)

    def onCallMediaState(self, prm: Any) -> None:
        self.ua.on_media(self)

    def onDtmfDigit(self, prm: Any) -> None:
        self.ua.emit("dtmf", call=self.serial, digit=str(prm.digit), method=DTMF_METHODS.get(prm.method, "other"))

    def onCallTransferStatus(self, prm: Any) -> None:
        code, reason, final = int(prm.statusCode), str(prm.reason), bool(prm.finalNotify)
        self.ua.emit("xfer", call=self.serial, code=code, reason=reason, final=final)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, ua: UserAgent) -> None:
        super().__init__()
        self.ua = ua

    def onIncomingCall(self, prm: Any) -> None:
        self.ua.on_incoming(self, prm)

    def onInstantMessage(self, prm: Any) -> None:
        self.ua.emit(
            "message",
            **{"from": str(prm.fromUri)},
            to=str(prm.toUri),
            content_type=str(prm.contentType),
            body=str(prm.msgBody),
            src=str(prm.rdata.srcAddress),
        )

    def onInstantMessageStatus(self, prm: Any) -> None:
        self.ua.emit("message_status", to=str(prm.toUri), code=int(prm.code), reason=str(prm.reason))

    def onRegState(self, prm: Any) -> None:
        info = self.getInfo()
        self.ua.emit("reg", code=int(prm.code), active=bool(info.regIsActive), reason=str(prm.reason))


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    def __init__(self, ua: UserAgent, call_id: int, wav: str) -> None:
        super().__init__()
        self.ua, self.call_id, self.wav = ua, call_id, wav

    def onEof2(self) -> None:
        self.ua.emit("played", call=self.call_id, wav=self.wav)


class UserAgent:
    """The process: one PJSUA2 endpoint, one account, up to four calls."""

    def __init__(self, args: argparse.Namespace, out_fd: int) -> None:
        self.args = args
        self.out_fd = out_fd
        self.rt = UaRuntime(
            UaConfig(bind=args.bind, port=args.port, max_calls=args.max_calls, user_agent=args.user_agent)
        )
        self.account: Any = None
        self.domain = ""
        self.buddies: dict[str, Any] = {}
        self.from_accounts: dict[str, Any] = {}  # caller ID -> its account (see _account_for)
        self.newest: int | None = None
        self.serials = itertools.count(1)
        self.running = True
        self._inbuf = b""
        self._next_report = 0.0
        self._closing: list[tuple[Any, int, str]] = []
        self._finishing: list[tuple[int, str, float]] = []

    def emit(self, event: str, **data: Any) -> None:
        line = json.dumps({"event": event, **data}, ensure_ascii=False) + "\n"
        os.write(self.out_fd, line.encode("utf-8"))

    # -- lifecycle -----------------------------------------------------------------
    def run(self) -> int:
        self.rt.start()
        self.rt.use_null_audio()
        a = self.args
        if a.registrar:
            host = a.registrar.split(":", 1)[1].split(";", 1)[0]
            self.domain = host
            id_uri = a.id_uri or f"sip:{a.user}@{host}"
        else:
            self.domain = f"{self.rt.host}:{self.rt.port}"
            id_uri = a.id_uri or self.rt.contact("ua")
        acfg = self.rt.account_config(id_uri, registrar=a.registrar, user=a.user, password=a.password, realm=a.realm)
        self.account = self.rt.add_account(_Account(self), acfg)
        self.emit("ready", uri=id_uri, host=self.rt.host, port=self.rt.port)
        os.set_blocking(0, False)
        try:
            while self.running:
                self.rt.poll(10)
                self._read_commands()
                self._report_audio()
                self._finish_recordings()
        finally:
            self.rt.shutdown(release=self._release)
            self.emit("bye")
        return 0

    def _release(self) -> None:
        self.buddies.clear()
        for call in list(self.rt.calls.values()):
            self._close_media(call)
        self._finish_recordings(final=True)  # libDestroy closes the files

    def _read_commands(self) -> None:
        ready, _, _ = select.select([0], [], [], 0)
        if not ready:
            return
        try:
            chunk = os.read(0, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.running = False
            return
        self._inbuf += chunk
        while b"\n" in self._inbuf:
            raw, self._inbuf = self._inbuf.split(b"\n", 1)
            if raw.strip():
                self._dispatch(raw)

    def _dispatch(self, raw: bytes) -> None:
        cmd = "?"
        try:
            data = json.loads(raw)
            cmd = str(data.get("cmd"))
            handler = getattr(self, f"cmd_{cmd}", None)
            if handler is None:
                raise ValueError(f"unknown command {cmd!r}")
            handler(data)
        except pj.Error as exc:
            self.emit("error", cmd=cmd, message=str(exc.info()))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.emit("error", cmd=cmd, message=str(exc))

    def _call(self, data: dict[str, Any]) -> _Call:
        serial = data.get("call", self.newest)
        for call in self.rt.calls.values():
            if call.serial == serial:
                return call  # type: ignore[no-any-return]
        raise ValueError(f"no such call: {serial}")

    # -- commands --------------------------------------------------------------------
    def _account_for(self, from_user: str) -> Any:
        """The account a call from ``from_user`` goes out on (its From header).

        PJSUA 2.12 has no per-call local URI, so each caller ID gets an
        account of its own (same credentials, no registration), kept for the
        life of the process.
        """
        if not from_user:
            return self.account
        account = self.from_accounts.get(from_user)
        if account is None:
            a = self.args
            acfg = self.rt.account_config(
                f"sip:{from_user}@{self.domain}", user=a.user, password=a.password, realm=a.realm
            )
            account = self.from_accounts[from_user] = self.rt.add_account(_Account(self), acfg)
        return account

    def cmd_call(self, data: dict[str, Any]) -> None:
        call = _Call(self, self._account_for(str(data.get("from_user") or "")))
        op = pj.CallOpParam(True)
        for name, value in (data.get("headers") or {}).items():
            h = pj.SipHeader()
            h.hName, h.hValue = str(name), str(value)
            op.txOption.headers.append(h)
        call.makeCall(str(data["uri"]), op)
        self.rt.calls[call.getId()] = call
        self.newest = call.serial
        self.emit("calling", call=call.serial, uri=str(data["uri"]), tag=data.get("tag"))

    def cmd_answer(self, data: dict[str, Any]) -> None:
        op = pj.CallOpParam()
        op.statusCode = int(data.get("code", 200))
        self._call(data).answer(op)

    def cmd_hangup(self, data: dict[str, Any]) -> None:
        op = pj.CallOpParam()
        op.statusCode = int(data.get("code", 0))
        self._call(data).hangup(op)

    def cmd_xfer(self, data: dict[str, Any]) -> None:
        self._call(data).xfer(str(data["uri"]), pj.CallOpParam(True))

    def cmd_xfer_replaces(self, data: dict[str, Any]) -> None:
        self._call(data).xferReplaces(self._call({"call": data["dest"]}), pj.CallOpParam(True))

    def cmd_dtmf(self, data: dict[str, Any]) -> None:
        self._call(data).dialDtmf(str(data["digits"]))

    def cmd_dtmf_info(self, data: dict[str, Any]) -> None:
        prm = pj.CallSendDtmfParam()
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        prm.digits = str(data["digits"])
        prm.duration = 160
        self._call(data).sendDtmf(prm)

    def cmd_play(self, data: dict[str, Any]) -> None:
        call = self._call(data)
        if call.audio is None:
            raise ValueError("the call has no active audio yet")
        player = _Player(self, call.serial, str(data["wav"]))
        player.createPlayer(str(data["wav"]), 0 if data.get("loop") else pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(call.audio)
        call.players.append(player)

    def cmd_record(self, data: dict[str, Any]) -> None:
        call = self._call(data)
        if call.audio is None:
            raise ValueError("the call has no active audio yet")
        self._stop_recording(call)
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(str(data["wav"]))
        call.audio.startTransmit(recorder)
        call.recorder = (recorder, str(data["wav"]))

    def cmd_stop_record(self, data: dict[str, Any]) -> None:
        self._stop_recording(self._call(data))

    def cmd_message(self, data: dict[str, Any]) -> None:
        uri = str(data["uri"])
        buddy = self.buddies.get(uri)
        if buddy is None:
            buddy = pj.Buddy()
            bcfg = pj.BuddyConfig()
            bcfg.uri = uri
            bcfg.subscribe = False
            buddy.create(self.account, bcfg)
            self.buddies[uri] = buddy
        prm = pj.SendInstantMessageParam()
        prm.content = str(data.get("body", ""))
        prm.contentType = str(data.get("content_type", "text/plain"))
        buddy.sendInstantMessage(prm)

    def cmd_quit(self, data: dict[str, Any]) -> None:
        self.running = False

    # -- PJSUA2 callbacks ------------------------------------------------------------
    def on_incoming(self, account: Any, prm: Any) -> None:
        call = _Call(self, account, prm.callId)
        self.rt.calls[prm.callId] = call
        self.newest = call.serial
        msg = str(prm.rdata.wholeMsg)
        self.emit(
            "incoming",
            call=call.serial,
            **{"from": header(msg, "From")},
            caller=uri_user(header(msg, "From")),
            to=header(msg, "To"),
            headers=extension_headers(msg),
            src=str(prm.rdata.srcAddress),
        )
        self.rt.answer_soon(prm.callId, self.args.answer_code if self.args.auto_answer else 180)

    def on_call_state(self, call: _Call) -> None:
        info = call.getInfo()
        self.emit(
            "state",
            call=call.serial,
            state=STATE_NAMES.get(info.state, str(info.state)),
            code=int(info.lastStatusCode),
            reason=str(info.lastReason),
        )
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._report_call_audio(call, force=True)
            self._close_media(call)
            self.rt.drop(call)

    def on_media(self, call: _Call) -> None:
        info = call.getInfo()  # keep it: its media vector points into it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                if call.audio is None:
                    call.audio = call.getAudioMedia(media.index)
                    call.meter = LevelMeter()
                    call.audio.startTransmit(call.meter)
                self.emit("media", call=call.serial, active=True)
                return
        self.emit("media", call=call.serial, active=False)

    # -- media -----------------------------------------------------------------------
    def _stop_recording(self, call: _Call) -> None:
        if call.recorder is not None:
            recorder, wav = call.recorder
            call.recorder = None
            self._closing.append((recorder, call.serial, wav))

    def _finish_recordings(self, final: bool = False) -> None:
        """Destroy stopped recorders; say "recorded" once the WAV is complete.

        The conference bridge removes a port on its next clock tick, and only
        then does the WAV writer fill in the header's sizes.
        """
        for recorder, serial, wav in self._closing:
            self.rt.drop(recorder)
            self._finishing.append((serial, wav, time.monotonic() + 1.0))
        self._closing = []
        waiting = []
        for serial, wav, deadline in self._finishing:
            if final or _wav_complete(wav) or time.monotonic() > deadline:
                self.emit("recorded", call=serial, wav=wav)
            else:
                waiting.append((serial, wav, deadline))
        self._finishing = waiting

    def _close_media(self, call: _Call) -> None:
        self._stop_recording(call)
        for player in call.players:
            self.rt.drop(player)
        call.players.clear()
        if call.meter is not None:
            call.meter.close()
            self.rt.drop(call.meter)
        call.meter = None
        call.audio = None

    def _report_audio(self) -> None:
        now = time.monotonic()
        if now < self._next_report:
            return
        self._next_report = now + AUDIO_REPORT_S
        for call in list(self.rt.calls.values()):
            self._report_call_audio(call)

    def _report_call_audio(self, call: _Call, force: bool = False) -> None:
        if call.meter is None:
            return
        seconds, heard, peak = call.meter.reading()
        if force or (seconds, heard) != call.reported:
            call.reported = (seconds, heard)
            self.emit("audio", call=call.serial, seconds=round(seconds, 2), heard=round(heard, 2), peak=peak)


def _wav_complete(path: str) -> bool:
    """Whether a WAV's RIFF size is filled in (PJMEDIA writes 0 until it closes the file)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] != b"\0\0\0\0"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m appliance.demo.sipua", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="SIP port (0 = any free port)")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--id-uri", default="", help="this UA's own URI (From of its calls)")
    p.add_argument("--auto-answer", action="store_true", help="answer every incoming call at once")
    p.add_argument("--answer-code", type=int, default=200, help="the code --auto-answer answers with")
    p.add_argument("--registrar", default="", help="register to this registrar, e.g. sip:127.0.0.1:5080")
    p.add_argument("--user", default="", help="digest user (and the From user when registering)")
    p.add_argument("--password", default="")
    p.add_argument("--realm", default="*")
    p.add_argument("--max-calls", type=int, default=4)
    p.add_argument("--user-agent", default="ClinicBox-sipua")
    p.add_argument("-v", "--verbose", action="store_true", help="log to stderr at debug level")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose or os.environ.get("CLINICBOX_PJSIP_LOG") else logging.WARNING,
        stream=sys.stderr,
    )
    out_fd = keep_stdout_clean()
    return UserAgent(args, out_fd).run()


if __name__ == "__main__":
    raise SystemExit(main())
