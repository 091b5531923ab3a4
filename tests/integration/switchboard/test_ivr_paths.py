"""IVR paths with a real caller: after hours to encrypted voicemail, invalid
input, SIP INFO digits, night mode across a restart."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

from appliance.store.media import MediaVault

A = "+12125550001"
DEFAULTS = Path(__file__).resolve().parents[3] / "appliance" / "config" / "defaults.toml"


def hear_and_hang_up(b, sipua):  # type: ignore[no-untyped-def]
    """Patient A calls, hears the first prompts, hangs up; returns the call's record."""
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    caller.wait_heard(1.0, cid, timeout=15)
    caller.hangup(cid)
    return b.call_record(lambda r: r.caller == A)


def test_after_hours_voicemail_is_stored_encrypted(box, sipua, tone_wav) -> None:
    b = box(open_hours=False)
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    caller.wait_heard(2.0, cid, timeout=20)  # closed message, emergency notice, "leave a message"
    b.wait(lambda s: any(c["state"] == "voicemail" for c in s["calls"]), timeout=20, what="voicemail")
    time.sleep(2.5)  # greeting and beep
    caller.play(tone_wav, cid, loop=True)  # the patient speaks
    time.sleep(4.0)
    caller.dtmf("#", cid)  # done
    caller.wait_state("DISCONNECTED", cid, timeout=15)  # "goodbye" and the box hangs up
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "voicemail"
    assert rec.ivr_path[:2] == ["hours", "closed"]
    rows = b.rows("SELECT mailbox, caller, duration_s, media_file, status FROM voicemail")
    row = rows[0] if rows else None
    assert row is not None, b.tail()
    mailbox, caller_no, seconds, media, status = row
    assert (mailbox, caller_no, status) == ("after-hours", A, "new")
    assert 2.0 <= seconds <= 8.0
    path = b.dir / "media" / media
    files = sorted(str(f.relative_to(b.dir)) for f in (b.dir / "media").rglob("*"))
    assert path.exists(), f"the row names {media}, but the media folder holds {files}; log:\n{b.tail()}"
    raw = path.read_bytes()
    assert not raw.startswith(b"RIFF") and b"WAVE" not in raw  # encrypted at rest
    wav = MediaVault(b.store).read_bytes(media)
    assert wav.startswith(b"RIFF") and wav[8:12] == b"WAVE"
    samples = wav[44:]
    assert len(samples) >= 16000 * 2  # two seconds or more of 8 kHz 16-bit audio
    loud = sum(
        1
        for i in range(0, len(samples) - 1, 200)
        if abs(int.from_bytes(samples[i : i + 2], "little", signed=True)) > 500
    )
    assert loud > 20, "the recording is silent: the caller's tone did not reach the mailbox"
    assert not list((b.dir / "media").rglob("*.pcm")), "the temporary capture was not removed"
    # Nobody called back yet; after-hours messages are for staff, not the callback list.
    assert b.query("SELECT count(*) FROM callbacks") == [(0,)]


def test_after_hours_hang_up_without_a_message_lands_on_the_callback_list(box, sipua) -> None:
    b = box(open_hours=False)
    rec = hear_and_hang_up(b, sipua)
    assert rec.disposition == "ivr"
    rows = b.rows("SELECT number, source FROM callbacks")
    assert rows == [(A, "after-hours")]


def test_invalid_input_repeats_then_goes_to_the_fallback(box, sipua) -> None:
    b = box(stations={})
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    for _ in range(3):  # three wrong keys: two repeats, then the fallback
        caller.dtmf("7", cid)
        time.sleep(2.5)
    b.wait(lambda s: any(c["state"] == "queued" for c in s["calls"]), timeout=20, what="the fallback queue")
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.ivr_path.count("key:7") == 3
    assert rec.ivr_path[-1] == "front-desk" and rec.queue == "front-desk"


def test_digits_sent_as_sip_info_work_like_rfc4733(box, sipua) -> None:
    b = box(stations={})
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    caller.dtmf_info("3", cid)  # billing
    b.wait(lambda s: any(c["queue"] == "billing" for c in s["calls"]), timeout=20, what="the billing queue")
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert "key:3" in rec.ivr_path and rec.queue == "billing"


def test_night_mode_from_the_console_survives_a_restart(box, sipua) -> None:
    b = box(open_hours=True)
    b.control.night_mode(True)
    b.wait(lambda s: s["box"]["night_mode"], timeout=5, what="night mode on")
    b.restart()  # a power cut or a watchdog restart must not reopen a closed clinic
    b.wait(lambda s: s["box"]["night_mode"], timeout=10, what="night mode restored")
    rec = hear_and_hang_up(b, sipua)
    assert rec.ivr_path[:2] == ["hours", "closed"]
    b.control.night_mode(False)
    b.restart()
    b.wait(lambda s: s["box"]["night_mode"] is False, timeout=10, what="night mode off after restart")


def test_after_hours_transfer_reaches_the_on_call_doctor(box, sipua) -> None:
    doctor = "+12125550999"
    nodes = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))["ivr"]["nodes"]  # a clinic's flow replaces all nodes
    nodes["closed-emergency"]["next"] = "on-call"
    nodes["on-call"] = {"type": "transfer", "number": doctor}
    b = box(open_hours=False, overlay={"ivr": {"nodes": nodes}})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)  # the provider: the doctor's mobile
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    incoming = pstn.wait_for("incoming", timeout=30)  # after the closed notice and the emergency notice
    assert doctor.lstrip("+") in incoming["to"]
    b.wait(lambda s: any(c["state"] == "talking" for c in s["calls"]), timeout=10, what="caller and doctor bridged")
    time.sleep(1.0)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "transferred"
    assert rec.ivr_path[:2] == ["hours", "closed"]
    time.sleep(1.0)
    # The doctor spoke to the patient: nobody needs to call them back.
    assert b.query("SELECT count(*) FROM callbacks") == [(0,)]


def test_a_busy_on_call_doctor_sends_the_caller_to_voicemail(box, sipua, tone_wav) -> None:
    doctor = "+12125550999"
    nodes = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))["ivr"]["nodes"]
    nodes["closed-emergency"]["next"] = "on-call"
    nodes["on-call"] = {"type": "transfer", "number": doctor, "fallback": "after-hours-voicemail"}
    b = box(open_hours=False, overlay={"ivr": {"nodes": nodes}})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True, answer_code=486)  # the doctor's line is busy
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    pstn.wait_for("incoming", timeout=30)
    b.wait(lambda s: any(c["state"] == "voicemail" for c in s["calls"]), timeout=15, what="the caller in voicemail")
    time.sleep(2.5)  # greeting and beep
    caller.play(tone_wav, cid, loop=True)  # the patient leaves a message instead of being cut off
    time.sleep(3.0)
    caller.dtmf("#", cid)
    caller.wait_state("DISCONNECTED", cid, timeout=15)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "voicemail", b.tail()
    assert rec.ivr_path[-2:] == ["transfer-failed", "after-hours-voicemail"]
    assert b.rows("SELECT mailbox, caller FROM voicemail") == [("after-hours", A)]
